//! [`MaxThreadsError`]: an unusable `GORO_MAX_BLOCKING_THREADS` value.
//!
//! The error type and the parsing are goro-procs', shared with
//! `GORO_MAXPROCS`, so both variables reject the same values with the same
//! words.

/// An unusable `GORO_MAX_BLOCKING_THREADS` value: not a whole number from 1
/// to [`MAX_THREADS_LIMIT`](crate::MAX_THREADS_LIMIT).
///
/// goro does not guess in that case: a typo in an explicit limit should be
/// seen, not silently replaced by the default.
///
/// # Examples
///
/// ```
/// use goro_blocking::{parse_max_threads, InvalidValue};
///
/// let err = goro_blocking::parse_max_threads("abc").unwrap_err();
/// assert_eq!(err.variable(), "GORO_MAX_BLOCKING_THREADS");
/// assert_eq!(err.value(), "abc");
/// assert_eq!(err.kind(), InvalidValue::NotANumber);
/// assert_eq!(parse_max_threads("0").unwrap_err().kind(), InvalidValue::Zero);
/// assert_eq!(
///     err.to_string(),
///     r#"GORO_MAX_BLOCKING_THREADS="abc" is not valid: expected a whole number from 1 to 10000"#,
/// );
/// ```
pub type MaxThreadsError = goro_procs::EnvCountError;

pub use goro_procs::InvalidValue;
