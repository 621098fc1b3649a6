//! [`ParseLimitError`]: a cgroup CPU limit file with unexpected contents.

use std::error::Error;
use std::fmt;

/// A cgroup CPU limit file (`cpu.max`, `cpu.cfs_quota_us` or
/// `cpu.cfs_period_us`) does not hold what the kernel writes there.
///
/// Detection never fails because of this: it falls back and records the
/// message in [`Source::Fallback`](crate::Source::Fallback).
///
/// # Examples
///
/// ```
/// use goro::procs::parse_cpu_max;
///
/// let err = parse_cpu_max("1.5 100000\n").unwrap_err();
/// assert_eq!(err.file(), "cpu.max");
/// assert_eq!(err.contents(), "1.5 100000\n");
/// assert_eq!(
///     err.to_string(),
///     r#"cpu.max holds "1.5 100000\n": expected "max <period>" or "<quota> <period>", in positive whole microseconds"#,
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLimitError {
    file: &'static str,
    contents: String,
    expected: &'static str,
}

impl ParseLimitError {
    pub(crate) fn new(file: &'static str, contents: &str, expected: &'static str) -> Self {
        ParseLimitError {
            file,
            contents: contents.to_owned(),
            expected,
        }
    }

    /// The name of the file, e.g. `"cpu.max"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro::procs::parse_cfs_period_us("").unwrap_err();
    /// assert_eq!(err.file(), "cpu.cfs_period_us");
    /// ```
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The contents that were rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro::procs::parse_cfs_quota_us("lots").unwrap_err();
    /// assert_eq!(err.contents(), "lots");
    /// ```
    pub fn contents(&self) -> &str {
        &self.contents
    }
}

impl fmt::Display for ParseLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} holds {:?}: expected {}",
            self.file, self.contents, self.expected
        )
    }
}

impl Error for ParseLimitError {}
