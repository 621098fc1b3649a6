//! Reading the thread cap from `GORO_MAX_BLOCKING_THREADS`: a pure parser
//! ([`parse_max_threads`]) and the wrapper that reads the environment
//! ([`max_threads_from_env`]).

use crate::MaxThreadsError;

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
    goro_procs::parse_env_count(ENV_VAR, value, MAX_THREADS_LIMIT)
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
    goro_procs::read_env_var(ENV_VAR, MAX_THREADS_LIMIT)?
        .map(|value| parse_max_threads(&value))
        .transpose()
}
