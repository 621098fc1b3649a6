//! [`ChildStdin`], [`ChildStdout`] and [`ChildStderr`]: a child's pipes,
//! registered with the reactor, with the [`goro::io`](crate::io) traits.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::Async;
use crate::io::{AsyncRead, AsyncWrite};

/// Wraps a pipe end for the reactor (it becomes non-blocking; the child's
/// end is a separate open file and stays as it was).
fn register(fd: impl Into<OwnedFd>) -> io::Result<Async<File>> {
    Async::new(File::from(fd.into()))
}

macro_rules! pipe_type {
    ($name:ident, $std:ty, $what:literal) => {
        #[doc = concat!("The child's ", $what, ", piped: see [`Command::", stringify!($name), "`](super::Command).")]
        #[derive(Debug)]
        pub struct $name {
            inner: Async<File>,
        }

        impl $name {
            pub(crate) fn new(std: $std) -> io::Result<$name> {
                Ok($name {
                    inner: register(std)?,
                })
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.as_raw_fd()
            }
        }
    };
}

pipe_type!(ChildStdin, std::process::ChildStdin, "standard input");
pipe_type!(ChildStdout, std::process::ChildStdout, "standard output");
pipe_type!(ChildStderr, std::process::ChildStderr, "standard error");

impl AsyncWrite for ChildStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}
