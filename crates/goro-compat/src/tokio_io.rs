//! [`TokioIo`]: tokio's `AsyncRead`/`AsyncWrite` over goro's streams and
//! any futures-io stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::AsyncWrite;
use goro_reactor::net::{ReadUninit, ZeroFill};
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

    goro_reactor::wrapper_accessors!(inner: T);
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
        TokioIo::new(ZeroFill::new(inner))
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
    goro_reactor::forward_write!(inner, poll_shutdown => poll_close);

    fn is_write_vectored(&self) -> bool {
        // goro's sockets write every slice with one `writev(2)`; other
        // futures-io streams fall back to their first slice, which is
        // still correct.
        true
    }
}
