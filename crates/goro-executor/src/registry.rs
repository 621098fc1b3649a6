//! Every parked task of a runtime, so that shutdown can drop every task's
//! future, including tasks parked on wakers held elsewhere (in the reactor,
//! in a channel): without it a parked task whose waker lives in the
//! runtime's own reactor would keep the runtime alive through its schedule
//! function, and never be dropped. It also counts live tasks (Go's
//! `runtime.NumGoroutine`).
//!
//! A task registers the first time its future returns `Pending`, not at
//! spawn: a task that is queued or running is reached through the queues at
//! shutdown anyway, and most short tasks finish in their first poll, so they
//! never touch a registry lock. Live tasks are counted with per-thread
//! counters instead: each worker thread has its own pair
//! ([`ThreadCounts`], written with a plain load and store, no atomic
//! read-modify-write); other threads count on sharded atomics.
//!
//! Sharded by spawning thread, so spawns on different workers do not contend
//! on one lock (async-executor keeps one global `Mutex<Slab>`).
//!
//! The task dump (`dump`) lists the tasks registered here: every task that
//! has waited at least once. Each entry keeps the address of the task's
//! `TaskMeta` next to its waker, given by the task itself when it registers,
//! so the dump never derives one from the other (async-task's memory layout
//! is not a promise).
//!
//! A task's key is 32 bits (shard in the low bits, slot above), which keeps
//! `TaskMeta` at 40 bytes: with at most [`MAX_SHARDS`] shards a shard holds
//! 16 million tasks, and a full shard spills into the next one.

use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::task::Waker;

use crate::padded::Padded;
use crate::sync::{Arc, AtomicBool, AtomicUsize, Mutex, lock};
use crate::task::TaskMeta;

/// Most shards: 8 bits of the 32-bit key.
const MAX_SHARDS: usize = 256;

pub(crate) struct Registry {
    shards: Box<[Padded<Mutex<Shard>>]>,
    /// Bits of a key that select the shard.
    shard_bits: u32,
    /// Tasks spawned and finished, counted on the thread's own shard.
    spawned: Box<[Padded<AtomicUsize>]>,
    finished: Box<[Padded<AtomicUsize>]>,
    /// The counts of each worker thread running now; a thread's counts are
    /// folded into `spawned` / `finished` when it stops (under this lock,
    /// which readers of the totals take too).
    threads: Mutex<Vec<Arc<Padded<ThreadCounts>>>>,
    closed: AtomicBool,
}

/// Tasks spawned and finished on one worker thread, which alone writes
/// them: a plain load and store each, where the sharded counters need an
/// atomic read-modify-write.
#[derive(Default)]
pub(crate) struct ThreadCounts {
    spawned: AtomicUsize,
    finished: AtomicUsize,
}

impl ThreadCounts {
    /// Counts a task spawned by the owning thread.
    #[inline]
    pub(crate) fn note_spawned(&self) {
        self.spawned.store(self.spawned.load(Relaxed) + 1, Release);
    }

    /// Counts a task whose future the owning thread dropped.
    #[inline]
    pub(crate) fn note_finished(&self) {
        self.finished
            .store(self.finished.load(Relaxed) + 1, Release);
    }
}

#[derive(Default)]
struct Shard {
    /// Each parked task, so shutdown can schedule it one last time.
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
}

/// A registered task: a waker of it and its metadata.
struct Entry {
    waker: Waker,
    /// The task's `TaskMeta`, in the task's allocation, which `waker` keeps
    /// alive (a waker holds a reference on its task).
    meta: NonNull<TaskMeta>,
}

// SAFETY: `meta` is only read through a shared reference while `waker`
// keeps the allocation alive, and `TaskMeta` is `Sync`; `Waker` is `Send`.
unsafe impl Send for Entry {}

/// Where a task sits in the registry: `slot << shard_bits | shard`. Never
/// `u32::MAX` (`TaskMeta`'s "unregistered"): the last slot of a shard is
/// left unused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(u32);

impl Key {
    pub(crate) fn to_u32(self) -> u32 {
        self.0
    }
    pub(crate) fn from_u32(v: u32) -> Key {
        Key(v)
    }
}

