//! [`TokioIo`]: tokio's `AsyncRead`/`AsyncWrite` over goro's streams and
//! any futures-io stream.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
use goro_reactor::net::ReadUninit;
use tokio::io::ReadBuf;

/// tokio's I/O traits over a goro stream: hand it to a crate that wants
/// `tokio::io::AsyncRead + AsyncWrite` (tokio-postgres's `connect_raw`,
/// redis's `MultiplexedConnection::new_with_config`, tokio-rustls).
///
/// - Over goro's [`TcpStream`](goro_reactor::net::TcpStream) and
///   [`UnixStream`](goro_reactor::net::UnixStream) (any [`ReadUninit`]
///   stream), reads go straight into the unfilled part of tokio's
///   [`ReadBuf`], initialised or not: no zero-filling.
/// - Over any other futures-io stream (a TLS stream, a pipe), use
///   [`TokioIo::from_futures_io`], which zero-fills at most
///   [`ZeroFill::MAX_READ`] bytes a read.
///
/// Writes are vectored (one `writev(2)` on goro's sockets); shutdown is
/// futures-io's `poll_close`, which shuts down the write side.
///
/// # Examples
///
/// ```
/// use goro::compat::TokioIo;
/// use goro::net::{TcpListener, TcpStream};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = TokioIo::new(TcpStream::connect(listener.local_addr()?).await?);
/// let mut server = TokioIo::new(listener.accept().await?.0);
/// client.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TokioIo<T> {
    inner: T,
}

impl<T> TokioIo<T> {
    /// Wraps `inner`, a goro [`TcpStream`](goro_reactor::net::TcpStream),
    /// [`UnixStream`](goro_reactor::net::UnixStream) or other
    /// [`ReadUninit`] stream.
    pub fn new(inner: T) -> TokioIo<T> {
        TokioIo { inner }
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

impl<T> TokioIo<ZeroFill<T>> {
    /// Wraps any futures-io stream. futures-io reads take initialised
    /// memory, so each read zero-fills at most [`ZeroFill::MAX_READ`]
    /// bytes of tokio's buffer first. For goro's own sockets use
    /// [`TokioIo::new`], which does not.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::compat::TokioIo;
    /// use tokio::io::AsyncReadExt;
    ///
    /// # goro::block_on(async {
    /// let mut io = TokioIo::from_futures_io(futures_lite::io::Cursor::new(b"abc".to_vec()));
    /// let mut s = String::new();
    /// io.read_to_string(&mut s).await?;
    /// assert_eq!(s, "abc");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn from_futures_io(inner: T) -> TokioIo<ZeroFill<T>> {
        TokioIo::new(ZeroFill { inner })
    }
}

impl<T: ReadUninit> tokio::io::AsyncRead for TokioIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // SAFETY: `poll_read_uninit` writes only initialised bytes, to the
        // front of the slice, and never de-initialises anything; we mark
        // exactly the bytes it reports as initialised and filled.
        let n = ready!(
            this.inner
                .poll_read_uninit(cx, unsafe { buf.unfilled_mut() })
        )?;
        // SAFETY: the read initialised the first `n` unfilled bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> tokio::io::AsyncWrite for TokioIo<T> {
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
        // goro's sockets write every slice with one `writev(2)`; other
        // futures-io streams fall back to their first slice, which is
        // still correct.
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// A futures-io stream made [`ReadUninit`] by zero-filling at most
/// [`ZeroFill::MAX_READ`] bytes before each read. Made by
/// [`TokioIo::from_futures_io`].
#[derive(Debug)]
pub struct ZeroFill<T> {
    inner: T,
}

impl<T> ZeroFill<T> {
    /// The most bytes one read asks for (and zero-fills first).
    pub const MAX_READ: usize = 16 * 1024;

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

impl<T: AsyncRead + Unpin> AsyncRead for ZeroFill<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ZeroFill<T> {
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
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> ReadUninit for ZeroFill<T> {
    fn poll_read_uninit(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len().min(Self::MAX_READ);
        let part = &mut buf[..len];
        part.fill(MaybeUninit::new(0));
        // SAFETY: every byte of `part` was just initialised, and
        // `MaybeUninit<u8>` has the layout of `u8`.
        let init = unsafe { &mut *(part as *mut [MaybeUninit<u8>] as *mut [u8]) };
        Pin::new(&mut self.inner).poll_read(cx, init)
    }
}
