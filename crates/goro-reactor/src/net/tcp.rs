use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{self, Shutdown, SocketAddr, ToSocketAddrs};
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, AsSocket, BorrowedSocket, RawSocket};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::Stream;
use socket2::{Domain, Protocol, Socket, Type};

use crate::Async;

/// A TCP socket server, listening for connections.
///
/// # Examples
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
/// use goro::net::{TcpListener, TcpStream};
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let mut client = TcpStream::connect(addr).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"hello").await?;
/// let mut buf = [0; 5];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hello");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: Async<net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (port 0 picks a free port), with `SO_REUSEADDR` on
    /// as Go and tokio set it, and a backlog of 1024.
    ///
    /// # Errors
    /// If no address resolves, or binding each one fails.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        super::each_addr(addr, |a| async move {
            let socket = Socket::new(Domain::for_address(a), Type::STREAM, Some(Protocol::TCP))?;
            socket.set_reuse_address(true)?;
            socket.bind(&a.into())?;
            socket.listen(1024)?;
            TcpListener::from_std(socket.into())
        })
        .await
    }

    /// Wraps a listener from `std` (made non-blocking).
    ///
    /// # Errors
    /// If it cannot be registered with the reactor.
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Async::new(listener)?,
        })
    }

    /// Waits for a connection. Errors such as `EMFILE` (out of file
    /// descriptors) reach the caller; the listener stays usable, and the
    /// pending connection is accepted by a later call once descriptors are
    /// free.
    ///
    /// # Errors
    /// Whatever `accept4(2)` reports.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`TcpListener::accept`].
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match self.io.poll_read_with(cx, |l| l.accept()) {
            Poll::Ready(Ok((s, addr))) => Poll::Ready(TcpStream::from_std(s).map(|s| (s, addr))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// A stream of accepted connections; it never ends by itself.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted sockets.
    ///
    /// # Errors
    /// As `setsockopt(2)`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }
}

#[cfg(unix)]
impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

#[cfg(unix)]
impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

#[cfg(windows)]
impl AsRawSocket for TcpListener {
    fn as_raw_socket(&self) -> RawSocket {
        self.io.as_raw_socket()
    }
}

#[cfg(windows)]
impl AsSocket for TcpListener {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.io.as_socket()
    }
}

/// The stream of [`TcpListener::incoming`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}

/// A TCP connection. Cloning is not offered; share one with
/// [`TcpStream::into_split`] or through `&TcpStream`, which reads and
/// writes too.
///
/// # Examples
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
/// use goro::net::{TcpListener, TcpStream};
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let client = TcpStream::connect(listener.local_addr()?).await?;
/// client.set_nodelay(true)?;
/// let (server, peer) = listener.accept().await?;
/// assert_eq!(peer, client.local_addr()?);
/// let (mut rd, mut wr) = client.into_split();
/// wr.write_all(b"x").await?;
/// wr.close().await?; // half-close: the server reads EOF after "x"
/// let mut all = Vec::new();
/// (&server).read_to_end(&mut all).await?;
/// assert_eq!(all, b"x");
/// drop(server);
/// assert_eq!(rd.read(&mut [0; 1]).await?, 0);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpStream {
    io: Arc<Async<net::TcpStream>>,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn.
    ///
    /// # Errors
    /// The last address's error (refused, unreachable, ...).
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        super::each_addr(addr, |a| async move {
            let socket = Socket::new(Domain::for_address(a), Type::STREAM, Some(Protocol::TCP))?;
            socket.set_nonblocking(true)?;
            match socket.connect(&a.into()) {
                Ok(()) => {}
                Err(e) if crate::sys::connect_in_progress(&e) => {}
                Err(e) => return Err(e),
            }
            let stream = TcpStream::from_std(socket.into())?;
            // Writable means the handshake finished, one way or the other.
            stream.io.writable().await?;
            if let Some(e) = stream.io.get_ref().take_error()? {
                return Err(e);
            }
            stream.io.get_ref().peer_addr()?;
            Ok(stream)
        })
        .await
    }

    /// Wraps a connected stream from `std` (made non-blocking).
    ///
    /// # Errors
    /// If it cannot be registered with the reactor.
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Arc::new(Async::new(stream)?),
        })
    }

    fn std(&self) -> &net::TcpStream {
        self.io.get_ref()
    }

    /// Polls a read into memory that need not be initialised, as hyper's
    /// and tokio's read buffers hand it out: no zero-filling first. Returns
    /// how many bytes were written to the front of `buf`, `0` at the end of
    /// the stream.
    ///
    /// # Errors
    /// As `recv(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// use goro::io::AsyncWriteExt;
    /// use goro::net::{TcpListener, TcpStream};
    ///
    /// # goro::block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = listener.accept().await?;
    /// client.write_all(b"hi").await?;
    /// let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    /// let n = std::future::poll_fn(|cx| server.poll_read_uninit(cx, &mut buf)).await?;
    /// assert_eq!(n, 2);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_stream(cx, false, buf.len(), |s| {
            socket2::SockRef::from(s).recv(buf)
        })
    }

    /// The remote address.
    ///
    /// # Errors
    /// As `getpeername(2)`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.std().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// Sets `TCP_NODELAY` (Nagle's algorithm off). Go sets it on every
    /// connection; goro, like tokio and std, leaves the OS default.
    ///
    /// # Errors
    /// As `setsockopt(2)`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.std().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// As `getsockopt(2)`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.std().nodelay()
    }

    /// Sets the IP time-to-live.
    ///
    /// # Errors
    /// As `setsockopt(2)`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.std().set_ttl(ttl)
    }

    /// Shuts down the read side, the write side (the peer reads EOF) or
    /// both.
    ///
    /// # Errors
    /// As `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.std().shutdown(how)
    }

    /// Reads without consuming.
    ///
    /// # Errors
    /// As `recv(2)` with `MSG_PEEK`.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.peek(buf)).await
    }

    /// Waits until the stream is readable.
    ///
    /// # Errors
    /// If polling the descriptor fails.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the stream is writable.
    ///
    /// # Errors
    /// If polling the descriptor fails.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// Splits into borrowed halves that can be used from two tasks' code at
    /// once (no lock: reads and writes are independent directions).
    pub fn split(&self) -> (&TcpStream, &TcpStream) {
        (self, self)
    }

    /// Splits into owned halves, to move into two tasks. Closing the write
    /// half shuts down the write side.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (
            OwnedReadHalf {
                io: self.io.clone(),
            },
            OwnedWriteHalf { io: self.io },
        )
    }
}

