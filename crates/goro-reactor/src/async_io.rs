//! [`Async<T>`]: any descriptor-backed I/O object (on Windows: any socket),
//! made non-blocking and registered with the reactor, with futures for
//! readiness and the `futures-io` traits.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, AsSocket, BorrowedSocket, RawSocket};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::reactor::Reactor;
use crate::source::{Direction, Source};
use crate::sys::{self, AsSource};

/// An I/O object registered with goro's reactor: reads and writes that would
/// block park the task instead of the thread.
///
/// `T` is put in non-blocking mode. Every operation first tries the syscall
/// and waits for readiness only on `WouldBlock`.
///
/// `T: AsFd` on Unix: sockets, pipes, terminals, anything epoll or kqueue
/// accepts. `T: AsSocket` on Windows, where the reactor (IOCP) takes sockets
/// only.
///
/// # Examples
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
/// use goro::Async;
///
/// # goro::block_on(async {
/// let (a, b) = UnixStream::pair()?;
/// let (mut a, mut b) = (Async::new(a)?, Async::new(b)?);
/// a.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Async<T: AsSource> {
    source: Arc<Source>,
    io: Option<T>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("fd", &self.fd)
            .finish_non_exhaustive()
    }
}

impl<T: AsSource> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the reactor.
    ///
    /// # Errors
    /// If the descriptor cannot be made non-blocking or registered (for
    /// example, a regular file, which epoll refuses).
    pub fn new(io: T) -> io::Result<Async<T>> {
        sys::set_nonblocking(&io)?;
        let source = Reactor::get().register(sys::raw_of(&io))?;
        Ok(Async {
            source,
            io: Some(io),
        })
    }

    /// The registration (for the reactor's own tests).
    #[cfg(test)]
    pub(crate) fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// The inner I/O object.
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("io is present until drop")
    }

    /// Deregisters and returns the inner I/O object (still non-blocking).
    ///
    /// # Errors
    /// If the reactor fails to deregister it.
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("io is present until drop");
        Reactor::get().deregister(&self.source)?;
        Ok(io)
    }

    /// Waits until the object is readable (may be spurious: the next read
    /// can still return `WouldBlock`).
    pub async fn readable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the object is writable.
    pub async fn writable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_writable(cx)).await
    }

    /// Polls for readability.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready(cx, Direction::Read)
    }

    /// Polls for writability.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready(cx, Direction::Write)
    }

    /// Runs a non-blocking read-side operation until it stops returning
    /// `WouldBlock`, parking the task in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use goro::Async;
    ///
    /// # goro::block_on(async {
    /// let a = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
    /// let b = UdpSocket::bind("127.0.0.1:0")?;
    /// b.send_to(b"hi", a.get_ref().local_addr()?)?;
    /// let mut buf = [0; 8];
    /// let (n, _) = a.read_with(|s| s.recv_from(&mut buf)).await?;
    /// assert_eq!(&buf[..n], b"hi");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// The write-side twin of [`Async::read_with`].
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }

    /// Polls a read-side operation once; see [`Async::read_with`].
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.source.poll_io(cx, Direction::Read, || op(io))
    }

    /// Polls a write-side operation once; see [`Async::write_with`].
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.source.poll_io(cx, Direction::Write, || op(io))
    }
}

impl<T: AsSource> Async<T> {
    /// A byte-stream read or write: see `Source::poll_stream_io`.
    pub(crate) fn poll_stream(
        &self,
        cx: &mut Context<'_>,
        write: bool,
        len: usize,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        let dir = if write {
            Direction::Write
        } else {
            Direction::Read
        };
        self.source.poll_stream_io(cx, dir, len, || op(io))
    }
}

#[cfg(unix)]
impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd
    }
}

#[cfg(unix)]
impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

#[cfg(windows)]
impl<T: AsSocket> AsRawSocket for Async<T> {
    fn as_raw_socket(&self) -> RawSocket {
        self.source.fd
    }
}

#[cfg(windows)]
impl<T: AsSocket> AsSocket for Async<T> {
    fn as_socket(&self) -> BorrowedSocket<'_> {
        self.get_ref().as_socket()
    }
}

impl<T: AsSource> Drop for Async<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            // Deregister before the descriptor closes (when `io` drops).
            let _ = Reactor::get().deregister(&self.source);
            self.io.take();
        }
    }
}

// The I/O goes through `&Async<T>` (reads and writes need no `&mut`); the
// owned impls forward to it.

impl<T: AsSource> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read_vectored(bufs))
    }
}

impl<T: AsSource> AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read_vectored(cx, bufs)
    }
}

impl<T: AsSource> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsSource> AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}
