//! cgroup v2: the `cpu.max` file.

use super::parse_error::ParseLimitError;
use crate::limit::CpuQuota;

/// The v2 file holding `"$MAX $PERIOD"`.
pub(crate) const CPU_MAX: &str = "cpu.max";

const EXPECTED: &str = r#""max <period>" or "<quota> <period>", in positive whole microseconds"#;

/// Parses the contents of a cgroup v2 `cpu.max` file: `None` for
/// `"max <period>"` (no limit), the quota for `"<quota> <period>"`.
///
/// Surrounding whitespace (the kernel's trailing newline) is ignored; the
/// period must be present even when the quota is `max`.
///
/// # Errors
///
/// [`ParseLimitError`] when the contents are not two fields of that form or a
/// number is zero.
///
/// # Examples
///
/// ```
/// use goro::procs::parse_cpu_max;
///
/// assert_eq!(parse_cpu_max("max 100000\n").unwrap(), None);
/// let q = parse_cpu_max("150000 100000\n").unwrap().unwrap();
/// assert_eq!((q.quota_us(), q.period_us()), (150_000, 100_000));
/// assert!(parse_cpu_max("150000").is_err());
/// ```
pub fn parse_cpu_max(contents: &str) -> Result<Option<CpuQuota>, ParseLimitError> {
    let invalid = || ParseLimitError::new(CPU_MAX, contents, EXPECTED);
    let mut fields = contents.split_ascii_whitespace();
    let (Some(max), Some(period), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err(invalid());
    };
    let period = positive(period).ok_or_else(invalid)?;
    if max == "max" {
        return Ok(None);
    }
    let quota = positive(max).ok_or_else(invalid)?;
    Ok(CpuQuota::new(quota, period))
}

/// A positive decimal number of ASCII digits only (no sign).
pub(crate) fn positive(field: &str) -> Option<u64> {
    if !field.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    field.parse().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kernel_output() {
        assert_eq!(parse_cpu_max("max 100000\n"), Ok(None));
        assert_eq!(
            parse_cpu_max("50000 100000\n"),
            Ok(CpuQuota::new(50_000, 100_000))
        );
        assert_eq!(
            parse_cpu_max("  1000\t1000000 "),
            Ok(CpuQuota::new(1_000, 1_000_000))
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "\n",
            "max",
            "max max",
            "150000",
            "0 100000",
            "100000 0",
            "-1 100000",
            "+5 100000",
            "1.5 100000",
            "1 2 3",
            "MAX 100000",
            "99999999999999999999999 1",
        ] {
            let err = parse_cpu_max(bad).unwrap_err();
            assert_eq!(err.contents(), bad);
            assert!(err.to_string().starts_with("cpu.max holds"), "{err}");
        }
    }
}
