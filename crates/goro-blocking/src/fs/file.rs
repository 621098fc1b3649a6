//! [`File`]: an open file driven through the blocking pool.

use std::fmt;
use std::fs::{self, Metadata, OpenOptions};
use std::future::poll_fn;
use std::io::{self, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_lite::AsyncWriteExt;
use futures_lite::io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::path_error::with_path;
use super::run;
use crate::unblock::Unblock;

/// An open file, like [`std::fs::File`], with [`AsyncRead`], [`AsyncWrite`]
/// and [`AsyncSeek`]. Every error names the operation and the file's path.
///
/// Reading and writing go through an [`Unblock`]: writes are write-behind,
/// so call [`flush`](futures_lite::AsyncWriteExt::flush),
/// [`close`](futures_lite::AsyncWriteExt::close) or [`File::sync_all`] to
/// learn whether they succeeded. Mixing reads, writes and seeks is safe:
/// bytes read ahead are given back before a write or seek.
///
/// # Examples
///
/// ```
/// use goro::{block_on, io::{AsyncReadExt, AsyncWriteExt}};
/// use goro::fs::File;
///
/// let p = std::env::temp_dir().join(format!("goro-file-doc-{}", std::process::id()));
/// block_on(async {
///     let mut f = File::create(&p).await?;
///     f.write_all(b"one two").await?;
///     f.sync_all().await?;
///
///     let mut s = String::new();
///     File::open(&p).await?.read_to_string(&mut s).await?;
///     assert_eq!(s, "one two");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub struct File {
    inner: Unblock<fs::File>,
    path: Arc<Path>,
}

