//! hyper's I/O traits (`hyper::rt::Read`/`Write`) over goro's streams, and
//! the reverse: futures-io over a hyper I/O object such as `Upgraded`.
//!
//! - [`Io`] wraps a goro [`TcpStream`](goro_reactor::net::TcpStream) or
//!   [`UnixStream`](goro_reactor::net::UnixStream) (any [`ReadUninit`]
//!   stream): it reads straight into hyper's uninitialised buffer (no
//!   zero-filling, unlike smol-hyper's adapter) and writes vectored, and
//!   says so.
//! - [`FuturesIo`] wraps any other futures-io stream (a TLS stream, a test
//!   double). futures-io reads need initialised memory, so it zero-fills,
//!   but at most [`FuturesIo::MAX_READ`] bytes a read rather than hyper's
//!   whole spare capacity.
//! - [`HyperStream`] gives futures-io's traits to a hyper I/O object, so
//!   async-tungstenite can run on an upgraded connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
pub use goro_reactor::net::ReadUninit;
use goro_reactor::net::ZeroFill;
use hyper::rt::ReadBufCursor;

/// hyper's I/O traits over a goro stream: hand it to hyper's connection
/// builders.
///
/// # Examples
///
/// ```
/// use goro::http::Io;
/// use goro::net::{TcpListener, TcpStream};
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let client = TcpStream::connect(listener.local_addr()?).await?;
/// let io = Io::new(client);
/// assert!(hyper::rt::Write::is_write_vectored(&io));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Io<T> {
    inner: T,
}

impl<T> Io<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Io<T> {
        Io { inner }
    }

    goro_reactor::wrapper_accessors!(inner: T);
}

impl<T: ReadUninit> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        read_into_cursor(&mut self.get_mut().inner, cx, buf)
    }
}

impl<T: ReadUninit> hyper::rt::Write for Io<T> {
    goro_reactor::forward_write!(inner, poll_shutdown => poll_close);

    fn is_write_vectored(&self) -> bool {
        // goro's TCP streams write all the slices with one syscall: a
        // small gather copied into one `send`, a large one by `writev(2)`
        // (`goro-reactor`'s `net/gather.rs`).
        true
    }
}

/// Reads into the spare part of hyper's buffer without initialising it
/// first, and advances the cursor by what was read.
fn read_into_cursor<R: ReadUninit>(
    stream: &mut R,
    cx: &mut Context<'_>,
    mut buf: ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: `poll_read_uninit` only writes initialised bytes to the
    // front of the slice and reports how many; we advance by exactly
    // that, and never de-initialise anything.
    let n = ready!(stream.poll_read_uninit(cx, unsafe { buf.as_mut() }))?;
    // SAFETY: the read initialised the first `n` bytes of the cursor.
    unsafe { buf.advance(n) };
    Poll::Ready(Ok(()))
}

/// hyper's I/O traits over any futures-io stream, such as a TLS stream.
///
/// Reads zero-fill at most [`FuturesIo::MAX_READ`] bytes of hyper's buffer
/// first, because futures-io reads take initialised memory. For goro's own
/// sockets use [`Io`], which does not.
///
/// # Examples
///
/// ```
/// use goro::http::FuturesIo;
///
/// let io = FuturesIo::new(futures_lite::io::Cursor::new(Vec::<u8>::new()));
/// assert!(!hyper::rt::Write::is_write_vectored(&io));
/// ```
#[derive(Debug)]
pub struct FuturesIo<T> {
    inner: ZeroFill<T>,
}

impl<T> FuturesIo<T> {
    /// The most bytes one read asks for (and zero-fills first).
    pub const MAX_READ: usize = ZeroFill::<T>::MAX_READ;

    /// Wraps `inner`.
    pub fn new(inner: T) -> FuturesIo<T> {
        FuturesIo {
            inner: ZeroFill::new(inner),
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        self.inner.get_ref()
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> hyper::rt::Read for FuturesIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        read_into_cursor(&mut self.get_mut().inner, cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for FuturesIo<T> {
    goro_reactor::forward_write!(inner, poll_shutdown => poll_close);
}

/// futures-io's traits over a hyper I/O object, such as the
/// [`hyper::upgrade::Upgraded`] connection of a WebSocket route.
///
/// # Examples
///
/// ```
/// use goro::http::{FuturesIo, HyperStream};
///
/// // A futures-io stream seen through hyper's traits and back again.
/// let round_trip = HyperStream::new(FuturesIo::new(futures_lite::io::Cursor::new(vec![1u8])));
/// # let _ = round_trip;
/// ```
#[derive(Debug)]
pub struct HyperStream<T> {
    inner: T,
}

impl<T> HyperStream<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> HyperStream<T> {
        HyperStream { inner }
    }

    /// Unwraps the object.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: hyper::rt::Read + Unpin> AsyncRead for HyperStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut rb = hyper::rt::ReadBuf::new(buf);
        ready!(Pin::new(&mut self.inner).poll_read(cx, rb.unfilled()))?;
        Poll::Ready(Ok(rb.filled().len()))
    }
}

impl<T: hyper::rt::Write + Unpin> AsyncWrite for HyperStream<T> {
    goro_reactor::forward_write!(inner, poll_close => poll_shutdown);
}
