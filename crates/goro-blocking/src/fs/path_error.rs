//! [`PathError`]: an I/O error that remembers the operation and the path.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The payload of every error [`goro_blocking::fs`](crate::fs) returns: the
/// operation, the path(s), and the underlying error.
///
/// The returned [`io::Error`] keeps the underlying [`io::ErrorKind`]; its
/// message reads `"<operation> <path>: <underlying error>"`, and
/// [`Error::source`] on it gives the underlying error.
///
/// # Examples
///
/// ```
/// use goro::block_on;
/// use goro::fs::{self, PathError};
///
/// let err = block_on(fs::File::open("/no/such/file")).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().starts_with("open /no/such/file: "));
///
/// let detail = err.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
/// assert_eq!(detail.operation(), "open");
/// assert_eq!(detail.path(), std::path::Path::new("/no/such/file"));
/// assert_eq!(detail.io_error().raw_os_error(), Some(2));
/// ```
#[derive(Debug)]
pub struct PathError {
    op: &'static str,
    path: PathBuf,
    to: Option<PathBuf>,
    source: io::Error,
}

impl PathError {
    /// The operation that failed, named after the function (`"open"`,
    /// `"read_dir"`, …).
    ///
    /// # Examples
    ///
    /// ```
    /// # use goro::block_on;
    /// # use goro::fs::{self, PathError};
    /// let err = block_on(fs::remove_file("/no/such/file")).unwrap_err();
    /// let detail = err.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
    /// assert_eq!(detail.operation(), "remove_file");
    /// ```
    pub fn operation(&self) -> &'static str {
        self.op
    }

    /// The path the operation was given (for `copy`, the source).
    ///
    /// # Examples
    ///
    /// ```
    /// # use goro::block_on;
    /// # use goro::fs::{self, PathError};
    /// let err = block_on(fs::metadata("/no/such/file")).unwrap_err();
    /// let detail = err.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
    /// assert_eq!(detail.path(), std::path::Path::new("/no/such/file"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The error the operating system (or `std`) reported.
    ///
    /// # Examples
    ///
    /// ```
    /// # use goro::block_on;
    /// # use goro::fs::{self, PathError};
    /// let err = block_on(fs::read("/no/such/file")).unwrap_err();
    /// let detail = err.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
    /// assert_eq!(detail.io_error().kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.to {
            None => write!(f, "{} {}: {}", self.op, self.path.display(), self.source),
            Some(to) => write!(
                f,
                "{} {} to {}: {}",
                self.op,
                self.path.display(),
                to.display(),
                self.source
            ),
        }
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `e` so its message names `op` and `path`; the kind is kept.
pub(crate) fn with_path(op: &'static str, path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        PathError {
            op,
            path: path.to_path_buf(),
            to: None,
            source: e,
        },
    )
}

/// As [`with_path`], for two-path operations.
pub(crate) fn with_paths(op: &'static str, from: &Path, to: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        PathError {
            op,
            path: from.to_path_buf(),
            to: Some(to.to_path_buf()),
            source: e,
        },
    )
}
