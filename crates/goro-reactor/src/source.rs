//! One registered file descriptor: its readiness, per direction, and the
//! wakers of the tasks waiting for it.
//!
//! Registration is edge-triggered, once per descriptor (Go's netpoller):
//! no `epoll_ctl` per wait. Operations are optimistic: try the syscall, and
//! only on `WouldBlock` wait for the next edge. Each direction counts its
//! edges (`tick`); an operation notes the count before its syscall and,
//! under the direction's lock, registers its waker only if no edge arrived
//! since. The reactor bumps the count under the same lock, so an edge
//! between the syscall and the registration is never lost.
//!
//! On Windows `polling` has no edge mode: there a registered waiter also
//! arms the one-shot registration (`Source::arm`, see `sys`).

use std::io;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::task::{Context, Poll, Waker};

use goro_lock::lock;

use crate::coop;
use crate::sys::{self, RawSource};

/// Which way an operation waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

#[derive(Default)]
struct Waiters {
    wakers: Vec<Waker>,
}

/// A descriptor registered with the reactor.
pub(crate) struct Source {
    pub(crate) fd: RawSource,
    pub(crate) key: usize,
    ticks: [AtomicU64; 2],
    /// Per direction (only writes use it): the edge count at which a stream
    /// write last came up short (filled the send buffer), so the next one
    /// waits for a new edge instead of trying a syscall that would fail.
    drained: [AtomicU64; 2],
    waiters: [Mutex<Waiters>; 2],
    /// Serialises arming, so the last arm covers every waiter registered
    /// before it started.
    #[cfg(windows)]
    arm: Mutex<()>,
}

impl Source {
    pub(crate) fn new(fd: RawSource, key: usize) -> Self {
        Source {
            fd,
            key,
            ticks: [AtomicU64::new(0), AtomicU64::new(0)],
            drained: [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)],
            waiters: [
                Mutex::new(Waiters::default()),
                Mutex::new(Waiters::default()),
            ],
            #[cfg(windows)]
            arm: Mutex::new(()),
        }
    }

    /// An edge arrived for `dir`: bump its count and wake its waiters.
    pub(crate) fn ready(&self, dir: Direction, wake: &mut Vec<Waker>) {
        let mut w = lock(&self.waiters[dir as usize]);
        self.ticks[dir as usize].fetch_add(1, Release);
        wake.append(&mut w.wakers);
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for edges
    /// in `dir` in between. Honours the cooperative budget.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            let tick = self.ticks[dir as usize].load(Acquire);
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => {
                    coop::spend();
                    return Poll::Ready(res);
                }
            }
            if self.register_if_unchanged(cx, dir, tick) {
                coop::reset();
                return Poll::Pending;
            }
        }
    }

    /// [`Source::poll_io`] for a byte-stream write of `len` bytes: when one
    /// writes fewer bytes than asked, the send buffer was full at that
    /// moment, so the next write skips its syscall (it would return
    /// `WouldBlock`) until a new writable edge arrives.
    ///
    /// Not for reads: tokio skips the read after a short one too, but it
    /// learns of a peer's half-close from `EPOLLRDHUP`, which `polling`
    /// does not report; data and FIN that arrive in one edge would leave
    /// the EOF unread forever (`tests/net_tcp.rs` checks that case).
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        mut op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let d = dir as usize;
        loop {
            let tick = self.ticks[d].load(Acquire);
            if len == 0 || self.drained[d].load(Relaxed) != tick {
                match op() {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Ok(n) => {
                        if n > 0 && n < len {
                            self.drained[d].store(tick, Relaxed);
                        }
                        coop::spend();
                        return Poll::Ready(Ok(n));
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            if self.register_if_unchanged(cx, dir, tick) {
                coop::reset();
                return Poll::Pending;
            }
        }
    }

    /// Registers the task's waker for `dir` unless an edge arrived since
    /// `tick` was read; returns whether it registered.
    fn register_if_unchanged(&self, cx: &Context<'_>, dir: Direction, tick: u64) -> bool {
        let mut w = lock(&self.waiters[dir as usize]);
        if self.ticks[dir as usize].load(Acquire) != tick {
            return false;
        }
        if !w.wakers.iter().any(|k| k.will_wake(cx.waker())) {
            w.wakers.push(cx.waker().clone());
        }
        crate::wait::note(crate::wait::Wait::Io);
        #[cfg(windows)]
        {
            drop(w);
            self.arm(&crate::Reactor::get().poller);
        }
        true
    }

    /// Windows: re-registers the one-shot interest in the directions that
    /// have waiters (nothing if none has). Errors are ignored: a socket
    /// being deregistered has nobody left to wake.
    #[cfg(windows)]
    pub(crate) fn arm(&self, poller: &polling::Poller) {
        let _serial = lock(&self.arm);
        let read = !lock(&self.waiters[Direction::Read as usize])
            .wakers
            .is_empty();
        let write = !lock(&self.waiters[Direction::Write as usize])
            .wakers
            .is_empty();
        if read || write {
            // SAFETY: a source's socket stays open until it is deregistered;
            // arming one that was, fails.
            let socket = unsafe { sys::borrow(self.fd) };
            let _ = poller.modify_with_mode(
                socket,
                polling::Event::new(self.key, read, write),
                sys::MODE,
            );
        }
    }

    /// Waits until the descriptor is ready in `dir`: at once if it is now
    /// (checked with `poll(2)`: with edge-triggered registration, a
    /// descriptor that is already ready sends no further edge), else at the
    /// next edge.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        loop {
            let tick = self.ticks[dir as usize].load(Acquire);
            if self.is_ready_now(dir)? {
                return Poll::Ready(Ok(()));
            }
            if self.register_if_unchanged(cx, dir, tick) {
                return Poll::Pending;
            }
        }
    }

    fn is_ready_now(&self, dir: Direction) -> io::Result<bool> {
        sys::is_ready_now(self.fd, dir)
    }

    /// Wakes every waiter (the source is going away or the reactor shuts
    /// down); they will see an error or retry their syscall.
    pub(crate) fn wake_all(&self, wake: &mut Vec<Waker>) {
        self.ready(Direction::Read, wake);
        self.ready(Direction::Write, wake);
    }
}
