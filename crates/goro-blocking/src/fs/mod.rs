//! Async file system access, mirroring [`std::fs`]: each call runs on the
//! blocking pool.
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

mod file;
mod ops;
mod path_error;
mod read_dir;

pub use file::File;
pub use ops::{copy, create_dir_all, metadata, read, read_to_string, remove_file, write};
pub use path_error::PathError;
pub use read_dir::{ReadDir, read_dir};

use std::panic::resume_unwind;

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
