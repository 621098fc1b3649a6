//! `GORO_MAXPROCS`: the explicit setting that overrides detection.

use std::ffi::OsString;

use crate::error::{InvalidValue, MaxProcsError};

/// The environment variable that sets maxprocs explicitly, like Go's `GOMAXPROCS`.
///
/// # Examples
///
/// ```
/// assert_eq!(goro::procs::ENV_VAR, "GORO_MAXPROCS");
/// ```
pub const ENV_VAR: &str = "GORO_MAXPROCS";

/// The largest value accepted from [`ENV_VAR`]: 65536 workers.
///
/// Anything above this is almost certainly a mistake (an extra digit, a byte
/// count) and each worker costs a thread, so it is rejected rather than clamped.
///
/// # Examples
///
/// ```
/// use goro::procs::{parse_env_value, MAX_PROCS};
///
/// assert_eq!(parse_env_value("65536").unwrap(), MAX_PROCS);
/// assert!(parse_env_value("65537").is_err());
/// ```
pub const MAX_PROCS: usize = 64 * 1024;

/// Parses a `GORO_MAXPROCS` value: a whole number from 1 to [`MAX_PROCS`],
/// written with ASCII digits only.
///
/// Leading zeros are allowed (`"08"` is 8); signs, surrounding whitespace,
/// decimals, and the empty string are not.
///
/// # Errors
///
/// [`MaxProcsError`] naming the variable, the value and what is allowed.
///
/// # Examples
///
/// ```
/// use goro::procs::parse_env_value;
///
/// assert_eq!(parse_env_value("4").unwrap(), 4);
/// assert!(parse_env_value("0").is_err());
/// assert!(parse_env_value("-1").is_err());
/// assert!(parse_env_value("4 ").is_err());
/// assert!(parse_env_value("1.5").is_err());
/// ```
pub fn parse_env_value(value: &str) -> Result<usize, MaxProcsError> {
    let invalid = |kind| MaxProcsError::new(value, kind);
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
        n if n > MAX_PROCS => Err(invalid(InvalidValue::TooLarge)),
        n => Ok(n),
    }
}

/// Reads [`ENV_VAR`] from the process environment: `None` when it is unset.
///
/// A value that is not Unicode becomes an error here, since
/// [`parse_env_value`] only sees `&str`.
pub(crate) fn read_process_env() -> Result<Option<String>, MaxProcsError> {
    match std::env::var_os(ENV_VAR) {
        None => Ok(None),
        Some(value) => os_to_string(value).map(Some),
    }
}

fn os_to_string(value: OsString) -> Result<String, MaxProcsError> {
    value.into_string().map_err(|raw| {
        MaxProcsError::new(raw.to_string_lossy().into_owned(), InvalidValue::NotUnicode)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_whole_range() {
        assert_eq!(parse_env_value("1"), Ok(1));
        assert_eq!(parse_env_value("007"), Ok(7));
        assert_eq!(parse_env_value("65536"), Ok(MAX_PROCS));
    }

    #[test]
    fn overflowing_numbers_are_too_large() {
        let huge = "9".repeat(40);
        assert_eq!(
            parse_env_value(&huge).unwrap_err().kind(),
            InvalidValue::TooLarge
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_unicode_values_are_reported_lossily() {
        use std::os::unix::ffi::OsStringExt;
        let err = os_to_string(OsString::from_vec(vec![b'4', 0xff])).unwrap_err();
        assert_eq!(err.kind(), InvalidValue::NotUnicode);
        assert_eq!(err.value(), "4\u{fffd}");
    }
}
