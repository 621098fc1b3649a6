//! [`MaxThreadsError`]: an unusable `GORO_MAX_BLOCKING_THREADS` value.

use std::error::Error;
use std::fmt;

use crate::env::{ENV_VAR, MAX_THREADS_LIMIT};

/// What is wrong with a rejected `GORO_MAX_BLOCKING_THREADS` value.
///
/// # Examples
///
/// ```
/// use goro_blocking::{parse_max_threads, InvalidValue};
///
/// assert_eq!(parse_max_threads("0").unwrap_err().kind(), InvalidValue::Zero);
/// assert_eq!(parse_max_threads("-3").unwrap_err().kind(), InvalidValue::NotANumber);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidValue {
    /// The variable is set but empty.
    Empty,
    /// Not a whole number written with digits only (signs, spaces, decimals
    /// and words are all rejected).
    NotANumber,
    /// `0`: the pool needs at least one thread to make progress.
    Zero,
    /// Larger than [`MAX_THREADS_LIMIT`].
    TooLarge,
    /// The value is not valid Unicode.
    NotUnicode,
}

/// The `GORO_MAX_BLOCKING_THREADS` environment variable holds a value that is
/// not a whole number from 1 to [`MAX_THREADS_LIMIT`].
///
/// goro does not guess in that case: a typo in an explicit limit should be
/// seen, not silently replaced by the default.
///
/// # Examples
///
/// ```
/// let err = goro_blocking::parse_max_threads("abc").unwrap_err();
/// assert_eq!(err.variable(), "GORO_MAX_BLOCKING_THREADS");
/// assert_eq!(err.value(), "abc");
/// assert_eq!(
///     err.to_string(),
///     r#"GORO_MAX_BLOCKING_THREADS="abc" is not valid: expected a whole number from 1 to 10000"#,
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxThreadsError {
    value: String,
    kind: InvalidValue,
}

impl MaxThreadsError {
    pub(crate) fn new(value: impl Into<String>, kind: InvalidValue) -> Self {
        MaxThreadsError {
            value: value.into(),
            kind,
        }
    }

    /// The name of the environment variable: always [`ENV_VAR`](crate::ENV_VAR).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro_blocking::parse_max_threads("").unwrap_err();
    /// assert_eq!(err.variable(), goro_blocking::ENV_VAR);
    /// ```
    pub fn variable(&self) -> &'static str {
        ENV_VAR
    }

    /// The rejected value, as set (lossily converted if it was not Unicode).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro_blocking::parse_max_threads(" 4").unwrap_err();
    /// assert_eq!(err.value(), " 4");
    /// ```
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What is wrong with the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro_blocking::{parse_max_threads, InvalidValue};
    ///
    /// assert_eq!(parse_max_threads("10001").unwrap_err().kind(), InvalidValue::TooLarge);
    /// ```
    pub fn kind(&self) -> InvalidValue {
        self.kind
    }
}

impl fmt::Display for MaxThreadsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ENV_VAR}={:?} is not valid: expected a whole number from 1 to {MAX_THREADS_LIMIT}",
            self.value
        )
    }
}

impl Error for MaxThreadsError {}
