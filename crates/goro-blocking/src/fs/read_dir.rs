//! [`read_dir`] and its [`ReadDir`] stream.

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::Stream;

use super::path_error::with_path;
use super::run;
use crate::unblock::Unblock;

/// Opens a directory for listing, like [`std::fs::read_dir`]. The listing
/// is a [`Stream`] of entries, read on the pool as they are consumed, so a
/// huge directory is not held in memory at once. Collect it
/// (`StreamExt::collect`) for a `Vec`.
///
/// # Errors
///
/// The path does not exist or is not a directory; entries that cannot be
/// read come out of the stream as errors naming the directory.
///
/// # Examples
///
/// ```
/// use goro::{block_on, stream::StreamExt};
///
/// let names: Vec<_> = block_on(async {
///     let entries = goro::fs::read_dir("src").await?;
///     entries.map(|e| e.map(|e| e.file_name())).try_collect::<_, _, Vec<_>>().await
/// })
/// .unwrap();
/// assert!(names.iter().any(|n| n == "lib.rs"));
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = Arc::from(path.as_ref());
    let p = Arc::clone(&path);
    let inner = run(move || fs::read_dir(&p).map_err(|e| with_path("read_dir", &p, e))).await?;
    Ok(ReadDir {
        inner: Unblock::with_capacity(64, Entries { inner, path }),
    })
}

/// The entries of a directory, from [`read_dir`]: a
/// `Stream<Item = io::Result<std::fs::DirEntry>>`.
///
/// # Examples
///
/// ```
/// use goro::{block_on, stream::StreamExt};
///
/// let n = block_on(async {
///     goro::fs::read_dir("src").await.unwrap().count().await
/// });
/// assert!(n > 1);
/// ```
pub struct ReadDir {
    inner: Unblock<Entries>,
}

struct Entries {
    inner: fs::ReadDir,
    path: Arc<Path>,
}

impl Iterator for Entries {
    type Item = io::Result<fs::DirEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = &self.path;
        self.inner
            .next()
            .map(|r| r.map_err(|e| with_path("read_dir", path, e)))
    }
}

impl Stream for ReadDir {
    type Item = io::Result<fs::DirEntry>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").finish_non_exhaustive()
    }
}
