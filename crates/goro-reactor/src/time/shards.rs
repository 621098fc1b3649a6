//! Timer storage split by P, so that workers never contend on one timer
//! lock (tokio's global wheel mutex, tokio#6504). A timer goes to the shard
//! of the worker that creates it ([`set_proc_hint`]); other threads spread
//! over the shards. Each worker fires its own shard's due timers on every
//! scheduling tick, and whichever thread polls the reactor fires every
//! shard's, so the timers of a sleeping or stalled worker still fire on
//! time (Go's per-P timer heaps work the same way).

use std::cell::Cell;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Mutex, OnceLock};
use std::task::Waker;
use std::time::Instant;

use goro_lock::lock;

use super::mono::Epoch;
use super::wheel::{SLOT_NS, TimerKey, Wheel};

/// Where a timer lives: its shard and its key there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimerRef {
    shard: usize,
    key: TimerKey,
}

#[repr(align(128))]
struct Shard {
    wheel: Mutex<Wheel>,
    /// The wheel's earliest possible deadline (ns since the epoch),
    /// readable without the lock; `u64::MAX` when it holds no timer.
    next: AtomicU64,
}

pub(crate) struct Timers {
    epoch: Epoch,
    shards: Box<[Shard]>,
}

static PROC_HINT: OnceLock<fn() -> Option<usize>> = OnceLock::new();

/// Tells the reactor how to find the index of the P (worker) the calling
/// thread runs, so that timers are stored per worker. The `goro` facade
/// passes `goro_executor::current_proc`; only the first call counts.
pub fn set_proc_hint(f: fn() -> Option<usize>) {
    let _ = PROC_HINT.set(f);
}

impl Timers {
    pub(crate) fn new(shards: usize) -> Self {
        Timers {
            epoch: Epoch::new(),
            shards: (0..shards.max(1))
                .map(|_| Shard {
                    wheel: Mutex::new(Wheel::new(0)),
                    next: AtomicU64::new(u64::MAX),
                })
                .collect(),
        }
    }

    /// Nanoseconds since the epoch.
    pub(crate) fn now_ns(&self) -> u64 {
        self.epoch.now_ns()
    }

    /// Milliseconds since the epoch, rounded down.
    pub(crate) fn now_ms(&self) -> u64 {
        self.now_ns() / SLOT_NS
    }

    /// `at` in nanoseconds since the epoch (an instant before the epoch
    /// is the epoch: due at once).
    fn deadline_ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch.instant())
            .as_nanos() as u64
    }

    /// The instant of `ns` nanoseconds since the epoch.
    pub(crate) fn instant_of(&self, ns: u64) -> Instant {
        self.epoch.instant() + std::time::Duration::from_nanos(ns)
    }

    /// The shard of P `i`. There is one shard per P at start; Ps added by a
    /// resize share them. Skips the division in the common case: this runs
    /// on every scheduling tick, and the `div` took half of `tick`'s
    /// samples in a `yield_many` profile.
    #[inline]
    fn shard_of(&self, i: usize) -> usize {
        let n = self.shards.len();
        if i < n { i } else { i % n }
    }

    fn shard_index(&self) -> usize {
        thread_local! {
            static SPREAD: Cell<usize> = const { Cell::new(usize::MAX) };
        }
        let n = self.shards.len();
        if let Some(p) = PROC_HINT.get().and_then(|f| f()) {
            return self.shard_of(p);
        }
        SPREAD
            .try_with(|s| {
                if s.get() == usize::MAX {
                    static NEXT: std::sync::atomic::AtomicUsize =
                        std::sync::atomic::AtomicUsize::new(0);
                    s.set(NEXT.fetch_add(1, Relaxed));
                }
                s.get() % n
            })
            .unwrap_or(0)
    }

    /// Adds a timer for `at`; returns it and its deadline in ns since the
    /// epoch, or `None` if it is due already.
    pub(crate) fn insert(&self, at: Instant, waker: &Waker) -> Option<(TimerRef, u64)> {
        let ns = self.deadline_ns(at);
        let shard = self.shard_index();
        let s = &self.shards[shard];
        let mut wheel = lock(&s.wheel);
        let key = wheel.insert(ns, waker.clone())?;
        if ns < s.next.load(Relaxed) {
            s.next.store(ns, SeqCst);
        }
        Some((TimerRef { shard, key }, ns))
    }

    /// Refreshes the waker of a pending timer; `false` if it fired.
    pub(crate) fn update(&self, t: TimerRef, waker: &Waker) -> bool {
        lock(&self.shards[t.shard].wheel).update(t.key, waker)
    }

    pub(crate) fn cancel(&self, t: TimerRef) {
        let s = &self.shards[t.shard];
        let mut wheel = lock(&s.wheel);
        wheel.cancel(t.key);
        if wheel.len() == 0 {
            s.next.store(u64::MAX, SeqCst);
        }
    }

    /// Whether shard `i` holds any timer (one load): the fast path of
    /// [`tick`](Self::tick).
    #[inline]
    pub(crate) fn may_be_due(&self, i: usize) -> bool {
        self.shards[self.shard_of(i)].next.load(Relaxed) != u64::MAX
    }

    /// Fires shard `i`'s due timers; the caller has seen
    /// [`may_be_due`](Self::may_be_due).
    pub(crate) fn tick(&self, i: usize, wake: &mut Vec<Waker>) {
        let s = &self.shards[self.shard_of(i)];
        let now = self.now_ns();
        if s.next.load(Relaxed) <= now {
            Self::fire_shard(s, now, wake);
        }
    }

    fn fire_shard(s: &Shard, now: u64, wake: &mut Vec<Waker>) {
        let mut wheel = lock(&s.wheel);
        wheel.fire(now, wake);
        s.next.store(wheel.next_deadline(), SeqCst);
    }

    /// Fires every shard's due timers; returns the earliest deadline left
    /// (ns since the epoch).
    pub(crate) fn fire_all(&self, wake: &mut Vec<Waker>) -> u64 {
        let now = self.now_ns();
        for s in self.shards.iter() {
            if s.next.load(SeqCst) <= now {
                Self::fire_shard(s, now, wake);
            }
        }
        self.next_deadline()
    }

    /// The earliest deadline over all shards, ns since the epoch
    /// (`u64::MAX`: none).
    pub(crate) fn next_deadline(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.next.load(SeqCst))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Whether any timer is pending.
    pub(crate) fn any(&self) -> bool {
        self.shards.iter().any(|s| s.next.load(Relaxed) != u64::MAX)
    }

    /// Live timers, summed over shards (locks each; for statistics).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.wheel).len()).sum()
    }
}
