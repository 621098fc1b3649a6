//! The reactor: one `polling::Poller` for the process (like Go's netpoller),
//! the registered sources, and the timers. It has no thread of its own: the
//! runtime's workers poll it (see `goro_executor::Driver`), one at a time.

use std::io;
use std::num::NonZeroUsize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};
use slab::Slab;

use crate::source::{Direction, Source};
use crate::sys::{self, RawSource};
use crate::time::shards::{TimerRef, Timers};

/// Events taken from the poller per wait (Go takes 128, tokio 1024).
const EVENTS: usize = 1024;

/// "No thread is blocked in the poller" in `Reactor::blocked_until`.
const NOT_BLOCKED: u64 = 0;

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
    /// While a thread blocks in the poller: the ms deadline it will wake at
    /// (`u64::MAX`: none); else [`NOT_BLOCKED`]. A timer inserted before it
    /// interrupts the wait.
    blocked_until: AtomicU64,
    /// When the last poll finished, in ms since the timers' epoch.
    last_poll: AtomicU64,
    pub(crate) timers: Timers,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &self.num_sources.load(Relaxed))
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Reactor {
    /// The process's reactor, created on first use.
    ///
    /// # Panics
    /// If the OS refuses to create the poller (`epoll_create1`/`eventfd`
    /// failing, typically for lack of file descriptors at start-up).
    pub fn get() -> &'static Reactor {
        static REACTOR: OnceLock<Reactor> = OnceLock::new();
        REACTOR.get_or_init(|| {
            let poller =
                Poller::new().unwrap_or_else(|e| panic!("goro: cannot create the I/O poller: {e}"));
            Reactor {
                poller,
                sources: Mutex::new(Slab::new()),
                num_sources: AtomicUsize::new(0),
                events: Mutex::new(Events::with_capacity(
                    NonZeroUsize::new(EVENTS).expect("nonzero"),
                )),
                polling: AtomicBool::new(false),
                blocked_until: AtomicU64::new(NOT_BLOCKED),
                last_poll: AtomicU64::new(0),
                timers: Timers::new(num_cpus::get().max(2)),
            }
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
        #[cfg(unix)]
        let interest = Event::all(source.key);
        // One-shot: armed when a task waits (`Source::arm`).
        #[cfg(windows)]
        let interest = Event::none(source.key);
        // SAFETY: the caller (`Async`) owns the descriptor and calls
        // `deregister` before closing it.
        let res = unsafe { self.poller.add_with_mode(fd, interest, sys::MODE) };
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
        if let Err(e) = res {
            // EINTR and the like: the caller polls again soon.
            debug_assert!(
                e.kind() == io::ErrorKind::Interrupted,
                "poller wait failed: {e}"
            );
        }
        if !events.is_empty() {
            let sources = lock(&self.sources);
            for ev in events.iter() {
                if let Some(s) = sources.get(ev.key) {
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
        let (t, ms) = self.timers.insert(at, waker)?;
        let until = self.blocked_until.load(SeqCst);
        if until != NOT_BLOCKED && ms < until {
            self.notify();
        }
        Some(t)
    }
}
