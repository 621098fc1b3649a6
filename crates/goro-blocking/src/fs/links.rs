//! Links and resolved paths: [`hard_link`], [`symlink`], [`read_link`],
//! [`canonicalize`] and [`symlink_metadata`].

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{on_path, on_paths};

/// Makes `link` a new name for the file `original`, like
/// [`std::fs::hard_link`].
///
/// # Errors
///
/// `original` does not exist, `link` exists, or they are on different file
/// systems; the message names `hard_link` and both paths.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let d = std::env::temp_dir().join(format!("goro-hardlink-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&d).unwrap();
/// std::fs::write(d.join("a"), "same").unwrap();
/// block_on(goro::fs::hard_link(d.join("a"), d.join("b"))).unwrap();
/// assert_eq!(std::fs::read_to_string(d.join("b")).unwrap(), "same");
/// # std::fs::remove_dir_all(&d).unwrap();
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths("hard_link", original.as_ref(), link.as_ref(), |a, b| {
        fs::hard_link(a, b)
    })
    .await
}

/// Makes `link` a symbolic link to `original`, like
/// `std::os::unix::fs::symlink` (Unix only, as `tokio::fs::symlink`).
/// `original` need not exist.
///
/// # Errors
///
/// `link` exists or cannot be created; the message names `symlink` and both
/// paths.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let l = std::env::temp_dir().join(format!("goro-symlink-doc-{}", std::process::id()));
/// block_on(goro::fs::symlink("/etc/hostname", &l)).unwrap();
/// assert_eq!(block_on(goro::fs::read_link(&l)).unwrap(), std::path::Path::new("/etc/hostname"));
/// # std::fs::remove_file(&l).unwrap();
/// ```
#[cfg(unix)]
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths("symlink", original.as_ref(), link.as_ref(), |a, b| {
        std::os::unix::fs::symlink(a, b)
    })
    .await
}

/// The target of a symbolic link, like [`std::fs::read_link`].
///
/// # Errors
///
/// The path does not exist or is not a symbolic link.
///
/// # Examples
///
/// ```
/// let err = goro::block_on(goro::fs::read_link("Cargo.toml")).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput); // not a link
/// assert!(err.to_string().starts_with("read_link Cargo.toml: "));
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path("read_link", path.as_ref(), |p| fs::read_link(p)).await
}

/// The absolute path with every link and `.`/`..` resolved, like
/// [`std::fs::canonicalize`].
///
/// # Errors
///
/// The path, or a component of it, does not exist.
///
/// # Examples
///
/// ```
/// let p = goro::block_on(goro::fs::canonicalize("./Cargo.toml")).unwrap();
/// assert!(p.is_absolute());
/// assert!(p.ends_with("Cargo.toml"));
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path("canonicalize", path.as_ref(), |p| fs::canonicalize(p)).await
}

/// A path's metadata without following a final symbolic link, like
/// [`std::fs::symlink_metadata`].
///
/// # Errors
///
/// The path does not exist or cannot be examined.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let l = std::env::temp_dir().join(format!("goro-lstat-doc-{}", std::process::id()));
/// std::os::unix::fs::symlink("/no/such/target", &l).unwrap();
/// let m = block_on(goro::fs::symlink_metadata(&l)).unwrap();
/// assert!(m.file_type().is_symlink()); // the link itself, though it dangles
/// # std::fs::remove_file(&l).unwrap();
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<fs::Metadata> {
    on_path("symlink_metadata", path.as_ref(), |p| {
        fs::symlink_metadata(p)
    })
    .await
}
