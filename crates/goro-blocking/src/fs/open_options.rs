//! [`OpenOptions`]: how to open a [`File`].

use std::fs;
use std::io;
use std::path::Path;

use super::File;

/// Options for opening a file, like [`std::fs::OpenOptions`], with an
/// async [`open`](OpenOptions::open). On Unix also
/// [`mode`](OpenOptions::mode) and [`custom_flags`](OpenOptions::custom_flags),
/// as `tokio::fs::OpenOptions` has.
///
/// # Examples
///
/// ```
/// use goro::io::AsyncWriteExt;
///
/// let p = std::env::temp_dir().join(format!("goro-openoptions-doc-{}", std::process::id()));
/// goro::block_on(async {
///     let mut log = goro::fs::OpenOptions::new().append(true).create(true).open(&p).await?;
///     log.write_all(b"one\n").await?;
///     log.flush().await?;
///     let mut log = goro::fs::OpenOptions::new().append(true).open(&p).await?;
///     log.write_all(b"two\n").await?;
///     log.flush().await
/// })
/// .unwrap();
/// assert_eq!(std::fs::read_to_string(&p).unwrap(), "one\ntwo\n");
/// # std::fs::remove_file(&p).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(fs::OpenOptions);

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// All options off, as [`std::fs::OpenOptions::new`]: set at least
    /// `read`, `write` or `append`.
    pub fn new() -> OpenOptions {
        OpenOptions(fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for appending: every write goes to the end.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate to length 0 on opening (needs `write`).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it is missing (needs `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing if it exists (`O_EXCL`).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro::block_on(
    ///     goro::fs::OpenOptions::new().write(true).create_new(true).open("Cargo.toml"),
    /// )
    /// .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    /// assert!(err.to_string().starts_with("open Cargo.toml: "));
    /// ```
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a created file (before the umask), as
    /// `std::os::unix::fs::OpenOptionsExt::mode`.
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags, as
    /// `std::os::unix::fs::OpenOptionsExt::custom_flags`.
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`std::fs::OpenOptions::open`]; the message names `open` and the
    /// path.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        File::with_options(path, self.0.clone()).await
    }
}

impl From<fs::OpenOptions> for OpenOptions {
    fn from(o: fs::OpenOptions) -> OpenOptions {
        OpenOptions(o)
    }
}
