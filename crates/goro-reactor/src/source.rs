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
//! arms the one-shot registration (`Source::arm`, see `poller`).

use std::io;
use std::sync::Mutex;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::task::{Context, Poll, Waker};

use goro_lock::lock;

use crate::coop;
use crate::poller;
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
    /// Per direction: the edge count at which a stream read or write last
    /// came up short (drained the receive buffer, filled the send buffer),
    /// so the next one waits for a new edge instead of trying a syscall
    /// that would fail (see [`Source::poll_stream_io`]).
    drained: [AtomicU64; 2],
    /// The read side closed for good (see [`Source::read_closed`]).
    read_closed: AtomicBool,
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
            read_closed: AtomicBool::new(false),
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

    /// [`Source::poll_io`] for a byte-stream read or write of `len` bytes:
    /// when one moves fewer bytes than asked, the socket's buffer was
    /// drained (read) or filled (write) at that moment, so the next call in
    /// that direction skips its syscall (it would return `WouldBlock`)
    /// until a new edge arrives, as tokio does. For an HTTP keep-alive
    /// connection that is one `recv` per request instead of two.
    ///
    /// Reads skip only where the poller reports a peer's half-close
    /// ([`poller::REPORTS_READ_CLOSED`], `EPOLLRDHUP`) and it has not:
    /// data and FIN that arrive in one edge give a short read, then an EOF
    /// that no further edge announces (`tests/net_tcp.rs` checks that
    /// case). Elsewhere reads go on until `WouldBlock`, as Go's do.
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
            if len == 0 || self.drained[d].load(Relaxed) != tick || self.may_be_closed(dir) {
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

    /// Whether a skipped read could miss an EOF: the poller cannot say the
    /// read side closed, or it did (set before the edge that told of it).
    fn may_be_closed(&self, dir: Direction) -> bool {
        dir == Direction::Read && (!poller::REPORTS_READ_CLOSED || self.read_closed.load(Acquire))
    }

    /// The poller reported the read side closed (a peer's half-close, a
    /// hang-up or an error): stream reads never skip their syscall again.
    /// Called before the edge of the same event is counted.
    pub(crate) fn read_closed(&self) {
        self.read_closed.store(true, Release);
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
    pub(crate) fn arm(&self, poller: &poller::Poller) {
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
            let _ = poller.arm(socket, self.key, read, write);
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::{Async, Reactor};
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::task::Waker;
    use std::time::{Duration, Instant};

    /// Polls the reactor (or lets whoever holds it do so) until `source`
    /// has seen a read edge past `tick`.
    fn wait_read_edge(source: &Source, tick: u64) {
        wait_until(|| source.ticks[Direction::Read as usize].load(Acquire) != tick);
    }

    fn wait_until(done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < Duration::from_secs(10), "no event");
            let r = Reactor::get();
            if r.try_acquire() {
                r.poll(Some(Duration::from_millis(10)));
                r.release();
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// A server socket with a connected client, and a read that counts its
    /// `recv` calls.
    struct Pair {
        client: TcpStream,
        server: Async<TcpStream>,
        recvs: usize,
    }

    impl Pair {
        fn new() -> Pair {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let server = Async::new(listener.accept().unwrap().0).unwrap();
            Pair {
                client,
                server,
                recvs: 0,
            }
        }

        fn tick(&self) -> u64 {
            self.server.source().ticks[Direction::Read as usize].load(Acquire)
        }

        /// One stream read of up to 64 bytes: `Some(bytes)`, or `None` if
        /// it would wait.
        fn read(&mut self) -> Option<Vec<u8>> {
            let mut cx = Context::from_waker(Waker::noop());
            let mut buf = [0u8; 64];
            let recvs = &mut self.recvs;
            match self.server.poll_stream(&mut cx, false, buf.len(), |mut s| {
                *recvs += 1;
                s.read(&mut buf)
            }) {
                Poll::Ready(n) => Some(buf[..n.unwrap()].to_vec()),
                Poll::Pending => None,
            }
        }

        fn send(&mut self, data: &[u8]) {
            let tick = self.tick();
            self.client.write_all(data).unwrap();
            wait_read_edge(self.server.source(), tick);
        }
    }

    /// After a read that came up short, the next one waits for a new edge
    /// without a `recv` (it would return `EAGAIN`), where the poller
    /// reports half-closes; elsewhere it tries the `recv`.
    #[test]
    fn a_short_stream_read_skips_the_next_recv_until_a_new_edge() {
        let mut p = Pair::new();
        p.send(b"hello");
        assert_eq!(p.read().as_deref(), Some(&b"hello"[..]));
        assert_eq!(p.recvs, 1);
        assert_eq!(p.read(), None);
        let expected = if poller::REPORTS_READ_CLOSED { 1 } else { 2 };
        assert_eq!(p.recvs, expected, "recv calls after a short read");
        // New data is a new edge: the read tries again.
        p.send(b"again");
        assert_eq!(p.read().as_deref(), Some(&b"again"[..]));
        assert_eq!(p.recvs, expected + 1);
    }

    /// Data and FIN in one edge: the short read of the data must not hide
    /// the EOF behind it (no further edge will come).
    #[test]
    fn a_short_read_before_a_half_close_still_reads_the_eof() {
        let mut p = Pair::new();
        p.client.write_all(b"bye").unwrap();
        let tick = p.tick();
        p.client.shutdown(Shutdown::Write).unwrap();
        // Both the data and the FIN are in before the edge is delivered.
        std::thread::sleep(Duration::from_millis(20));
        let source = p.server.source().clone();
        if poller::REPORTS_READ_CLOSED {
            wait_until(|| source.read_closed.load(Acquire));
        } else {
            wait_read_edge(&source, tick);
        }
        let tick = p.tick();
        assert_eq!(p.read().as_deref(), Some(&b"bye"[..]));
        assert_eq!(p.read().as_deref(), Some(&b""[..]), "the EOF");
        assert_eq!(p.tick(), tick, "read without a new edge");
    }
}
