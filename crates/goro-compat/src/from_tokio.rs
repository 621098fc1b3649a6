//! [`FromTokio`]: futures-io's `AsyncRead`/`AsyncWrite` over a stream that
//! has tokio's traits.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::ReadBuf;

/// futures-io's I/O traits over a tokio-trait stream (a tokio-rustls
/// stream, a [`TokioIo`](crate::TokioIo), a crate's own stream type), so
/// futures-lite's extension traits, `goro::io::copy` and async-tungstenite
/// work on it. The reverse of [`TokioIo`](crate::TokioIo).
///
/// `poll_close` is tokio's `poll_shutdown`.
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncReadExt;
/// use goro::compat::FromTokio;
///
/// # goro::block_on(async {
/// // `&[u8]` implements tokio's `AsyncRead`.
/// let mut io = FromTokio::new(&b"hello"[..]);
/// let mut s = String::new();
/// io.read_to_string(&mut s).await?;
/// assert_eq!(s, "hello");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct FromTokio<T> {
    inner: T,
}

impl<T> FromTokio<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> FromTokio<T> {
        FromTokio { inner }
    }

    goro_reactor::wrapper_accessors!(inner: T);
}

impl<T: tokio::io::AsyncRead + Unpin> futures_io::AsyncRead for FromTokio<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // `buf` is initialised already: tokio's `ReadBuf::new` knows it.
        let mut rb = ReadBuf::new(buf);
        ready!(Pin::new(&mut self.inner).poll_read(cx, &mut rb))?;
        Poll::Ready(Ok(rb.filled().len()))
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> futures_io::AsyncWrite for FromTokio<T> {
    goro_reactor::forward_write!(inner, poll_close => poll_shutdown);
}
