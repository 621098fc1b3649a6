//! Async file system access, mirroring [`std::fs`] as `tokio::fs` does:
//! each call runs on the blocking pool.
//!
//! | `std::fs` | here |
//! |---|---|
//! | `read`, `read_to_string`, `write`, `copy` | the same names, `async` |
//! | `create_dir`, `create_dir_all`, `remove_dir`, `remove_dir_all`, `DirBuilder` | the same |
//! | `remove_file`, `rename`, `hard_link`, `os::unix::fs::symlink` | [`remove_file`], [`rename`], [`hard_link`], [`symlink`] |
//! | `metadata`, `symlink_metadata`, `set_permissions`, `exists`, `Path::try_exists` | the same, and [`try_exists`] |
//! | `read_link`, `canonicalize` | the same |
//! | `read_dir` | [`read_dir`]: a [`Stream`](futures_lite::Stream) of [`DirEntry`] |
//! | `File`, `OpenOptions` | [`File`] (`AsyncRead`, `AsyncWrite`, `AsyncSeek`), [`OpenOptions`] |
//! | `Metadata`, `Permissions`, `FileType`, `DirEntry` | `std`'s, re-exported |
//!
//! Every error keeps the operation and the path: its message reads like
//! `open /tmp/x/missing.txt: No such file or directory (os error 2)`, its
//! [`ErrorKind`](std::io::ErrorKind) is the original one, and its payload is
//! a [`PathError`].
//!
//! # Examples
//!
//! ```
//! use goro::block_on;
//! use goro::fs;
//!
//! block_on(async {
//!     let dir = std::env::temp_dir().join(format!("goro-fs-doc-{}", std::process::id()));
//!     fs::create_dir_all(&dir).await?;
//!     let file = dir.join("hello.txt");
//!     fs::write(&file, "hello").await?;
//!     assert_eq!(fs::read_to_string(&file).await?, "hello");
//!     fs::remove_file(&file).await?;
//!     std::fs::remove_dir(&dir)
//! })
//! .unwrap();
//! ```

mod dirs;
mod file;
mod links;
mod open_options;
mod ops;
mod path_error;
mod read_dir;

pub use dirs::{DirBuilder, create_dir, remove_dir, remove_dir_all};
pub use file::File;
#[cfg(unix)]
pub use links::symlink;
pub use links::{canonicalize, hard_link, read_link, symlink_metadata};
pub use open_options::OpenOptions;
pub use ops::{
    copy, create_dir_all, exists, metadata, read, read_to_string, remove_file, rename,
    set_permissions, try_exists, write,
};
pub use path_error::PathError;
pub use read_dir::{ReadDir, read_dir};
pub use std::fs::{DirEntry, FileType, Metadata, Permissions};

use std::io;
use std::panic::resume_unwind;
use std::path::Path;

use path_error::{with_path, with_paths};

/// Runs `f(path)` on the pool; an error names `op` and the path.
async fn on_path<T: Send + 'static>(
    op: &'static str,
    path: &Path,
    f: impl FnOnce(&Path) -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let path = path.to_path_buf();
    run(move || f(&path).map_err(|e| with_path(op, &path, e))).await
}

/// Runs `f(from, to)` on the pool; an error names `op` and both paths.
async fn on_paths<T: Send + 'static>(
    op: &'static str,
    from: &Path,
    to: &Path,
    f: impl FnOnce(&Path, &Path) -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    run(move || f(&from, &to).map_err(|e| with_paths(op, &from, &to, e))).await
}

/// Runs `f` on the global pool and returns its result, re-raising a panic.
pub(crate) async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match crate::unblock(f).await {
        Ok(v) => v,
        Err(e) => match e.try_into_panic() {
            Ok(payload) => resume_unwind(payload),
            Err(e) => panic!("goro-blocking: a file system job was cancelled: {e}"),
        },
    }
}
