//! [`EnvCountError`]: an unusable count in an environment variable, such
//! as `GORO_MAXPROCS` ([`MaxProcsError`]) or the blocking pool's
//! `GORO_MAX_BLOCKING_THREADS`.

use std::error::Error;
use std::ffi::OsString;
use std::fmt;

/// What is wrong with a rejected count (`GORO_MAXPROCS`,
/// `GORO_MAX_BLOCKING_THREADS`).
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
    /// `0`: a runtime needs at least one worker, a pool one thread.
    Zero,
    /// Larger than the variable's maximum ([`EnvCountError::max`]).
    TooLarge,
    /// The value is not valid Unicode (only the functions that read the
    /// environment can see this).
    NotUnicode,
}

/// An environment variable holds a value that is not a whole number from 1
/// to its maximum.
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
pub struct EnvCountError {
    variable: &'static str,
    value: String,
    kind: InvalidValue,
    max: usize,
}

/// An unusable `GORO_MAXPROCS` value, from [`parse_env_value`](crate::parse_env_value)
/// or [`detect`](crate::detect).
pub type MaxProcsError = EnvCountError;

impl EnvCountError {
    pub(crate) fn new(
        variable: &'static str,
        value: impl Into<String>,
        kind: InvalidValue,
        max: usize,
    ) -> Self {
        EnvCountError {
            variable,
            value: value.into(),
            kind,
            max,
        }
    }

    /// The name of the environment variable.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro::procs::parse_env_value("").unwrap_err();
    /// assert_eq!(err.variable(), goro::procs::ENV_VAR);
    /// ```
    pub fn variable(&self) -> &'static str {
        self.variable
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

    /// The largest value the variable takes.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro::procs::parse_env_value("0").unwrap_err();
    /// assert_eq!(err.max(), goro::procs::MAX_PROCS);
    /// ```
    pub fn max(&self) -> usize {
        self.max
    }
}

impl fmt::Display for EnvCountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?} is not valid: expected a whole number from 1 to {}",
            self.variable, self.value, self.max
        )
    }
}

impl Error for EnvCountError {}

/// Parses `value`, the value of the environment variable `variable`, as a
/// whole number from 1 to `max`, written with ASCII digits only.
///
/// # Errors
/// An [`EnvCountError`] naming the variable, the value and what is wrong.
///
/// # Examples
///
/// ```
/// use goro::procs::{parse_env_count, InvalidValue};
///
/// assert_eq!(parse_env_count("MY_THREADS", "12", 100), Ok(12));
/// let err = parse_env_count("MY_THREADS", "+1", 100).unwrap_err();
/// assert_eq!(err.kind(), InvalidValue::NotANumber);
/// assert_eq!(err.to_string(), r#"MY_THREADS="+1" is not valid: expected a whole number from 1 to 100"#);
/// ```
pub fn parse_env_count(
    variable: &'static str,
    value: &str,
    max: usize,
) -> Result<usize, EnvCountError> {
    let invalid = |kind| EnvCountError::new(variable, value, kind, max);
    if value.is_empty() {
        return Err(invalid(InvalidValue::Empty));
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(InvalidValue::NotANumber));
    }
    // Only digits are left, so the sole possible parse failure is overflow.
    let n: usize = value.parse().map_err(|_| invalid(InvalidValue::TooLarge))?;
    match n {
        0 => Err(invalid(InvalidValue::Zero)),
        n if n > max => Err(invalid(InvalidValue::TooLarge)),
        n => Ok(n),
    }
}

/// Reads the environment variable `variable` as a string: `None` when it
/// is unset, an [`EnvCountError`] of kind [`InvalidValue::NotUnicode`] when
/// it is not Unicode. [`parse_env_count`] then checks the value.
///
/// # Errors
/// As said above.
///
/// # Examples
///
/// ```
/// // Unset: no value and no error.
/// assert_eq!(goro::procs::read_env_var("GORO_DOC_EXAMPLE_UNSET", 8), Ok(None));
/// ```
pub fn read_env_var(variable: &'static str, max: usize) -> Result<Option<String>, EnvCountError> {
    std::env::var_os(variable)
        .map(|value| env_string(variable, value, max))
        .transpose()
}

/// `value` as a string, or the error that names it lossily.
pub(crate) fn env_string(
    variable: &'static str,
    value: OsString,
    max: usize,
) -> Result<String, EnvCountError> {
    value.into_string().map_err(|raw| {
        EnvCountError::new(
            variable,
            raw.to_string_lossy().into_owned(),
            InvalidValue::NotUnicode,
            max,
        )
    })
}
