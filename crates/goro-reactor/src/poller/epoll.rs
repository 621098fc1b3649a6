//! `epoll` directly: every source registered once, edge-triggered, for
//! reads, writes and the peer's half-close; an `eventfd`, edge-triggered
//! too, to interrupt a wait. A wait is one `epoll_wait`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use super::Ready;

/// The key of the notifier's events (no source has it: the reactor's slab
/// hands out small keys).
const NOTIFY_KEY: u64 = u64::MAX;

/// Whether `epoll_pwait2` may be tried: cleared for good the first time the
/// kernel does not have it.
#[cfg(target_os = "linux")]
static PWAIT2: AtomicBool = AtomicBool::new(true);

/// What a registered source is told about.
const INTEREST: u32 =
    (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI | libc::EPOLLET) as u32;

const READABLE: u32 =
    (libc::EPOLLIN | libc::EPOLLPRI | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
const WRITABLE: u32 = (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32;
const READ_CLOSED: u32 = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;

/// An `epoll` instance and its notifier.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    notifier: OwnedFd,
    /// A notification is pending: later ones until the next wait returns
    /// skip their `write` (as `polling` does).
    notified: AtomicBool,
}

/// Room for the events of one wait.
pub(crate) struct Events {
    list: Vec<libc::epoll_event>,
}

impl Events {
    /// Room for `cap` events a wait.
    pub(crate) fn with_capacity(cap: usize) -> Events {
        Events {
            list: Vec::with_capacity(cap.max(1)),
        }
    }

    /// Forgets the last wait's events.
    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }

    /// Whether the last wait reported no event.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The sources' events of the last wait (not the notifier's).
    pub(crate) fn iter(&self) -> impl Iterator<Item = Ready> + '_ {
        self.list.iter().filter_map(|ev| {
            // `epoll_event` is packed on x86-64: copy the fields out.
            let (flags, data) = (ev.events, ev.u64);
            (data != NOTIFY_KEY).then_some(Ready {
                key: data as usize,
                readable: flags & READABLE != 0,
                writable: flags & WRITABLE != 0,
                read_closed: flags & READ_CLOSED != 0,
            })
        })
    }
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl Poller {
    /// An `epoll` instance with its `eventfd` notifier registered.
    pub(crate) fn new() -> io::Result<Poller> {
        // SAFETY: plain syscalls; each descriptor they return is fresh and
        // owned by the `OwnedFd` made from it at once.
        let epoll = unsafe { OwnedFd::from_raw_fd(cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: as above.
        let notifier = unsafe {
            OwnedFd::from_raw_fd(cvt(libc::eventfd(
                0,
                libc::EFD_CLOEXEC | libc::EFD_NONBLOCK,
            ))?)
        };
        let poller = Poller {
            epoll,
            notifier,
            notified: AtomicBool::new(false),
        };
        // Edge-triggered, and never read: every write to an eventfd is a
        // new edge (mio's waker does the same).
        poller.ctl(
            libc::EPOLL_CTL_ADD,
            poller.notifier.as_raw_fd(),
            (libc::EPOLLIN | libc::EPOLLET) as u32,
            NOTIFY_KEY,
        )?;
        Ok(poller)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, data: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: data };
        // SAFETY: `ev` is a valid event for the call's duration; epoll
        // checks `fd` itself (EBADF).
        cvt(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut ev) })?;
        Ok(())
    }

    /// Registers `fd` under `key`, edge-triggered for reads, writes and the
    /// peer's half-close.
    ///
    /// # Safety
    /// `fd` must stay open until [`Poller::delete`].
    pub(crate) unsafe fn add(&self, fd: RawFd, key: usize) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, INTEREST, key as u64)
    }

    /// Deregisters `fd`.
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd.as_raw_fd(), 0, 0)
    }

    /// Waits for events for at most `timeout` (`None`: until one, or a
    /// [`Poller::notify`]).
    ///
    /// A timeout is kept to the nanosecond with `epoll_pwait2` (Linux
    /// 5.11+), so the reactor wakes at a timer's exact deadline. Where that
    /// call is missing (`ENOSYS`, or `EPERM` from a seccomp filter that
    /// does not know it) it is not tried again and the wait is an
    /// `epoll_wait`, whose timeout is rounded up to whole milliseconds as
    /// mio does: timers then fire up to a millisecond late, never early.
    ///
    /// # Errors
    /// As `epoll_wait` (`Interrupted` for a signal: the caller polls again).
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.list.clear();
        let cap = events.list.capacity().min(libc::c_int::MAX as usize) as libc::c_int;
        let res = self.wait_raw(events.list.as_mut_ptr(), cap, timeout);
        // A notification from here on writes again: one that wrote before
        // made this wait return, or left its edge for the next one.
        self.notified.store(false, SeqCst);
        let n = res?;
        // SAFETY: `n <= cap` events were initialised by the kernel.
        unsafe { events.list.set_len(n as usize) };
        Ok(())
    }

    /// One wait into `buf` (room for `cap` events): `epoll_pwait2` for a
    /// timeout that is not whole milliseconds, where the kernel has it,
    /// else `epoll_wait`.
    fn wait_raw(
        &self,
        buf: *mut libc::epoll_event,
        cap: libc::c_int,
        timeout: Option<Duration>,
    ) -> io::Result<libc::c_int> {
        #[cfg(target_os = "linux")]
        if let Some(t) = timeout.filter(|t| t.subsec_nanos() % 1_000_000 != 0) {
            if PWAIT2.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: `timespec` is plain integers (and padding on some
                // targets), for which all zeroes is a valid value.
                let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
                ts.tv_sec = t.as_secs().min(libc::time_t::MAX as u64) as libc::time_t;
                ts.tv_nsec = t.subsec_nanos() as _;
                // SAFETY: the kernel writes at most `cap` events into
                // `buf`, which has room for them; `ts` is a valid timespec
                // for the call's duration; no signal mask is passed.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_epoll_pwait2,
                        self.epoll.as_raw_fd(),
                        buf,
                        cap,
                        &ts as *const libc::timespec,
                        std::ptr::null::<libc::sigset_t>(),
                        0usize,
                    )
                };
                if r >= 0 {
                    return Ok(r as libc::c_int);
                }
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::ENOSYS | libc::EPERM) => {
                        PWAIT2.store(false, std::sync::atomic::Ordering::Relaxed);
                    }
                    _ => return Err(e),
                }
            }
        }
        let ms = match timeout {
            None => -1,
            Some(t) => {
                let ms = t.as_millis() + u128::from(t.subsec_nanos() % 1_000_000 != 0);
                ms.min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        // SAFETY: the kernel writes at most `cap` events into `buf`, which
        // has room for them.
        cvt(unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), buf, cap, ms) })
    }

    /// Makes a blocked [`Poller::wait`] return, or the next one.
    pub(crate) fn notify(&self) -> io::Result<()> {
        if self.notified.swap(true, SeqCst) {
            return Ok(());
        }
        let one = 1u64.to_ne_bytes();
        loop {
            // SAFETY: writes 8 bytes from a live buffer to our eventfd.
            let n = unsafe { libc::write(self.notifier.as_raw_fd(), one.as_ptr().cast(), 8) };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                // The counter is full (after 2^64 - 2 notifications):
                // empty it, then notify again.
                io::ErrorKind::WouldBlock => {
                    let mut buf = [0u8; 8];
                    // SAFETY: reads at most 8 bytes into a live buffer.
                    let _ = unsafe {
                        libc::read(self.notifier.as_raw_fd(), buf.as_mut_ptr().cast(), 8)
                    };
                }
                _ => return Err(e),
            }
        }
    }
}

