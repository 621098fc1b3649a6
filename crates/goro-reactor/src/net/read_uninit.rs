//! [`ReadUninit`]: reading into uninitialised memory, which hyper's and
//! tokio's read buffers hand out. The adapters in `goro::http` and
//! `goro::compat` need it to read without zero-filling first; [`ZeroFill`]
//! gives it to any other futures-io stream, at the cost of zero-filling.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
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

/// A futures-io stream made [`ReadUninit`] by zero-filling at most
/// [`ZeroFill::MAX_READ`] bytes before each read, since futures-io reads
/// take initialised memory. goro's own sockets need no such wrapper.
///
/// # Examples
///
/// ```
/// use std::mem::MaybeUninit;
/// use goro::net::{ReadUninit, ZeroFill};
///
/// # goro::block_on(async {
/// let mut io = ZeroFill::new(futures_lite::io::Cursor::new(b"abc".to_vec()));
/// let mut buf = [MaybeUninit::<u8>::uninit(); 8];
/// let n = std::future::poll_fn(|cx| io.poll_read_uninit(cx, &mut buf)).await?;
/// assert_eq!(n, 3);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct ZeroFill<T> {
    inner: T,
}

impl<T> ZeroFill<T> {
    /// The most bytes one read asks for (and zero-fills first).
    pub const MAX_READ: usize = 16 * 1024;

    /// Wraps `inner`.
    pub fn new(inner: T) -> ZeroFill<T> {
        ZeroFill { inner }
    }

    crate::wrapper_accessors!(inner: T);
}

impl<T: AsyncRead + Unpin> AsyncRead for ZeroFill<T> {
    crate::forward_read!(inner);
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ZeroFill<T> {
    crate::forward_write!(inner, poll_close => poll_close);
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
