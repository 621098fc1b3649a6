//! Where a P waits while its thread polls a task, so that the monitor can
//! take it away from a thread stuck in that poll (Go's `retake`).
//!
//! A worker thread owns its P (`Core`) outright in scheduler code. Before it
//! polls a task it *lends* the P to its [`Slot`] under a fresh sequence
//! number; after the poll it *reclaims* it. While the P is lent:
//! - the polling task may wake tasks onto it: the thread borrows the P back
//!   for a moment ([`Slot::with_lent`]);
//! - the monitor (or `goro::blocking`) may *take* it ([`Slot::take`]) if it
//!   has seen the same sequence number for too long; the thread then finds
//!   its P gone when the poll returns, and becomes a spare.
//!
//! All of it is one atomic word, `seq << 2 | state`, so each transition is
//! one compare-and-swap, and a taker that observed an earlier poll can
//! never take the P from a later one. Exactly one party holds the P at any
//! time: the invariant loom checks (`loom_tests::lend`).
//!
//! The monitor side of a retake (when to take, what to report) is in
//! `retake`.

use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::sync::{AtomicU64, UnsafeCell};

/// The owner thread holds the P (in scheduler code, or borrowing it during
/// a poll); nobody else may touch it.
const OWNED: u64 = 0;
/// The P rests in the slot while its thread polls a task.
const LENT: u64 = 1;
/// Someone took the P out of the slot; the polling thread lost it.
const TAKEN: u64 = 2;
const STATE: u64 = 3;

/// A P's lend slot; see the module docs. (Not to be confused with the
/// ring's slots or the `runnext` slot, which hold tasks: this one holds the
/// P itself.)
pub(crate) struct LendSlot<C> {
    word: AtomicU64,
    core: UnsafeCell<Option<C>>,
}

// SAFETY: `core` is accessed only by the one party that the state word makes
// its holder (see each method), so sharing the slot between threads is sound
// whenever moving a `C` between threads is.
unsafe impl<C: Send> Sync for LendSlot<C> {}
// SAFETY: as above; the slot owns at most one `C`.
unsafe impl<C: Send> Send for LendSlot<C> {}

/// One observation of a lend slot's state word: which poll, and whether
/// the P is lent to it. Two equal words mean the same poll still runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LendWord(u64);

impl LendWord {
    /// Whether the P was lent to a running poll.
    pub(crate) fn is_lent(self) -> bool {
        self.0 & STATE == LENT
    }

    /// The number of the poll.
    pub(crate) fn seq(self) -> u64 {
        self.0 >> 2
    }
}

impl<C> LendSlot<C> {
    pub(crate) fn new() -> Self {
        LendSlot {
            word: AtomicU64::new(OWNED),
            core: UnsafeCell::new(None),
        }
    }

    /// Runs `f` on the slot's contents.
    ///
    /// # Safety
    /// The caller must be the P's holder according to the state word.
    unsafe fn core_mut<R>(&self, f: impl FnOnce(&mut Option<C>) -> R) -> R {
        // SAFETY: the caller holds the P, so this is the only access.
        self.core.with_mut(|p| f(unsafe { &mut *p }))
    }

    /// The state word, for the monitor's watch.
    pub(crate) fn observe(&self) -> LendWord {
        LendWord(self.word.load(Acquire))
    }

    /// The owner lends `core` for the poll numbered `seq` (which must be
    /// larger than any before it in this slot).
    pub(crate) fn lend(&self, core: C, seq: u64) {
        // SAFETY: the caller owns the P, so no one else accesses `core`: the
        // state is OWNED or TAKEN (after a take, the taker moved the P to
        // this thread and no longer touches the slot).
        unsafe { self.core_mut(|c| *c = Some(core)) };
        self.word.store(seq << 2 | LENT, Release);
    }

    /// The owner, after the poll numbered `seq`, takes its P back; `None`
    /// if it was taken meanwhile.
    pub(crate) fn reclaim(&self, seq: u64) -> Option<C> {
        self.word
            .compare_exchange(seq << 2 | LENT, seq << 2 | OWNED, Acquire, Relaxed)
            .ok()?;
        // SAFETY: the successful exchange from LENT made us the holder.
        unsafe { self.core_mut(Option::take) }
    }

    /// The owner, during the poll numbered `seq`, uses the lent P; `None` if
    /// it was taken.
    pub(crate) fn with_lent<R>(&self, seq: u64, f: impl FnOnce(&mut C) -> R) -> Option<R> {
        let lent = seq << 2 | LENT;
        self.word
            .compare_exchange(lent, seq << 2 | OWNED, Acquire, Relaxed)
            .ok()?;
        // SAFETY: the exchange made us the holder until we store LENT again.
        let r = unsafe { self.core_mut(|c| c.as_mut().map(f)) };
        self.word.store(lent, Release);
        r
    }

    /// Takes the P lent for the poll numbered `seq`, if it still is.
    pub(crate) fn take_lent(&self, seq: u64) -> Option<C> {
        self.take(LendWord(seq << 2 | LENT))
    }

    /// Takes the P lent for the poll whose word was `observed`, if that
    /// poll is still running and nobody else took it.
    pub(crate) fn take(&self, observed: LendWord) -> Option<C> {
        if !observed.is_lent() {
            return None;
        }
        let taken = observed.0 & !STATE | TAKEN;
        self.word
            .compare_exchange(observed.0, taken, AcqRel, Relaxed)
            .ok()?;
        // SAFETY: the exchange from LENT made us the holder; the polling
        // thread's `reclaim`/`with_lent` will fail from now on.
        unsafe { self.core_mut(Option::take) }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn lend_reclaim_round_trip() {
        let s = LendSlot::new();
        s.lend(7, 1);
        assert_eq!(s.with_lent(1, |c| *c += 1), Some(()));
        assert_eq!(s.reclaim(1), Some(8));
        assert_eq!(s.reclaim(1), None, "nothing lent any more");
    }

    #[test]
    fn a_taken_p_is_gone_for_its_old_thread() {
        let s = LendSlot::new();
        s.lend("p", 5);
        let w = s.observe();
        assert!(w.is_lent());
        assert_eq!(w.seq(), 5);
        assert_eq!(s.take(w), Some("p"));
        assert_eq!(s.with_lent(5, |_| ()), None);
        assert_eq!(s.reclaim(5), None);
        assert_eq!(s.take(w), None, "taken once");
    }

    #[test]
    fn a_stale_observation_cannot_take_a_later_poll() {
        let s = LendSlot::new();
        s.lend(1, 1);
        let old = s.observe();
        assert_eq!(s.reclaim(1), Some(1));
        s.lend(1, 2);
        assert_eq!(s.take(old), None);
        assert_eq!(s.reclaim(2), Some(1));
    }
}