impl AsRawFd for Poller {
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::time::Instant;

    fn wait_for(p: &Poller, key: usize) -> Vec<Ready> {
        let mut events = Events::with_capacity(8);
        p.wait(&mut events, Some(Duration::from_secs(5))).unwrap();
        events.iter().filter(|r| r.key == key).collect()
    }

    #[test]
    fn a_notify_interrupts_each_wait_and_reports_no_source() {
        let p = Poller::new().unwrap();
        let mut events = Events::with_capacity(8);
        for _ in 0..3 {
            p.notify().unwrap();
            let start = Instant::now();
            p.wait(&mut events, Some(Duration::from_secs(10))).unwrap();
            assert!(start.elapsed() < Duration::from_secs(5));
            assert!(!events.is_empty(), "the notifier's event");
            assert_eq!(events.iter().count(), 0, "no source event");
        }
        // Notifications before one wait make it return once.
        for _ in 0..5 {
            p.notify().unwrap();
        }
        p.wait(&mut events, Some(Duration::from_secs(10))).unwrap();
        assert!(!events.is_empty());
        // No notification pending: the wait times out.
        let start = Instant::now();
        p.wait(&mut events, Some(Duration::from_millis(20)))
            .unwrap();
        assert!(events.is_empty());
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn a_half_close_is_reported_as_read_closed() {
        let (mut a, b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let p = Poller::new().unwrap();
        // SAFETY: `b` outlives the poller's use of it.
        unsafe { p.add(b.as_raw_fd(), 7).unwrap() };
        // Writable at once; data then makes it readable, not closed.
        let first = wait_for(&p, 7);
        assert!(first.iter().any(|r| r.writable && !r.read_closed));
        a.write_all(b"x").unwrap();
        let data = wait_for(&p, 7);
        assert!(
            data.iter().any(|r| r.readable && !r.read_closed),
            "{data:?}"
        );
        a.shutdown(std::net::Shutdown::Write).unwrap();
        let closed = wait_for(&p, 7);
        assert!(
            closed.iter().any(|r| r.readable && r.read_closed),
            "{closed:?}"
        );
        p.delete(std::os::fd::AsFd::as_fd(&b)).unwrap();
    }
}
