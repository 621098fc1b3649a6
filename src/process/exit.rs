//! [`ExitWatch`]: waiting for a child's exit through the reactor, with no
//! thread: a pidfd on Linux (readable once the child has exited), else a
//! SIGCHLD listener from [`crate::signal`].

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::FromRawFd;
use std::os::fd::OwnedFd;

use crate::Async;
use crate::signal::{Signal, SignalKind, signal};

/// What a [`Child`](super::Child) waits on for its exit.
#[derive(Debug)]
pub(crate) enum ExitWatch {
    /// Linux 5.3+: the child's pidfd, registered with the reactor.
    Pidfd(Async<OwnedFd>),
    /// Elsewhere, or when `pidfd_open` is refused (an old kernel, a
    /// seccomp filter): every SIGCHLD, after which the child is checked.
    SigChld(Signal),
}

impl ExitWatch {
    /// Starts watching `pid`, which must be our unreaped child (so that the
    /// pid cannot have been reused). `sigchld_only` skips the pidfd.
    pub(crate) fn new(pid: u32, sigchld_only: bool) -> io::Result<ExitWatch> {
        if !sigchld_only {
            if let Some(fd) = pidfd_open(pid) {
                return Ok(ExitWatch::Pidfd(Async::new(fd)?));
            }
        }
        Ok(ExitWatch::SigChld(signal(SignalKind::child())?))
    }

    /// Waits until the child may have exited: the caller then checks with
    /// `try_wait` (a SIGCHLD may be another child's).
    pub(crate) async fn changed(&mut self) -> io::Result<()> {
        match self {
            ExitWatch::Pidfd(fd) => fd.readable().await,
            ExitWatch::SigChld(sig) => {
                sig.recv().await;
                Ok(())
            }
        }
    }

    /// Which mechanism this is, for tests and debugging.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            ExitWatch::Pidfd(_) => "pidfd",
            ExitWatch::SigChld(_) => "sigchld",
        }
    }
}

#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: pidfd_open(2) takes a pid and flags (0) and returns a new
    // descriptor (with O_CLOEXEC) or -1; it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the call succeeded, so `fd` is a new descriptor we own.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: u32) -> Option<OwnedFd> {
    None
}
