//! Directories: [`create_dir`], [`remove_dir`], [`remove_dir_all`] and
//! [`DirBuilder`] (with [`create_dir_all`](super::create_dir_all) in
//! `ops.rs`).

use std::fs;
use std::io;
use std::path::Path;

use super::on_path;

/// Creates a directory, like [`std::fs::create_dir`]: its parent must exist.
///
/// # Errors
///
/// The parent is missing, the path exists, or permission is denied; the
/// message names `create_dir` and the path.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let d = std::env::temp_dir().join(format!("goro-create-dir-doc-{}", std::process::id()));
/// block_on(goro::fs::create_dir(&d)).unwrap();
/// assert!(d.is_dir());
/// let err = block_on(goro::fs::create_dir(&d)).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
/// # std::fs::remove_dir(&d).unwrap();
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("create_dir", path.as_ref(), |p| fs::create_dir(p)).await
}

/// Removes an empty directory, like [`std::fs::remove_dir`].
///
/// # Errors
///
/// The directory does not exist, is not empty, or is not a directory.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let err = block_on(goro::fs::remove_dir("/no/such/dir")).unwrap_err();
/// assert!(err.to_string().starts_with("remove_dir /no/such/dir: "));
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("remove_dir", path.as_ref(), |p| fs::remove_dir(p)).await
}

/// Removes a directory and everything in it, like
/// [`std::fs::remove_dir_all`]. Symbolic links inside are removed, not
/// followed. The whole removal is one job on the blocking pool.
///
/// # Errors
///
/// The path does not exist or is not a directory, or something inside
/// cannot be removed.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let d = std::env::temp_dir().join(format!("goro-rmdir-all-doc-{}", std::process::id()));
/// std::fs::create_dir_all(d.join("a/b")).unwrap();
/// std::fs::write(d.join("a/b/f"), "x").unwrap();
/// block_on(goro::fs::remove_dir_all(&d)).unwrap();
/// assert!(!d.exists());
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("remove_dir_all", path.as_ref(), |p| fs::remove_dir_all(p)).await
}

/// Builds directories with options, like [`std::fs::DirBuilder`]:
/// [`recursive`](DirBuilder::recursive) and, on Unix,
/// [`mode`](DirBuilder::mode).
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let d = std::env::temp_dir().join(format!("goro-dirbuilder-doc-{}/x/y", std::process::id()));
/// block_on(goro::fs::DirBuilder::new().recursive(true).create(&d)).unwrap();
/// assert!(d.is_dir());
/// # std::fs::remove_dir_all(d.parent().unwrap().parent().unwrap()).unwrap();
/// ```
#[derive(Debug)]
pub struct DirBuilder {
    recursive: bool,
    #[cfg(unix)]
    mode: Option<u32>,
}

impl Default for DirBuilder {
    fn default() -> Self {
        DirBuilder::new()
    }
}

impl DirBuilder {
    /// A builder that creates one directory with the default mode.
    pub fn new() -> DirBuilder {
        DirBuilder {
            recursive: false,
            #[cfg(unix)]
            mode: None,
        }
    }

    /// Also creates missing parents (and does not fail if the directory
    /// exists), as [`create_dir_all`](super::create_dir_all).
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// The permission bits of new directories (before the umask), as
    /// `std::os::unix::fs::DirBuilderExt::mode`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use goro::block_on;
    ///
    /// let d = std::env::temp_dir().join(format!("goro-dirmode-doc-{}", std::process::id()));
    /// block_on(goro::fs::DirBuilder::new().mode(0o700).create(&d)).unwrap();
    /// assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
    /// # std::fs::remove_dir(&d).unwrap();
    /// ```
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = Some(mode);
        self
    }

    /// Creates the directory at `path` with these options.
    ///
    /// # Errors
    ///
    /// As [`create_dir`] (or [`create_dir_all`](super::create_dir_all) when
    /// recursive); the message names `create_dir` and the path.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let mut b = fs::DirBuilder::new();
        b.recursive(self.recursive);
        #[cfg(unix)]
        if let Some(mode) = self.mode {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(mode);
        }
        on_path("create_dir", path.as_ref(), move |p| b.create(p)).await
    }
}
