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
//! counters instead.
//!
//! Sharded by spawning thread, so spawns on different workers do not contend
//! on one lock (async-executor keeps one global `Mutex<Slab>`).

use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::task::Waker;

use crate::shared::Padded;
use crate::sync::{Mutex, lock};

pub(crate) struct Registry {
    shards: Box<[Padded<Mutex<Shard>>]>,
    /// Tasks spawned and finished, counted on the thread's own shard.
    spawned: Box<[Padded<AtomicUsize>]>,
    finished: Box<[Padded<AtomicUsize>]>,
    closed: AtomicBool,
}

#[derive(Default)]
struct Shard {
    /// A waker of each parked task, so shutdown can schedule it one last time.
    slots: Vec<Option<Waker>>,
    free: Vec<u32>,
}

/// Where a task sits in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    shard: u32,
    slot: u32,
}

impl Key {
    pub(crate) fn to_u64(self) -> u64 {
        (u64::from(self.shard) << 32) | u64::from(self.slot)
    }
    pub(crate) fn from_u64(v: u64) -> Key {
        Key {
            shard: (v >> 32) as u32,
            slot: v as u32,
        }
    }
}

impl Registry {
    pub(crate) fn new(workers: usize) -> Self {
        let n = (workers * 4).next_power_of_two();
        Registry {
            shards: (0..n)
                .map(|_| Padded(Mutex::new(Shard::default())))
                .collect(),
            spawned: (0..n).map(|_| Padded(AtomicUsize::new(0))).collect(),
            finished: (0..n).map(|_| Padded(AtomicUsize::new(0))).collect(),
            closed: AtomicBool::new(false),
        }
    }

    /// Registers a task by one of its wakers. `None` once shut down: the
    /// caller then drops the task.
    pub(crate) fn insert(&self, waker: Waker) -> Option<Key> {
        let shard_index = shard_hint() & (self.shards.len() - 1);
        let mut shard = lock(&self.shards[shard_index]);
        if self.closed.load(Relaxed) {
            return None;
        }
        let slot = match shard.free.pop() {
            Some(slot) => {
                shard.slots[slot as usize] = Some(waker);
                slot
            }
            None => {
                shard.slots.push(Some(waker));
                (shard.slots.len() - 1) as u32
            }
        };
        Some(Key {
            shard: shard_index as u32,
            slot,
        })
    }

    /// Forgets a task whose future is gone.
    pub(crate) fn remove(&self, key: Key) {
        let waker = {
            let mut shard = lock(&self.shards[key.shard as usize]);
            let waker = shard
                .slots
                .get_mut(key.slot as usize)
                .and_then(Option::take);
            if waker.is_some() {
                shard.free.push(key.slot);
            }
            waker
        };
        // Dropped outside the lock: dropping the last reference of a task
        // may run code that registers or removes tasks.
        drop(waker);
    }

    /// Wakes the task registered at `key`, if any.
    pub(crate) fn wake(&self, key: Key) {
        let waker = {
            let shard = lock(&self.shards[key.shard as usize]);
            shard.slots.get(key.slot as usize).and_then(Option::clone)
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
            all.extend(shard.slots.drain(..).flatten());
            shard.free.clear();
        }
        all
    }

    /// Counts a spawned task.
    pub(crate) fn note_spawned(&self) {
        let i = shard_hint() & (self.spawned.len() - 1);
        self.spawned[i].fetch_add(1, Relaxed);
    }

    /// Counts a task whose future is gone.
    pub(crate) fn note_finished(&self) {
        let i = shard_hint() & (self.finished.len() - 1);
        self.finished[i].fetch_add(1, Relaxed);
    }

    /// Live tasks: spawned and not finished (a snapshot).
    pub(crate) fn len(&self) -> usize {
        // Finished first: a task counted there was counted as spawned before.
        let finished: usize = self.finished.iter().map(|c| c.load(Acquire)).sum();
        let spawned: usize = self.spawned.iter().map(|c| c.load(Acquire)).sum();
        spawned.saturating_sub(finished)
    }

    /// Parked tasks currently registered.
    #[cfg(test)]
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
        let r = Registry::new(1);
        let a = r.insert(Waker::noop().clone()).unwrap();
        let b = r.insert(Waker::noop().clone()).unwrap();
        assert_eq!(r.registered(), 2);
        r.remove(a);
        r.remove(a); // twice is harmless
        assert_eq!(r.registered(), 1);
        let c = r.insert(Waker::noop().clone()).unwrap();
        assert_eq!(c, a, "freed slot reused");
        assert_eq!(Key::from_u64(b.to_u64()), b);
        assert_eq!(r.close().len(), 2);
        assert_eq!(r.registered(), 0);
        assert!(r.insert(Waker::noop().clone()).is_none());
        r.remove(b); // after close: nothing to do
    }
}
