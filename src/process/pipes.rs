//! [`ChildStdin`], [`ChildStdout`] and [`ChildStderr`]: a child's pipes,
//! registered with the reactor, with the [`goro::io`](crate::io) traits.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

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
    goro_reactor::forward_write!(inner, poll_close => poll_close);
}

impl AsyncRead for ChildStdout {
    goro_reactor::forward_read!(inner);
}

impl AsyncRead for ChildStderr {
    goro_reactor::forward_read!(inner);
}
