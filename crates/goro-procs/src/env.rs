//! `GORO_MAXPROCS`: the explicit setting that overrides detection.

use crate::error::{MaxProcsError, parse_env_count, read_env_var};

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
    parse_env_count(ENV_VAR, value, MAX_PROCS)
}

/// `GORO_MAXPROCS` as set, if it is.
pub(crate) fn read_process_env() -> Result<Option<String>, MaxProcsError> {
    read_env_var(ENV_VAR, MAX_PROCS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InvalidValue;

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
        let raw = std::ffi::OsString::from_vec(vec![b'4', 0xff]);
        let err = crate::error::env_string(ENV_VAR, raw, MAX_PROCS).unwrap_err();
        assert_eq!(err.kind(), InvalidValue::NotUnicode);
        assert_eq!(err.value(), "4\u{fffd}");
    }
}