impl File {
    /// Opens a file for reading, like [`std::fs::File::open`].
    ///
    /// # Errors
    ///
    /// The file cannot be opened; the message reads `open <path>: …`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::block_on;
    ///
    /// let err = block_on(goro::fs::File::open("/tmp/x/missing.txt")).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "open /tmp/x/missing.txt: No such file or directory (os error 2)"
    /// );
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        File::open_with(path, OpenOptions::new().read(true).clone(), "open").await
    }

    /// Creates or truncates a file for writing, like
    /// [`std::fs::File::create`].
    ///
    /// # Errors
    ///
    /// The file cannot be created; the message reads `create <path>: …`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::block_on;
    ///
    /// let dir = std::env::temp_dir();
    /// // A directory cannot be opened for writing, not even by root.
    /// let err = block_on(goro::fs::File::create(&dir)).unwrap_err();
    /// assert!(err.to_string().starts_with(&format!("create {}: ", dir.display())));
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let mut o = OpenOptions::new();
        o.write(true).create(true).truncate(true);
        File::open_with(path, o, "create").await
    }

    /// Opens a file with the given options, like [`OpenOptions::open`].
    ///
    /// # Errors
    ///
    /// The file cannot be opened; the message reads `open <path>: …`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::block_on;
    /// use std::fs::OpenOptions;
    ///
    /// let p = std::env::temp_dir().join(format!("goro-options-doc-{}", std::process::id()));
    /// let mut o = OpenOptions::new();
    /// o.read(true).write(true).create(true);
    /// let f = block_on(goro::fs::File::with_options(&p, o)).unwrap();
    /// assert_eq!(f.path(), p);
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub async fn with_options(path: impl AsRef<Path>, options: OpenOptions) -> io::Result<File> {
        File::open_with(path, options, "open").await
    }

    async fn open_with(
        path: impl AsRef<Path>,
        options: OpenOptions,
        op: &'static str,
    ) -> io::Result<File> {
        let path: Arc<Path> = Arc::from(path.as_ref());
        let p = Arc::clone(&path);
        let file = run(move || options.open(&p).map_err(|e| with_path(op, &p, e))).await?;
        Ok(File {
            inner: Unblock::new(file),
            path,
        })
    }

    /// The path the file was opened with.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = goro::block_on(goro::fs::File::open("Cargo.toml")).unwrap();
    /// assert_eq!(f.path(), std::path::Path::new("Cargo.toml"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for pending writes, then flushes data and metadata to the
    /// device, like [`std::fs::File::sync_all`].
    ///
    /// # Errors
    ///
    /// A pending write failed, or the sync did.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::{block_on, io::AsyncWriteExt};
    ///
    /// let p = std::env::temp_dir().join(format!("goro-sync-doc-{}", std::process::id()));
    /// block_on(async {
    ///     let mut f = goro::fs::File::create(&p).await?;
    ///     f.write_all(b"durable").await?;
    ///     f.sync_all().await
    /// })
    /// .unwrap();
    /// assert_eq!(std::fs::read(&p).unwrap(), b"durable");
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.flush().await?;
        let r = self.inner.with_mut(|f| f.sync_all()).await;
        r.map_err(|e| with_path("sync_all", &self.path, e))
    }

    /// As [`File::sync_all`], without syncing metadata that is not needed to
    /// read the data back ([`std::fs::File::sync_data`]).
    ///
    /// # Errors
    ///
    /// A pending write failed, or the sync did.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = std::env::temp_dir().join(format!("goro-syncdata-doc-{}", std::process::id()));
    /// goro::block_on(async {
    ///     goro::fs::File::create(&p).await?.sync_data().await
    /// })
    /// .unwrap();
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.flush().await?;
        let r = self.inner.with_mut(|f| f.sync_data()).await;
        r.map_err(|e| with_path("sync_data", &self.path, e))
    }

    /// The file's metadata, after pending writes
    /// ([`std::fs::File::metadata`]).
    ///
    /// # Errors
    ///
    /// A pending write failed, or the metadata cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::block_on;
    ///
    /// let mut f = block_on(goro::fs::File::open("Cargo.toml")).unwrap();
    /// let m = block_on(f.metadata()).unwrap();
    /// assert_eq!(m.len(), std::fs::metadata("Cargo.toml").unwrap().len());
    /// ```
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        self.flush().await?;
        let r = self.inner.with_mut(|f| f.metadata()).await;
        r.map_err(|e| with_path("metadata", &self.path, e))
    }

    /// Truncates or extends the file to `size` bytes, after pending writes
    /// ([`std::fs::File::set_len`]). The cursor does not move.
    ///
    /// # Errors
    ///
    /// A pending write failed, the file is not open for writing, or the
    /// size is not possible.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::{block_on, io::AsyncWriteExt};
    ///
    /// let p = std::env::temp_dir().join(format!("goro-setlen-doc-{}", std::process::id()));
    /// block_on(async {
    ///     let mut f = goro::fs::File::create(&p).await?;
    ///     f.write_all(b"0123456789").await?;
    ///     f.set_len(4).await
    /// })
    /// .unwrap();
    /// assert_eq!(std::fs::read(&p).unwrap(), b"0123");
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        // Bytes read ahead may be truncated away: give them back first.
        poll_fn(|cx| self.inner.poll_rewind(cx)).await;
        self.flush().await?;
        let r = self.inner.with_mut(move |f| f.set_len(size)).await;
        r.map_err(|e| with_path("set_len", &self.path, e))
    }

    /// Changes the file's permissions, after pending writes, like
    /// [`std::fs::File::set_permissions`].
    ///
    /// # Errors
    ///
    /// A pending write failed or the permissions cannot be changed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use goro::block_on;
    ///
    /// let p = std::env::temp_dir().join(format!("goro-fchmod-doc-{}", std::process::id()));
    /// let mut f = block_on(goro::fs::File::create(&p)).unwrap();
    /// block_on(f.set_permissions(goro::fs::Permissions::from_mode(0o640))).unwrap();
    /// assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o640);
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub async fn set_permissions(&mut self, perm: fs::Permissions) -> io::Result<()> {
        self.flush().await?;
        let r = self.inner.with_mut(move |f| f.set_permissions(perm)).await;
        r.map_err(|e| with_path("set_permissions", &self.path, e))
    }

    /// Options to open a file with: the same as
    /// [`OpenOptions::new`](super::OpenOptions::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let f = goro::block_on(goro::fs::File::options().read(true).open("Cargo.toml"));
    /// assert!(f.is_ok());
    /// ```
    pub fn options() -> super::OpenOptions {
        super::OpenOptions::new()
    }

    /// Waits for pending operations and returns the standard file. Pending
    /// write errors are lost: flush first to see them.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::block_on;
    ///
    /// let f = block_on(goro::fs::File::open("Cargo.toml")).unwrap();
    /// let std_file: std::fs::File = block_on(f.into_std());
    /// assert!(std_file.metadata().unwrap().is_file());
    /// ```
    pub async fn into_std(self) -> fs::File {
        self.inner.into_inner().await
    }
}

impl AsyncRead for File {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        Pin::new(&mut this.inner)
            .poll_read(cx, buf)
            .map_err(|e| with_path("read", &this.path, e))
    }
}

impl AsyncWrite for File {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.inner.poll_rewind(cx));
        Pin::new(&mut this.inner)
            .poll_write(cx, data)
            .map_err(|e| with_path("write", &this.path, e))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        Pin::new(&mut this.inner)
            .poll_flush(cx)
            .map_err(|e| with_path("write", &this.path, e))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = &mut *self;
        Pin::new(&mut this.inner)
            .poll_seek(cx, pos)
            .map_err(|e| with_path("seek", &this.path, e))
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}
