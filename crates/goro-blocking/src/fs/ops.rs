//! The free functions of [`crate::fs`], each one pool job.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use super::path_error::{with_path, with_paths};
use super::{on_path, on_paths, run};

/// Reads a whole file, like [`std::fs::read`].
///
/// # Errors
///
/// Opening or reading fails; the message names `open` or `read` and the path.
///
/// # Examples
///
/// ```
/// let bytes = goro::block_on(goro::fs::read("Cargo.toml")).unwrap();
/// assert!(!bytes.is_empty());
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_path_buf();
    run(move || {
        let mut f = fs::File::open(&path).map_err(|e| with_path("open", &path, e))?;
        let mut v = Vec::new();
        f.read_to_end(&mut v)
            .map_err(|e| with_path("read", &path, e))?;
        Ok(v)
    })
    .await
}

/// Reads a whole UTF-8 file, like [`std::fs::read_to_string`].
///
/// # Errors
///
/// Opening or reading fails, or the contents are not UTF-8
/// ([`io::ErrorKind::InvalidData`]).
///
/// # Examples
///
/// ```
/// let text = goro::block_on(goro::fs::read_to_string("Cargo.toml"));
/// assert!(text.unwrap().contains("[package]"));
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_path_buf();
    run(move || {
        let mut f = fs::File::open(&path).map_err(|e| with_path("open", &path, e))?;
        let mut s = String::new();
        f.read_to_string(&mut s)
            .map_err(|e| with_path("read", &path, e))?;
        Ok(s)
    })
    .await
}

/// Creates or truncates a file and writes `contents`, like
/// [`std::fs::write`].
///
/// # Errors
///
/// Creating or writing fails; the message names `create` or `write` and the
/// path.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let p = std::env::temp_dir().join(format!("goro-write-doc-{}", std::process::id()));
/// block_on(goro::fs::write(&p, b"42")).unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"42");
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    let contents = contents.as_ref().to_vec();
    run(move || {
        let mut f = fs::File::create(&path).map_err(|e| with_path("create", &path, e))?;
        f.write_all(&contents)
            .map_err(|e| with_path("write", &path, e))
    })
    .await
}

/// Copies a file's contents and permissions, like [`std::fs::copy`];
/// returns the number of bytes copied.
///
/// # Errors
///
/// The copy fails; the message names both paths (`copy <from> to <to>: …`).
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let to = std::env::temp_dir().join(format!("goro-copy-doc-{}", std::process::id()));
/// let n = block_on(goro::fs::copy("Cargo.toml", &to)).unwrap();
/// assert_eq!(n, std::fs::metadata("Cargo.toml").unwrap().len());
/// # std::fs::remove_file(&to).unwrap();
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let from = from.as_ref().to_path_buf();
    let to = to.as_ref().to_path_buf();
    run(move || fs::copy(&from, &to).map_err(|e| with_paths("copy", &from, &to, e))).await
}

/// Creates a directory and its missing parents, like
/// [`std::fs::create_dir_all`].
///
/// # Errors
///
/// A directory cannot be created (for instance a parent is a file).
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let d = std::env::temp_dir().join(format!("goro-mkdir-doc-{}/a/b", std::process::id()));
/// block_on(goro::fs::create_dir_all(&d)).unwrap();
/// assert!(d.is_dir());
/// # std::fs::remove_dir_all(d.parent().unwrap().parent().unwrap()).unwrap();
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    run(move || fs::create_dir_all(&path).map_err(|e| with_path("create_dir_all", &path, e))).await
}

/// Removes a file, like [`std::fs::remove_file`].
///
/// # Errors
///
/// The file does not exist, is a directory, or cannot be removed.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let err = block_on(goro::fs::remove_file("/no/such/file")).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().starts_with("remove_file /no/such/file: "));
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    run(move || fs::remove_file(&path).map_err(|e| with_path("remove_file", &path, e))).await
}

/// A path's metadata, following symbolic links, like [`std::fs::metadata`].
///
/// # Errors
///
/// The path does not exist or cannot be examined.
///
/// # Examples
///
/// ```
/// let m = goro::block_on(goro::fs::metadata("Cargo.toml")).unwrap();
/// assert!(m.is_file());
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<fs::Metadata> {
    let path = path.as_ref().to_path_buf();
    run(move || fs::metadata(&path).map_err(|e| with_path("metadata", &path, e))).await
}

/// Renames or moves a file or directory, replacing `to` if it is a file,
/// like [`std::fs::rename`].
///
/// # Errors
///
/// `from` does not exist, `to` is on another file system, or a directory
/// would replace a file; the message names `rename` and both paths.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let d = std::env::temp_dir().join(format!("goro-rename-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&d).unwrap();
/// std::fs::write(d.join("old"), "x").unwrap();
/// block_on(goro::fs::rename(d.join("old"), d.join("new"))).unwrap();
/// assert!(d.join("new").exists() && !d.join("old").exists());
/// let err = block_on(goro::fs::rename(d.join("old"), d.join("newer"))).unwrap_err();
/// let (old, newer) = (d.join("old"), d.join("newer"));
/// let msg = format!("rename {} to {}: ", old.display(), newer.display());
/// assert!(err.to_string().starts_with(&msg), "{err}");
/// # std::fs::remove_dir_all(&d).unwrap();
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    on_paths("rename", from.as_ref(), to.as_ref(), |a, b| {
        fs::rename(a, b)
    })
    .await
}

/// Sets a path's permissions, like [`std::fs::set_permissions`].
///
/// # Errors
///
/// The path does not exist or its permissions cannot be changed.
///
/// # Examples
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// use goro::block_on;
///
/// let p = std::env::temp_dir().join(format!("goro-chmod-doc-{}", std::process::id()));
/// std::fs::write(&p, "x").unwrap();
/// block_on(goro::fs::set_permissions(&p, goro::fs::Permissions::from_mode(0o600))).unwrap();
/// assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, perm: fs::Permissions) -> io::Result<()> {
    on_path("set_permissions", path.as_ref(), move |p| {
        fs::set_permissions(p, perm)
    })
    .await
}

/// Whether the path exists, following links, like [`std::fs::exists`]
/// (`Path::try_exists`): `Ok(false)` for a missing path or a dangling
/// link, an error when it cannot be told (permission denied).
///
/// # Errors
///
/// The existence cannot be checked.
///
/// # Examples
///
/// ```
/// assert!(goro::block_on(goro::fs::try_exists("Cargo.toml")).unwrap());
/// assert!(!goro::block_on(goro::fs::try_exists("/no/such/file")).unwrap());
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_path("try_exists", path.as_ref(), |p| p.try_exists()).await
}

/// The same as [`try_exists`], under `std::fs`'s name.
///
/// # Errors
///
/// The existence cannot be checked.
///
/// # Examples
///
/// ```
/// assert!(goro::block_on(goro::fs::exists("Cargo.toml")).unwrap());
/// ```
pub async fn exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_path("exists", path.as_ref(), |p| p.try_exists()).await
}
