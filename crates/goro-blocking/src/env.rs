//! Reading the thread cap from `GORO_MAX_BLOCKING_THREADS`: a pure parser
//! ([`parse_max_threads`]) and the wrapper that reads the environment
//! ([`max_threads_from_env`]).

use crate::error::{InvalidValue, MaxThreadsError};

/// The environment variable that sets the default pool's thread cap.
///
/// # Examples
///
/// ```
/// assert_eq!(goro_blocking::ENV_VAR, "GORO_MAX_BLOCKING_THREADS");
/// ```
pub const ENV_VAR: &str = "GORO_MAX_BLOCKING_THREADS";

/// The largest cap [`ENV_VAR`] accepts: Go's default `debug.SetMaxThreads`,
/// past which a process is in trouble anyway.
///
/// # Examples
///
/// ```
/// assert!(goro_blocking::parse_max_threads("10000").is_ok());
/// assert!(goro_blocking::parse_max_threads("10001").is_err());
/// # assert_eq!(goro_blocking::MAX_THREADS_LIMIT, 10_000);
/// ```
pub const MAX_THREADS_LIMIT: usize = 10_000;

/// Parses a `GORO_MAX_BLOCKING_THREADS` value: a whole number from 1 to
/// [`MAX_THREADS_LIMIT`], digits only (no sign, no spaces).
///
/// # Errors
///
/// A [`MaxThreadsError`] naming the variable, the value and what is allowed.
///
/// # Examples
///
/// ```
/// use goro_blocking::parse_max_threads;
///
/// assert_eq!(parse_max_threads("64"), Ok(64));
/// let err = parse_max_threads("-1").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"GORO_MAX_BLOCKING_THREADS="-1" is not valid: expected a whole number from 1 to 10000"#,
/// );
/// ```
pub fn parse_max_threads(value: &str) -> Result<usize, MaxThreadsError> {
    let reject = |kind| Err(MaxThreadsError::new(value, kind));
    if value.is_empty() {
        return reject(InvalidValue::Empty);
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return reject(InvalidValue::NotANumber);
    }
    // All digits: the only way `parse` fails now is overflow.
    match value.parse::<usize>() {
        Ok(0) => reject(InvalidValue::Zero),
        Ok(n) if n <= MAX_THREADS_LIMIT => Ok(n),
        _ => reject(InvalidValue::TooLarge),
    }
}

/// Reads [`ENV_VAR`]: `Ok(None)` when it is unset, `Ok(Some(cap))` when it
/// holds a valid cap.
///
/// # Errors
///
/// A [`MaxThreadsError`] when the variable is set to anything else,
/// non-Unicode bytes included.
///
/// # Examples
///
/// ```
/// // Whatever the environment holds, a valid value is within bounds.
/// if let Ok(Some(n)) = goro_blocking::max_threads_from_env() {
///     assert!((1..=goro_blocking::MAX_THREADS_LIMIT).contains(&n));
/// }
/// ```
pub fn max_threads_from_env() -> Result<Option<usize>, MaxThreadsError> {
    match std::env::var_os(ENV_VAR) {
        None => Ok(None),
        Some(raw) => match raw.to_str() {
            Some(s) => parse_max_threads(s).map(Some),
            None => Err(MaxThreadsError::new(
                raw.to_string_lossy(),
                InvalidValue::NotUnicode,
            )),
        },
    }
}
