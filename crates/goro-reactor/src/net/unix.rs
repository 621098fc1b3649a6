use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};

use futures_io::{AsyncRead, AsyncWrite};

use crate::Async;

/// A Unix-domain socket server.
///
/// # Examples
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
/// use goro::net::{UnixListener, UnixStream};
///
/// # goro::block_on(async {
/// let path = std::env::temp_dir().join(format!("goro-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let mut client = UnixStream::connect(&path).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// std::fs::remove_file(&path)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixListener {
    io: Async<net::UnixListener>,
}

impl UnixListener {
    /// Binds to the socket file `path` (which must not exist).
    ///
    /// # Errors
    /// As `bind(2)`.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Async::new(net::UnixListener::bind(path)?)?,
        })
    }

    /// Waits for a connection.
    ///
    /// # Errors
    /// As `accept(2)`; the listener stays usable afterwards.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, addr) = self.io.read_with(|l| l.accept()).await?;
        Ok((UnixStream::from_std(s)?, addr))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

/// A Unix-domain stream socket. `&UnixStream` reads and writes too, so it
/// splits by borrowing.
#[derive(Debug)]
pub struct UnixStream {
    io: Async<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket file `path`.
    ///
    /// The socket is non-blocking from the start, so the worker never
    /// blocks in `connect(2)`. While the listener's backlog is full (the
    /// server does not accept fast enough) Linux refuses with `EAGAIN`;
    /// like a blocking `connect(2)`, this waits until there is room,
    /// trying again after a pause that doubles from 1 ms to 50 ms. (Go
    /// returns `EAGAIN` as an error instead; wrap the call in a timeout to
    /// bound the wait.)
    ///
    /// # Errors
    /// As `connect(2)`.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = SockAddr::unix(path)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        let mut pause = Duration::from_millis(1);
        loop {
            match socket.connect(&addr) {
                Ok(()) => break,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    crate::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                    // Not what Linux does for Unix sockets, but POSIX
                    // allows it: wait as for TCP.
                    let stream = UnixStream::from_std(socket.into())?;
                    stream.io.writable().await?;
                    if let Some(e) = stream.io.get_ref().take_error()? {
                        return Err(e);
                    }
                    return Ok(stream);
                }
                Err(e) => return Err(e),
            }
        }
        UnixStream::from_std(socket.into())
    }

    /// A connected pair.
    ///
    /// # Errors
    /// As `socketpair(2)`.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a stream from `std` (made non-blocking).
    ///
    /// # Errors
    /// If it cannot be registered with the reactor.
    pub fn from_std(stream: net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Async::new(stream)?,
        })
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    /// As `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Polls a read into memory that need not be initialised; see
    /// [`TcpStream::poll_read_uninit`](super::TcpStream::poll_read_uninit).
    ///
    /// # Errors
    /// As `recv(2)`.
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
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

macro_rules! impl_unix_io {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io
                    .poll_stream(cx, false, buf.len(), |mut s| s.read(buf))
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.io
                    .poll_stream(cx, true, buf.len(), |mut s| s.write(buf))
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.io.get_ref().shutdown(Shutdown::Write) {
                    Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
                    _ => Poll::Ready(Ok(())),
                }
            }
        }
    };
}

impl_unix_io!(UnixStream);
impl_unix_io!(&UnixStream);
