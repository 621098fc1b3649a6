//! Async I/O traits and helpers, in one place: `use goro::io::...` instead
//! of adding `futures-lite` or `futures-io` to your `Cargo.toml`.
//!
//! The traits are the `futures-io` ones ([`AsyncRead`], [`AsyncWrite`],
//! [`AsyncBufRead`], [`AsyncSeek`]) that goro's sockets, files, pipes and
//! [`crate::Unblock`] implement; the extension traits that give
//! them `read`, `write_all`, `read_line`, `lines` and the rest, and the
//! helpers ([`BufReader`], [`BufWriter`], [`copy`], [`split`], [`Cursor`],
//! [`empty`], [`repeat`], [`sink`]) come from `futures-lite`. [`stdin`],
//! [`stdout`] and [`stderr`] are the standard streams on the blocking pool.
//!
//! | tokio | goro |
//! |---|---|
//! | `tokio::io::{AsyncReadExt, AsyncWriteExt, AsyncBufReadExt}` | the same names here |
//! | `BufReader::new(r).lines()` then `lines.next_line().await?` | `BufReader::new(r).lines()` then `lines.next().await` (a [`Stream`](crate::stream::Stream) of `io::Result<String>`; `StreamExt` from [`crate::stream`] or [`crate::prelude`]) |
//! | `tokio::io::copy(&mut r, &mut w)` | [`copy(r, w)`](copy) (takes the reader by value: pass `&mut r` or `&r` for a socket) |
//! | `tokio::io::split(s)` / `TcpStream::split` | [`split(s)`](split), or read and write through `&TcpStream` from two tasks with the socket in an `Arc` |
//!
//! # Examples
//!
//! A line-oriented echo over a Unix socket pair:
//!
//! ```
//! use goro::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use goro::stream::StreamExt;
//!
//! goro::block_on(async {
//!     let (a, b) = std::os::unix::net::UnixStream::pair()?;
//!     let (mut a, b) = (goro::Async::new(a)?, goro::Async::new(b)?);
//!     a.write_all(b"hello\nworld\n").await?;
//!     drop(a); // EOF
//!     let mut lines = BufReader::new(b).lines();
//!     assert_eq!(lines.next().await.unwrap()?, "hello");
//!     assert_eq!(lines.next().await.unwrap()?, "world");
//!     assert!(lines.next().await.is_none());
//!     goro::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

pub use futures_lite::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite,
    AsyncWriteExt, BufReader, BufWriter, Bytes, Chain, Cursor, Empty, Lines, ReadHalf, Repeat,
    Sink, Split, Take, WriteHalf, copy, empty, repeat, sink, split,
};
pub use std::io::{Error, ErrorKind, Result, SeekFrom};

use crate::Unblock;

/// The process's standard input, read on the blocking pool: an
/// [`AsyncRead`] (wrap it in a [`BufReader`] for lines).
///
/// Each call wraps a handle to the one `std::io::stdin()`; keep one and
/// reuse it, as buffered input would otherwise be split between them.
///
/// # Examples
///
/// ```no_run
/// use goro::io::{AsyncBufReadExt, BufReader};
/// use goro::stream::StreamExt;
///
/// goro::block_on(async {
///     let mut lines = BufReader::new(goro::io::stdin()).lines();
///     while let Some(line) = lines.next().await {
///         println!("you said: {}", line?);
///     }
///     goro::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub fn stdin() -> Unblock<std::io::Stdin> {
    Unblock::new(std::io::stdin())
}

/// The process's standard output, written on the blocking pool: an
/// [`AsyncWrite`]. Writes are buffered: call
/// [`flush`](AsyncWriteExt::flush) before relying on them being out.
///
/// # Examples
///
/// ```
/// use goro::io::AsyncWriteExt;
///
/// goro::block_on(async {
///     let mut out = goro::io::stdout();
///     out.write_all(b"hello from the blocking pool\n").await?;
///     out.flush().await
/// })
/// .unwrap();
/// ```
pub fn stdout() -> Unblock<std::io::Stdout> {
    Unblock::new(std::io::stdout())
}

/// The process's standard error, written on the blocking pool; see
/// [`stdout`].
///
/// # Examples
///
/// ```
/// use goro::io::AsyncWriteExt;
///
/// goro::block_on(async {
///     let mut err = goro::io::stderr();
///     err.write_all(b"warning: nothing is wrong\n").await?;
///     err.flush().await
/// })
/// .unwrap();
/// ```
pub fn stderr() -> Unblock<std::io::Stderr> {
    Unblock::new(std::io::stderr())
}
