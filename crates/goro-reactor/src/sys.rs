//! What differs between Unix and Windows for the reactor: the handle type,
//! non-blocking mode and the "ready now?" check (the poller itself is in
//! `poller`).
//!
//! - **Unix** (epoll, kqueue): descriptors (`AsFd`), registered once,
//!   edge-triggered; [`is_ready_now`] asks `poll(2)`.
//! - **Windows** (IOCP through `polling`): sockets only (`AsSocket`).
//!   `polling` has no edge mode there, so a socket is registered one-shot
//!   with no interest and *armed* for the directions that have waiters each
//!   time a task starts waiting (and again after each event while waiters
//!   remain): `Source::arm`. Arming reports a socket that is already ready,
//!   so [`is_ready_now`] need not ask and says `false`.

use std::io;

use crate::source::Direction;

#[cfg(unix)]
pub(crate) use std::os::fd::{AsFd as AsSource, RawFd as RawSource};
#[cfg(windows)]
pub(crate) use std::os::windows::io::{AsSocket as AsSource, RawSocket as RawSource};

/// The raw handle of `io`.
pub(crate) fn raw_of<T: AsSource>(io: &T) -> RawSource {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        io.as_fd().as_raw_fd()
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsRawSocket;
        io.as_socket().as_raw_socket()
    }
}

/// Puts `io` in non-blocking mode.
pub(crate) fn set_nonblocking<T: AsSource>(io: &T) -> io::Result<()> {
    #[cfg(unix)]
    {
        let raw = raw_of(io);
        // SAFETY: `raw` is an open descriptor borrowed for the duration of
        // the calls; F_GETFL/F_SETFL only read and set its status flags.
        unsafe {
            let flags = libc::fcntl(raw, libc::F_GETFL);
            if flags < 0 {
                return Err(io::Error::last_os_error());
            }
            if flags & libc::O_NONBLOCK == 0
                && libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0
            {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }
    #[cfg(windows)]
    {
        socket2::SockRef::from(io).set_nonblocking(true)
    }
}

/// Borrows a raw handle for a call into the poller.
///
/// # Safety
/// `raw` must stay open for the lifetime of the result.
#[cfg(unix)]
pub(crate) unsafe fn borrow(raw: RawSource) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: the caller keeps `raw` open.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(raw) }
}

/// Borrows a raw handle for a call into the poller.
///
/// # Safety
/// `raw` must stay open for the lifetime of the result.
#[cfg(windows)]
pub(crate) unsafe fn borrow(raw: RawSource) -> std::os::windows::io::BorrowedSocket<'static> {
    // SAFETY: the caller keeps `raw` open.
    unsafe { std::os::windows::io::BorrowedSocket::borrow_raw(raw) }
}

/// Whether `raw` is ready in `dir` right now (with edge-triggered
/// registration, a descriptor that is already ready sends no further edge).
#[cfg(unix)]
pub(crate) fn is_ready_now(raw: RawSource, dir: Direction) -> io::Result<bool> {
    let events = match dir {
        // POLLRDHUP (a peer's half-close) is Linux's; elsewhere the
        // half-close shows as POLLIN (a read returns 0).
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Direction::Read => libc::POLLIN | libc::POLLRDHUP,
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Direction::Read => libc::POLLIN,
        Direction::Write => libc::POLLOUT,
    };
    let mut pfd = libc::pollfd {
        fd: raw,
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is a valid, writable pollfd for the call's duration,
    // and the count says there is one; a zero timeout never blocks.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(n > 0 && pfd.revents != 0)
}

/// Always `false` on Windows: arming the socket reports it if it is ready.
#[cfg(windows)]
pub(crate) fn is_ready_now(_raw: RawSource, _dir: Direction) -> io::Result<bool> {
    Ok(false)
}

/// Whether a non-blocking `connect` returned "in progress" (not an error).
pub(crate) fn connect_in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::EINPROGRESS)
    }
    #[cfg(windows)]
    {
        e.kind() == io::ErrorKind::WouldBlock
    }
}
