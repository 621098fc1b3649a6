//! [`MaxProcsError`]: an unusable `GORO_MAXPROCS` value.

use std::error::Error;
use std::fmt;

use crate::env::{ENV_VAR, MAX_PROCS};

/// Why a `GORO_MAXPROCS` value was rejected.
///
/// # Examples
///
/// ```
/// use goro::procs::{parse_env_value, InvalidValue};
///
/// let err = parse_env_value("0").unwrap_err();
/// assert_eq!(err.kind(), InvalidValue::Zero);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidValue {
    /// The variable is set but empty.
    Empty,
    /// Not a whole number written with digits only (signs, spaces, decimals and
    /// words are all rejected).
    NotANumber,
    /// `0`: a runtime needs at least one worker.
    Zero,
    /// Larger than [`MAX_PROCS`](crate::MAX_PROCS).
    TooLarge,
    /// The value is not valid Unicode (only [`detect`](crate::detect) can see this).
    NotUnicode,
}

/// The `GORO_MAXPROCS` environment variable holds a value that is not a whole
/// number from 1 to [`MAX_PROCS`](crate::MAX_PROCS).
///
/// goro refuses to guess in that case: a typo in an explicit setting should be
/// seen, not silently replaced by the automatic value.
///
/// # Examples
///
/// ```
/// use goro::procs::parse_env_value;
///
/// let err = parse_env_value("abc").unwrap_err();
/// assert_eq!(err.variable(), "GORO_MAXPROCS");
/// assert_eq!(err.value(), "abc");
/// assert_eq!(
///     err.to_string(),
///     r#"GORO_MAXPROCS="abc" is not valid: expected a whole number from 1 to 65536"#,
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxProcsError {
    value: String,
    kind: InvalidValue,
}

impl MaxProcsError {
    pub(crate) fn new(value: impl Into<String>, kind: InvalidValue) -> Self {
        MaxProcsError {
            value: value.into(),
            kind,
        }
    }

    /// The name of the environment variable: always `"GORO_MAXPROCS"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro::procs::parse_env_value("").unwrap_err();
    /// assert_eq!(err.variable(), goro::procs::ENV_VAR);
    /// ```
    pub fn variable(&self) -> &'static str {
        ENV_VAR
    }

    /// The rejected value, as set (lossily converted if it was not Unicode).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro::procs::parse_env_value(" 4").unwrap_err();
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
    /// use goro::procs::{parse_env_value, InvalidValue};
    ///
    /// assert_eq!(parse_env_value("100000").unwrap_err().kind(), InvalidValue::TooLarge);
    /// ```
    pub fn kind(&self) -> InvalidValue {
        self.kind
    }
}

impl fmt::Display for MaxProcsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ENV_VAR}={:?} is not valid: expected a whole number from 1 to {MAX_PROCS}",
            self.value
        )
    }
}

impl Error for MaxProcsError {}