impl Registry {
    pub(crate) fn new(workers: usize) -> Self {
        let n = (workers * 4).next_power_of_two().min(MAX_SHARDS);
        Registry {
            shard_bits: n.trailing_zeros(),
            shards: (0..n)
                .map(|_| Padded(Mutex::new(Shard::default())))
                .collect(),
            spawned: (0..n).map(|_| Padded(AtomicUsize::new(0))).collect(),
            finished: (0..n).map(|_| Padded(AtomicUsize::new(0))).collect(),
            threads: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// Slots one shard may hold.
    fn shard_capacity(&self) -> usize {
        (1usize << (32 - self.shard_bits)) - 1
    }

    fn split(&self, key: Key) -> (usize, usize) {
        let mask = (1u32 << self.shard_bits) - 1;
        ((key.0 & mask) as usize, (key.0 >> self.shard_bits) as usize)
    }

    /// Registers a task by one of its wakers and its metadata. `None` once
    /// shut down: the caller then drops the task.
    ///
    /// `meta` must stay valid while `waker` lives: the task's own metadata,
    /// which lives in the allocation the waker keeps alive.
    pub(crate) fn insert(&self, waker: Waker, meta: &TaskMeta) -> Option<Key> {
        let entry = Entry {
            waker,
            meta: NonNull::from(meta),
        };
        let n = self.shards.len();
        let first = shard_hint() & (n - 1);
        // The thread's own shard, or the next one with room.
        for shard_index in (first..n).chain(0..first) {
            let mut shard = lock(&self.shards[shard_index]);
            if self.closed.load(Relaxed) {
                return None;
            }
            let slot = match shard.free.pop() {
                Some(slot) => {
                    shard.slots[slot as usize] = Some(entry);
                    slot as usize
                }
                None if shard.slots.len() < self.shard_capacity() => {
                    shard.slots.push(Some(entry));
                    shard.slots.len() - 1
                }
                None => continue,
            };
            return Some(Key(((slot as u32) << self.shard_bits) | shard_index as u32));
        }
        // 2^32 parked tasks would take a terabyte.
        panic!("goro: more than 4 billion parked tasks");
    }

    /// Forgets a task whose future is gone.
    pub(crate) fn remove(&self, key: Key) {
        let (shard_index, slot) = self.split(key);
        let waker = {
            let mut shard = lock(&self.shards[shard_index]);
            let entry = shard.slots.get_mut(slot).and_then(Option::take);
            if entry.is_some() {
                shard.free.push(slot as u32);
            }
            entry
        };
        // Dropped outside the lock: dropping the last reference of a task
        // may run code that registers or removes tasks.
        drop(waker);
    }

    /// Wakes the task registered at `key`, if any.
    pub(crate) fn wake(&self, key: Key) {
        let (shard_index, slot) = self.split(key);
        let waker = {
            let shard = lock(&self.shards[shard_index]);
            shard
                .slots
                .get(slot)
                .and_then(Option::as_ref)
                .map(|e| e.waker.clone())
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Refuses further registrations and hands back a waker of every task
    /// still registered.
    pub(crate) fn close(&self) -> Vec<Waker> {
        self.closed.store(true, SeqCst);
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            all.extend(shard.slots.drain(..).flatten().map(|e| e.waker));
            shard.free.clear();
        }
        all
    }

    /// Calls `f` with the metadata of every registered task, one shard at a
    /// time under its lock (so each entry's waker, and the task it keeps
    /// alive, stays valid during the call). `f` must not touch the registry.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&TaskMeta)) {
        for shard in self.shards.iter() {
            let shard = lock(shard);
            for entry in shard.slots.iter().flatten() {
                // SAFETY: `insert`'s contract: the metadata lives in the
                // task's allocation, which the entry's waker keeps alive
                // while the shard lock keeps the entry in place.
                f(unsafe { entry.meta.as_ref() });
            }
        }
    }

    /// Counts for a worker thread that starts; give them back with
    /// [`Registry::detach`] when it stops.
    pub(crate) fn attach(&self) -> Arc<Padded<ThreadCounts>> {
        let counts = Arc::new(Padded(ThreadCounts::default()));
        lock(&self.threads).push(counts.clone());
        counts
    }

    /// A worker thread stops: folds its counts into the shared ones.
    pub(crate) fn detach(&self, counts: &Arc<Padded<ThreadCounts>>) {
        let mut threads = lock(&self.threads);
        threads.retain(|c| !Arc::ptr_eq(c, counts));
        // Under the lock, so a reader sees the counts in one place or the
        // other, never in both or neither.
        self.spawned[0].fetch_add(counts.spawned.load(Acquire), Relaxed);
        self.finished[0].fetch_add(counts.finished.load(Acquire), Relaxed);
    }

    /// Tasks spawned and finished so far.
    pub(crate) fn totals(&self) -> (u64, u64) {
        let (spawned, finished) = self.sums();
        (spawned as u64, finished as u64)
    }

    /// Spawned and finished, finished read first: a task counted there
    /// was counted as spawned before, so `spawned >= finished`.
    fn sums(&self) -> (usize, usize) {
        let threads = lock(&self.threads);
        let finished: usize = self.finished.iter().map(|c| c.load(Acquire)).sum::<usize>()
            + threads
                .iter()
                .map(|c| c.finished.load(Acquire))
                .sum::<usize>();
        let spawned: usize = self.spawned.iter().map(|c| c.load(Acquire)).sum::<usize>()
            + threads
                .iter()
                .map(|c| c.spawned.load(Acquire))
                .sum::<usize>();
        (spawned, finished)
    }

    /// Counts a spawned task (on a thread without [`ThreadCounts`]).
    pub(crate) fn note_spawned(&self) {
        let i = shard_hint() & (self.spawned.len() - 1);
        self.spawned[i].fetch_add(1, Relaxed);
    }

    /// Counts a task whose future is gone (on a thread without
    /// [`ThreadCounts`]).
    pub(crate) fn note_finished(&self) {
        let i = shard_hint() & (self.finished.len() - 1);
        self.finished[i].fetch_add(1, Relaxed);
    }

    /// Live tasks: spawned and not finished (a snapshot).
    pub(crate) fn len(&self) -> usize {
        let (spawned, finished) = self.sums();
        spawned.saturating_sub(finished)
    }

    /// Parked tasks currently registered.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn registered(&self) -> usize {
        self.shards
            .iter()
            .map(|s| lock(s).slots.iter().filter(|w| w.is_some()).count())
            .sum()
    }
}

/// A per-thread shard choice: threads spread over shards round-robin.
fn shard_hint() -> usize {
    use std::cell::Cell;
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HINT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    HINT.with(|h| {
        if h.get() == usize::MAX {
            h.set(NEXT.fetch_add(1, Relaxed));
        }
        h.get()
    })
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_reuses_slots_and_counts() {
        let meta = TaskMeta::new(std::panic::Location::caller(), None, false, 0);
        let r = Registry::new(1);
        let a = r.insert(Waker::noop().clone(), &meta).unwrap();
        let b = r.insert(Waker::noop().clone(), &meta).unwrap();
        assert_eq!(r.registered(), 2);
        r.remove(a);
        r.remove(a); // twice is harmless
        assert_eq!(r.registered(), 1);
        let c = r.insert(Waker::noop().clone(), &meta).unwrap();
        assert_eq!(c, a, "freed slot reused");
        assert_eq!(Key::from_u32(b.to_u32()), b);
        let mut seen = 0;
        r.for_each(|_| seen += 1);
        assert_eq!(seen, 2);
        assert_eq!(r.close().len(), 2);
        assert_eq!(r.registered(), 0);
        assert!(r.insert(Waker::noop().clone(), &meta).is_none());
        r.remove(b); // after close: nothing to do
    }

    #[test]
    fn keys_round_trip_and_a_full_shard_spills() {
        let meta = TaskMeta::new(std::panic::Location::caller(), None, false, 0);
        let mut r = Registry::new(2); // 8 shards: 3 bits, 2^29 - 1 slots each
        assert_eq!(r.shard_bits, 3);
        assert_eq!(r.shard_capacity(), (1 << 29) - 1);
        assert_eq!(Registry::new(1 << 16).shards.len(), MAX_SHARDS);
        // Pretend the capacity is 2 per shard by filling with bits to spare.
        r.shard_bits = 30;
        let keys: Vec<Key> = (0..5)
            .map(|_| r.insert(Waker::noop().clone(), &meta).unwrap())
            .collect();
        for k in &keys {
            assert_ne!(k.to_u32(), u32::MAX);
            let (shard, slot) = r.split(*k);
            assert!(shard < 8 && slot < 3, "{shard} {slot}");
        }
        let mut distinct = keys.clone();
        distinct.sort_by_key(|k| k.to_u32());
        distinct.dedup();
        assert_eq!(distinct.len(), 5);
        for k in keys {
            r.remove(k);
        }
        assert_eq!(r.registered(), 0);
    }
}
