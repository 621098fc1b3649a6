//! The reactor: one poller for the process (like Go's netpoller),
//! the registered sources, and the timers. It has no thread of its own: the
//! runtime's workers poll it (see `goro_executor::Driver`), one at a time.

use std::io;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant};

use goro_lock::lock;
use slab::Slab;

use crate::poller::{Events, Poller};
use crate::source::{Direction, Source};
use crate::sys::{self, RawSource};
use crate::time::shards::{TimerRef, Timers};

/// Events taken from the poller per wait (Go takes 128, tokio 1024).
const EVENTS: usize = 1024;

/// "No thread is blocked in the poller" in `Reactor::blocked_until`.
const NOT_BLOCKED: u64 = 0;

/// Attempts at creating the poller before [`Reactor::try_get`] gives up:
/// running out of descriptors (`EMFILE`) may pass as other threads close
/// theirs. About 0.6 s in all.
const CREATE_ATTEMPTS: u32 = 6;
/// The longest pause between two failed waits of the poller; see
/// [`Reactor::poll`].
const MAX_WAIT_BACKOFF: Duration = Duration::from_millis(100);

/// The process's I/O reactor and timers.
///
/// Users rarely touch it: the net types and timers register themselves, and
/// a goro runtime polls it. [`Reactor::get`] returns the one instance.
///
/// # Examples
///
/// ```
/// let r = goro_reactor::Reactor::get();
/// assert!(r.try_acquire());
/// r.poll(Some(std::time::Duration::ZERO)); // nothing registered: returns at once
/// r.release();
/// ```
pub struct Reactor {
    pub(crate) poller: Poller,
    sources: Mutex<Slab<Arc<Source>>>,
    num_sources: AtomicUsize,
    events: Mutex<Events>,
    /// The poller role: at most one thread polls at a time.
    polling: AtomicBool,
    /// While a thread blocks in the poller: the deadline it will wake at,
    /// in ns since the timers' epoch (`u64::MAX`: none); else
    /// [`NOT_BLOCKED`]. A timer inserted before it
    /// interrupts the wait.
    blocked_until: AtomicU64,
    /// When the last poll finished, in ms since the timers' epoch.
    last_poll: AtomicU64,
    /// Waits of the poller that failed in a row (not counting `EINTR`).
    wait_errors: AtomicU32,
    pub(crate) timers: Timers,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &self.num_sources.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Reactor {
    /// The process's reactor, created on first use.
    ///
    /// # Panics
    /// If the OS refuses to create the poller; see [`Reactor::try_get`],
    /// whose error this panics with. A goro runtime's `Builder::build`
    /// creates the reactor, so a program that builds its runtime first
    /// gets that error from `build` instead.
    pub fn get() -> &'static Reactor {
        Reactor::try_get().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The process's reactor, created on first use, or why it cannot be.
    ///
    /// Creating the poller (`epoll_create1` and an `eventfd`) fails mostly
    /// for lack of file descriptors, which may pass as other threads close
    /// theirs, so it is tried a few times over about half a second.
    ///
    /// # Errors
    /// The last error of the OS, with its kind kept and a message that
    /// names the poller and, for `EMFILE`/`ENFILE`, the descriptor limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = goro_reactor::Reactor::try_get().unwrap();
    /// assert!(std::ptr::eq(r, goro_reactor::Reactor::get()));
    /// ```
    pub fn try_get() -> io::Result<&'static Reactor> {
        static REACTOR: OnceLock<Reactor> = OnceLock::new();
        static CREATING: Mutex<()> = Mutex::new(());
        if let Some(r) = REACTOR.get() {
            return Ok(r);
        }
        let _one_at_a_time = lock(&CREATING);
        if let Some(r) = REACTOR.get() {
            return Ok(r);
        }
        let reactor = Reactor::new()?;
        Ok(REACTOR.get_or_init(|| reactor))
    }

    /// A reactor of its own (the process normally has one: [`Reactor::get`]).
    fn new() -> io::Result<Reactor> {
        let mut pause = Duration::from_millis(10);
        let mut attempt = 1;
        let poller = loop {
            match Poller::new() {
                Ok(p) => break p,
                Err(_) if attempt < CREATE_ATTEMPTS => {
                    std::thread::sleep(pause);
                    pause *= 2;
                    attempt += 1;
                }
                Err(e) => return Err(poller_error(e, attempt)),
            }
        };
        Ok(Reactor {
            poller,
            sources: Mutex::new(Slab::new()),
            num_sources: AtomicUsize::new(0),
            events: Mutex::new(Events::with_capacity(EVENTS)),
            polling: AtomicBool::new(false),
            blocked_until: AtomicU64::new(NOT_BLOCKED),
            last_poll: AtomicU64::new(0),
            wait_errors: AtomicU32::new(0),
            timers: Timers::new(num_cpus::get().max(2)),
        })
    }

