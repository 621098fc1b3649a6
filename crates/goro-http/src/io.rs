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

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
pub use goro_reactor::net::ReadUninit;
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

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: ReadUninit> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // SAFETY: `poll_read_uninit` only writes initialised bytes to the
        // front of the slice and reports how many; we advance by exactly
        // that, and never de-initialise anything.
        let n = ready!(this.inner.poll_read_uninit(cx, unsafe { buf.as_mut() }))?;
        // SAFETY: the read initialised the first `n` bytes of the cursor.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: ReadUninit> hyper::rt::Write for Io<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        // goro's sockets write every slice with one `writev(2)`.
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
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
    inner: T,
}

impl<T> FuturesIo<T> {
    /// The most bytes one read asks for (and zero-fills first).
    pub const MAX_READ: usize = 16 * 1024;

    /// Wraps `inner`.
    pub fn new(inner: T) -> FuturesIo<T> {
        FuturesIo { inner }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for FuturesIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // SAFETY: we initialise the part we hand out before reading into
        // it, and advance only by what the read reports.
        let spare = unsafe { buf.as_mut() };
        let len = spare.len().min(Self::MAX_READ);
        let spare = &mut spare[..len];
        spare.fill(MaybeUninit::new(0));
        // SAFETY: every byte of `spare` was just initialised.
        let init = unsafe { &mut *(spare as *mut [MaybeUninit<u8>] as *mut [u8]) };
        let n = ready!(Pin::new(&mut this.inner).poll_read(cx, init))?;
        // SAFETY: the first `n` bytes were initialised above (and filled by
        // the read).
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for FuturesIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
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
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