#[cfg(unix)]
impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

#[cfg(unix)]
impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

#[cfg(windows)]
impl AsRawSocket for TcpStream {
    fn as_raw_socket(&self) -> RawSocket {
        self.io.as_raw_socket()
    }
}

#[cfg(windows)]
impl AsSocket for TcpStream {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.io.as_socket()
    }
}

fn poll_read(
    io: &Async<net::TcpStream>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    io.poll_stream(cx, false, buf.len(), |mut s| s.read(buf))
}

fn poll_read_vectored(
    io: &Async<net::TcpStream>,
    cx: &mut Context<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> Poll<io::Result<usize>> {
    let len = bufs.iter().map(|b| b.len()).sum();
    io.poll_stream(cx, false, len, |mut s| s.read_vectored(bufs))
}

fn poll_write(
    io: &Async<net::TcpStream>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    io.poll_stream(cx, true, buf.len(), |mut s| s.write(buf))
}

fn poll_write_vectored(
    io: &Async<net::TcpStream>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let len = bufs.iter().map(|b| b.len()).sum();
    io.poll_stream(cx, true, len, |s| {
        super::gather::write_gathered(
            bufs,
            len,
            |b| (&mut &*s).write(b),
            |bs| (&mut &*s).write_vectored(bs),
        )
    })
}

fn poll_close(io: &Async<net::TcpStream>) -> Poll<io::Result<()>> {
    // Like async-io and tokio: closing a stream shuts down its write side.
    match io.get_ref().shutdown(Shutdown::Write) {
        Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
        _ => Poll::Ready(Ok(())),
    }
}

macro_rules! impl_stream_io {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                poll_read(&self.io, cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                poll_read_vectored(&self.io, cx, bufs)
            }
        }
    };
}

macro_rules! impl_stream_write {
    ($ty:ty) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                poll_write_vectored(&self.io, cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                poll_close(&self.io)
            }
        }
    };
}

impl_stream_io!(TcpStream);
impl_stream_io!(&TcpStream);
impl_stream_io!(OwnedReadHalf);
impl_stream_write!(TcpStream);
impl_stream_write!(&TcpStream);
impl_stream_write!(OwnedWriteHalf);

/// The read half of [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    io: Arc<Async<net::TcpStream>>,
}

/// The write half of [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedWriteHalf {
    io: Arc<Async<net::TcpStream>>,
}

impl OwnedReadHalf {
    /// Puts the halves back together; `Err` gives them back if they come
    /// from different streams.
    ///
    /// # Errors
    /// When the halves belong to different streams.
    pub fn reunite(
        self,
        other: OwnedWriteHalf,
    ) -> Result<TcpStream, (OwnedReadHalf, OwnedWriteHalf)> {
        if Arc::ptr_eq(&self.io, &other.io) {
            drop(other);
            Ok(TcpStream { io: self.io })
        } else {
            Err((self, other))
        }
    }

    /// The remote address.
    ///
    /// # Errors
    /// As `getpeername(2)`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl OwnedWriteHalf {
    /// The remote address.
    ///
    /// # Errors
    /// As `getpeername(2)`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}