    /// Registers `fd` (which must stay open until [`Reactor::deregister`]).
    pub(crate) fn register(&self, fd: RawSource) -> io::Result<Arc<Source>> {
        let source = {
            let mut sources = lock(&self.sources);
            let entry = sources.vacant_entry();
            let source = Arc::new(Source::new(fd, entry.key()));
            entry.insert(source.clone());
            source
        };
        // On Windows, one-shot with no interest: armed when a task waits
        // (`Source::arm`).
        // SAFETY: the caller (`Async`) owns the descriptor and calls
        // `deregister` before closing it.
        let res = unsafe { self.poller.add(fd, source.key) };
        if let Err(e) = res {
            lock(&self.sources).remove(source.key);
            return Err(e);
        }
        self.num_sources.fetch_add(1, SeqCst);
        Ok(source)
    }

    /// Removes `source`; its descriptor may be closed afterwards.
    pub(crate) fn deregister(&self, source: &Source) -> io::Result<()> {
        // SAFETY: the descriptor is still open: `Async` drops its I/O object
        // only after this returns.
        let fd = unsafe { sys::borrow(source.fd) };
        let res = self.poller.delete(fd);
        lock(&self.sources).remove(source.key);
        self.num_sources.fetch_sub(1, SeqCst);
        let mut wake = Vec::new();
        source.wake_all(&mut wake);
        wake.into_iter().for_each(Waker::wake);
        res
    }

    /// Takes the poller role; see `goro_executor::Driver::try_acquire`.
    pub fn try_acquire(&self) -> bool {
        !self.polling.load(Relaxed) && !self.polling.swap(true, Acquire)
    }

    /// Gives the poller role back.
    pub fn release(&self) {
        self.polling.store(false, Release);
    }

    /// Whether a thread holds the poller role.
    pub fn is_polling(&self) -> bool {
        self.polling.load(SeqCst)
    }

    /// With the poller role held: fires due timers, waits for I/O events
    /// for at most `timeout` (`None`: until an event, the next timer or
    /// [`Reactor::notify`]), and wakes the tasks that are ready.
    pub fn poll(&self, timeout: Option<Duration>) {
        let mut wake = Vec::new();
        let next = self.timers.fire_all(&mut wake);
        let mut events = lock(&self.events);
        events.clear();
        let blocking = timeout != Some(Duration::ZERO) && wake.is_empty();
        let wait = if blocking {
            // Publish the wait before reading the timers one last time: a
            // timer inserted concurrently either is seen here or sees us
            // blocked and notifies (both sides use SeqCst).
            self.blocked_until.store(u64::MAX, SeqCst);
            let next = next.min(self.timers.next_deadline());
            let until_timer = (next != u64::MAX).then(|| {
                self.timers
                    .instant_of(next)
                    .saturating_duration_since(Instant::now())
            });
            let wait = match (timeout, until_timer) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if next != u64::MAX {
                self.blocked_until.store(next, SeqCst);
            }
            wait
        } else {
            Some(Duration::ZERO)
        };
        let res = self.poller.wait(&mut events, wait);
        if blocking {
            self.blocked_until.store(NOT_BLOCKED, SeqCst);
        }
        match res {
            Ok(_) => self.wait_errors.store(0, Relaxed),
            // A signal: the caller polls again soon.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => self.wait_failed(&e),
        }
        if !events.is_empty() {
            let sources = lock(&self.sources);
            for ev in events.iter() {
                if let Some(s) = sources.get(ev.key) {
                    if ev.read_closed {
                        s.read_closed();
                    }
                    if ev.readable {
                        s.ready(Direction::Read, &mut wake);
                    }
                    if ev.writable {
                        s.ready(Direction::Write, &mut wake);
                    }
                    // The event disarmed the socket: re-arm it for the
                    // other direction's waiters, if any.
                    #[cfg(windows)]
                    s.arm(&self.poller);
                }
            }
        }
        drop(events);
        if blocking {
            self.timers.fire_all(&mut wake);
        }
        self.last_poll.store(self.timers.now_ms(), Relaxed);
        for w in wake {
            w.wake();
        }
    }

    /// A wait of the poller failed with something else than `EINTR`: says
    /// so on stderr (the first time, then at every power of two in a row),
    /// and pauses before the caller polls again, 1 ms doubling up to
    /// [`MAX_WAIT_BACKOFF`], so a persistent error does not spin a core.
    /// Timers and I/O wait meanwhile; the next successful wait resets it.
    #[cold]
    fn wait_failed(&self, e: &io::Error) {
        let n = self.wait_errors.fetch_add(1, Relaxed).saturating_add(1);
        if n.is_power_of_two() {
            eprintln!(
                "goro: waiting for I/O events failed ({n} time(s) in a row): {e}; \
                 retrying with a pause of up to {MAX_WAIT_BACKOFF:?}"
            );
        }
        let pause = Duration::from_millis(1u64 << (n - 1).min(16)).min(MAX_WAIT_BACKOFF);
        std::thread::sleep(pause);
    }

