//! cgroup v1: the `cpu` controller's `cpu.cfs_quota_us` and `cpu.cfs_period_us`.

use super::parse_error::ParseLimitError;
use super::v2::positive;

/// The v1 file holding the quota per period, or `-1` for no limit.
pub(crate) const CFS_QUOTA_US: &str = "cpu.cfs_quota_us";
/// The v1 file holding the period.
pub(crate) const CFS_PERIOD_US: &str = "cpu.cfs_period_us";

/// Parses a cgroup v1 `cpu.cfs_quota_us` file: `None` for any negative value
/// (the kernel writes `-1` for "no limit"), else the quota in microseconds.
///
/// # Errors
///
/// [`ParseLimitError`] for anything but a whole number, or for `0`.
///
/// # Examples
///
/// ```
/// use goro::procs::parse_cfs_quota_us;
///
/// assert_eq!(parse_cfs_quota_us("-1\n").unwrap(), None);
/// assert_eq!(parse_cfs_quota_us("150000\n").unwrap(), Some(150_000));
/// assert!(parse_cfs_quota_us("0\n").is_err());
/// ```
pub fn parse_cfs_quota_us(contents: &str) -> Result<Option<u64>, ParseLimitError> {
    let field = contents.trim_ascii();
    if let Some(magnitude) = field.strip_prefix('-') {
        // Any negative number means "unlimited"; it still has to be a number.
        return match positive(magnitude) {
            Some(_) => Ok(None),
            None => Err(quota_error(contents)),
        };
    }
    positive(field)
        .map(Some)
        .ok_or_else(|| quota_error(contents))
}

/// Parses a cgroup v1 `cpu.cfs_period_us` file: the period in microseconds.
///
/// # Errors
///
/// [`ParseLimitError`] for anything but a positive whole number.
///
/// # Examples
///
/// ```
/// use goro::procs::parse_cfs_period_us;
///
/// assert_eq!(parse_cfs_period_us("100000\n").unwrap(), 100_000);
/// assert!(parse_cfs_period_us("0").is_err());
/// ```
pub fn parse_cfs_period_us(contents: &str) -> Result<u64, ParseLimitError> {
    positive(contents.trim_ascii()).ok_or_else(|| {
        ParseLimitError::new(
            CFS_PERIOD_US,
            contents,
            "a positive whole number of microseconds",
        )
    })
}

fn quota_error(contents: &str) -> ParseLimitError {
    ParseLimitError::new(
        CFS_QUOTA_US,
        contents,
        "a positive whole number of microseconds, or -1 for no limit",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_values() {
        assert_eq!(parse_cfs_quota_us("-1"), Ok(None));
        assert_eq!(parse_cfs_quota_us("-100\n"), Ok(None));
        assert_eq!(parse_cfs_quota_us(" 50000 \n"), Ok(Some(50_000)));
        for bad in ["", "0", "-0", "-", "--1", "+1", "1.5", "max", "1 2", "-x"] {
            assert_eq!(
                parse_cfs_quota_us(bad).unwrap_err().file(),
                CFS_QUOTA_US,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn period_values() {
        assert_eq!(parse_cfs_period_us("1000\n"), Ok(1_000));
        for bad in ["", "0", "-1", "abc", "1 2"] {
            assert_eq!(
                parse_cfs_period_us(bad).unwrap_err().file(),
                CFS_PERIOD_US,
                "{bad:?}"
            );
        }
    }
}
