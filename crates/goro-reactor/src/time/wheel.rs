//! One shard's timers: a calendar of 1 ms slots for the next [`SLOTS`] ms
//! plus a heap for later deadlines, over a slab of entries.
//!
//! Insert and cancel are O(1); firing walks the slots that came due. A
//! cancelled timer frees its entry at once and leaves only its 4-byte key
//! in a slot, skipped when the slot comes due (keys carry no generation,
//! so a slot is drained whole and each key is checked against its entry's
//! deadline). Deadlines are whole milliseconds since the reactor's epoch,
//! rounded up, so a timer never fires early.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;

use slab::Slab;

/// Width of the calendar, in milliseconds.
const SLOTS: u64 = 1024;

struct Entry {
    deadline: u64,
    /// Tells a live entry from a later one that reuses its slab key.
    id: u64,
    waker: Waker,
}

/// Identifies an inserted timer, for updating or cancelling it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    key: u32,
    id: u64,
}

pub(crate) struct Wheel {
    /// The next millisecond to process: every slot before it is done.
    now: u64,
    slots: Box<[Vec<u32>]>,
    later: BinaryHeap<Reverse<(u64, u32)>>,
    entries: Slab<Entry>,
    next_id: u64,
}

impl Wheel {
    pub(crate) fn new(now: u64) -> Self {
        Wheel {
            now,
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            later: BinaryHeap::new(),
            entries: Slab::new(),
            next_id: 0,
        }
    }

    /// Live timers.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds a timer; `None` when `deadline` has passed already (the caller
    /// is ready at once).
    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> Option<TimerKey> {
        if deadline < self.now {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let key = self.entries.insert(Entry {
            deadline,
            id,
            waker,
        });
        let key = u32::try_from(key).expect("more than 4 billion timers in one shard");
        self.place(deadline, key);
        Some(TimerKey { key, id })
    }

    fn place(&mut self, deadline: u64, key: u32) {
        if deadline < self.now + SLOTS {
            self.slots[(deadline % SLOTS) as usize].push(key);
        } else {
            self.later.push(Reverse((deadline, key)));
        }
    }

    /// Replaces the waker of a live timer; `false` if it fired or was
    /// cancelled.
    pub(crate) fn update(&mut self, t: TimerKey, waker: &Waker) -> bool {
        match self.entries.get_mut(t.key as usize) {
            Some(e) if e.id == t.id => {
                if !e.waker.will_wake(waker) {
                    e.waker = waker.clone();
                }
                true
            }
            _ => false,
        }
    }

    /// Removes a timer if it has not fired.
    pub(crate) fn cancel(&mut self, t: TimerKey) {
        if self
            .entries
            .get(t.key as usize)
            .is_some_and(|e| e.id == t.id)
        {
            self.entries.remove(t.key as usize);
        }
    }

    /// Fires every timer due at or before `now`, pushing its waker.
    pub(crate) fn fire(&mut self, now: u64, wake: &mut Vec<Waker>) {
        if now < self.now {
            return;
        }
        // After a long gap every slot comes due once; walk each at most once.
        let end = now.min(self.now + SLOTS - 1);
        for t in self.now..=end {
            let slot = std::mem::take(&mut self.slots[(t % SLOTS) as usize]);
            for &key in &slot {
                self.fire_key(key, now, wake);
            }
            // Keep the slot's allocation for reuse.
            let mut slot = slot;
            slot.clear();
            let old = std::mem::replace(&mut self.slots[(t % SLOTS) as usize], slot);
            // Nothing can have been placed meanwhile: `place` needs `&mut self`.
            debug_assert!(old.is_empty());
        }
        self.now = now + 1;
        while let Some(&Reverse((deadline, key))) = self.later.peek() {
            if deadline >= self.now + SLOTS {
                break;
            }
            self.later.pop();
            if deadline <= now {
                self.fire_key(key, now, wake);
            } else if self
                .entries
                .get(key as usize)
                .is_some_and(|e| e.deadline == deadline)
            {
                self.place(deadline, key);
            }
        }
    }

    fn fire_key(&mut self, key: u32, now: u64, wake: &mut Vec<Waker>) {
        if self
            .entries
            .get(key as usize)
            .is_some_and(|e| e.deadline <= now)
        {
            wake.push(self.entries.remove(key as usize).waker);
        }
    }

    /// The earliest millisecond at which a timer may be due (a cancelled
    /// one may make it early, never late); `u64::MAX` when empty.
    pub(crate) fn next_deadline(&self) -> u64 {
        if self.entries.is_empty() {
            return u64::MAX;
        }
        for t in self.now..self.now + SLOTS {
            if !self.slots[(t % SLOTS) as usize].is_empty() {
                return t;
            }
        }
        self.later.peek().map_or(u64::MAX, |r| r.0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    fn fire(w: &mut Wheel, now: u64) -> usize {
        let mut v = Vec::new();
        w.fire(now, &mut v);
        let n = v.len();
        v.into_iter().for_each(Waker::wake);
        n
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        w.insert(5, wk).unwrap();
        assert_eq!(w.next_deadline(), 5);
        assert_eq!(fire(&mut w, 4), 0);
        assert_eq!(fire(&mut w, 5), 1);
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
        assert_eq!(w.len(), 0);
        assert_eq!(w.next_deadline(), u64::MAX);
    }

    #[test]
    fn past_deadline_is_refused() {
        let mut w = Wheel::new(10);
        assert!(w.insert(9, waker().1).is_none());
        assert!(w.insert(10, waker().1).is_some());
    }

    #[test]
    fn far_timers_move_from_heap_and_fire_in_order() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        let far = 5 * SLOTS + 7;
        w.insert(far, wk.clone()).unwrap();
        w.insert(3, wk).unwrap();
        assert_eq!(w.next_deadline(), 3);
        assert_eq!(fire(&mut w, 3), 1);
        assert_eq!(w.next_deadline(), far);
        let mut now = 3;
        while now < far - 1 {
            now += 100;
            assert_eq!(fire(&mut w, now.min(far - 1)), 0, "early at {now}");
        }
        assert_eq!(fire(&mut w, far), 1);
        assert_eq!(c.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cancelled_timer_does_not_fire_and_reused_key_is_safe() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        let a = w.insert(50, wk.clone()).unwrap();
        w.cancel(a);
        // Reuses `a`'s slab key with a later deadline.
        let b = w.insert(80, wk).unwrap();
        assert_eq!(a.key, b.key);
        w.cancel(a); // stale: must not cancel `b`
        assert_eq!(fire(&mut w, 50), 0);
        assert_eq!(fire(&mut w, 80), 1);
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn long_gap_fires_everything_due() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        for d in [1, 500, 1023, 1024, 3000, 10_000] {
            w.insert(d, wk.clone()).unwrap();
        }
        assert_eq!(fire(&mut w, 20_000), 6);
        assert_eq!(c.0.load(Ordering::SeqCst), 6);
    }

    #[test]
    fn update_replaces_waker() {
        let mut w = Wheel::new(0);
        let (c1, w1) = waker();
        let (c2, w2) = waker();
        let t = w.insert(2, w1).unwrap();
        assert!(w.update(t, &w2));
        fire(&mut w, 2);
        assert_eq!(c1.0.load(Ordering::SeqCst), 0);
        assert_eq!(c2.0.load(Ordering::SeqCst), 1);
        assert!(!w.update(t, &w2), "fired timers are gone");
    }
}