    /// Waits of the poller that failed in a row (0 when the last one
    /// worked), not counting interruptions by a signal.
    pub fn wait_errors(&self) -> u32 {
        self.wait_errors.load(Relaxed)
    }

    /// Interrupts a blocked [`Reactor::poll`], or makes the next one return
    /// at once.
    pub fn notify(&self) {
        let _ = self.poller.notify();
    }

    /// Fires the due timers of worker `proc`'s shard. Workers call this on
    /// every scheduling tick: the check for an empty shard is inlined, the
    /// rest is not.
    #[inline]
    pub fn tick(&self, proc: usize) {
        if self.timers.may_be_due(proc) {
            self.fire_due(proc);
        }
    }

    #[inline(never)]
    fn fire_due(&self, proc: usize) {
        let mut wake = Vec::new();
        self.timers.tick(proc, &mut wake);
        for w in wake {
            w.wake();
        }
    }

    /// Whether a pending timer falls due within `horizon` from now (one
    /// load per shard and a clock read).
    pub fn timer_due_within(&self, horizon: Duration) -> bool {
        let next = self.timers.next_deadline();
        next != u64::MAX
            && next
                <= self
                    .timers
                    .now_ns()
                    .saturating_add(horizon.as_nanos() as u64)
    }

    /// Whether any task may wait on the reactor: a registered source or a
    /// pending timer.
    pub fn has_waiters(&self) -> bool {
        self.num_sources.load(Relaxed) != 0 || self.timers.any()
    }

    /// Whether a poll is overdue: waiters exist, no thread polls now, and
    /// the last poll finished more than `stale` ago.
    pub fn needs_poll(&self, stale: Duration) -> bool {
        self.has_waiters()
            && !self.polling.load(Acquire)
            && self
                .timers
                .now_ms()
                .saturating_sub(self.last_poll.load(Relaxed))
                >= stale.as_millis() as u64
    }

    /// Number of registered I/O sources.
    pub fn num_sources(&self) -> usize {
        self.num_sources.load(Relaxed)
    }

    /// Number of pending timers (takes each shard's lock briefly).
    pub fn num_timers(&self) -> usize {
        self.timers.len()
    }

    /// Adds a timer and interrupts a poller that would sleep past it.
    pub(crate) fn insert_timer(&self, at: Instant, waker: &Waker) -> Option<TimerRef> {
        let (t, ns) = self.timers.insert(at, waker)?;
        let until = self.blocked_until.load(SeqCst);
        if until != NOT_BLOCKED && ns < until {
            self.notify();
        }
        Some(t)
    }
}

/// The error of a poller that could not be created, after `attempts` tries.
fn poller_error(e: io::Error, attempts: u32) -> io::Error {
    let hint = match e.raw_os_error() {
        Some(libc::EMFILE) => " (the process is out of file descriptors: see `ulimit -n`)",
        Some(libc::ENFILE) => " (the system is out of file descriptors)",
        _ => "",
    };
    io::Error::new(
        e.kind(),
        format!(
            "goro: cannot create the I/O poller (epoll and eventfd), {attempts} attempts: {e}{hint}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// A poller whose every wait fails (its epoll descriptor replaced by
    /// one that is not an epoll instance: `EINVAL`) neither panics nor
    /// spins: each failed wait pauses, longer each time.
    #[test]
    fn a_persistent_wait_error_backs_off_instead_of_spinning() {
        let r = Reactor::new().unwrap();
        let devnull = std::fs::File::open("/dev/null").unwrap();
        // SAFETY: replaces the poller's own descriptor number with a copy
        // of /dev/null; the reactor is private to this test and dropped at
        // its end, closing that copy.
        assert!(unsafe { libc::dup2(devnull.as_raw_fd(), r.poller.as_raw_fd()) } >= 0);
        assert!(r.try_acquire());
        let start = Instant::now();
        for _ in 0..6 {
            r.poll(Some(Duration::from_millis(1)));
        }
        let took = start.elapsed();
        r.release();
        // Pauses of 1 + 2 + 4 + 8 + 16 + 32 ms: a floor, whatever the load.
        assert!(
            took >= Duration::from_millis(63),
            "6 failed waits in {took:?}"
        );
        assert_eq!(r.wait_errors(), 6);
    }

    #[test]
    fn a_poller_error_names_the_poller_and_the_limit() {
        let e = poller_error(io::Error::from_raw_os_error(libc::EMFILE), 6);
        let msg = e.to_string();
        assert!(msg.contains("cannot create the I/O poller"), "{msg}");
        assert!(msg.contains("6 attempts"), "{msg}");
        assert!(msg.contains("ulimit -n"), "{msg}");
        assert_eq!(e.raw_os_error(), None);
    }
}
