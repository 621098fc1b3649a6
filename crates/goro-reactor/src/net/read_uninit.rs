//! [`ReadUninit`]: reading into uninitialised memory, which hyper's and
//! tokio's read buffers hand out. The adapters in `goro::http` and
//! `goro::compat` need it to read without zero-filling first.

use std::io;
use std::mem::MaybeUninit;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::TcpStream;
#[cfg(unix)]
use super::UnixStream;

/// A stream that reads into uninitialised memory, as goro's sockets can.
///
/// Implemented for goro's [`TcpStream`] and (on Unix) `UnixStream`.
///
/// # Examples
///
/// ```
/// use std::mem::MaybeUninit;
/// use goro::io::AsyncWriteExt;
/// use goro::net::{ReadUninit, TcpListener, TcpStream};
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = TcpStream::connect(listener.local_addr()?).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"hi").await?;
/// let mut buf = [MaybeUninit::<u8>::uninit(); 16];
/// let n = std::future::poll_fn(|cx| ReadUninit::poll_read_uninit(&mut server, cx, &mut buf)).await?;
/// assert_eq!(n, 2);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait ReadUninit: AsyncRead + AsyncWrite + Unpin {
    /// Reads into the front of `buf`, returning how many bytes it wrote
    /// (`0` at the end of the stream). The bytes past that stay as they
    /// were.
    ///
    /// # Errors
    /// As the stream's reads.
    fn poll_read_uninit(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

impl ReadUninit for TcpStream {
    fn poll_read_uninit(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_read_uninit(self, cx, buf)
    }
}

#[cfg(unix)]
impl ReadUninit for UnixStream {
    fn poll_read_uninit(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        UnixStream::poll_read_uninit(self, cx, buf)
    }
}
