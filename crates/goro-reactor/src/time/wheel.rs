//! One shard's timers: a calendar of 1 ms slots for the next [`SLOTS`] ms,
//! a heap for later deadlines, and a small heap of the nearest ones, over a
//! slab of entries.
//!
//! Deadlines are exact (nanoseconds since the reactor's epoch), and a timer
//! fires at the first check at or after its deadline, never before. The
//! calendar only sorts them coarsely: once the clock enters a timer's
//! millisecond or the one before, its key moves from its slot to the
//! `near` heap, ordered by the exact deadline, so
//! [`next_deadline`](Wheel::next_deadline) can tell the poller the exact
//! instant to wake at. (Until this change deadlines were rounded up to
//! whole milliseconds and fired on the next tick: a `sleep(1 ms)` took
//! about 2 ms.)
//!
//! Insert and cancel are O(1) for a deadline more than about a millisecond
//! away, and O(log n) over the few timers due within it otherwise; moving
//! a slot into `near` costs O(log n) per timer, once, and a slot whose
//! millisecond has passed whole when it is reached (a shard that lags)
//! fires without the heap, O(1) per timer. A cancelled timer
//! frees its entry at once and leaves only its key in a slot or heap,
//! skipped when it comes up (keys carry no generation, so each key is
//! checked against its entry's deadline).
//!
//! Memory follows the live timers, not their peak. A timer cancelled long
//! before its deadline (a connection's idle timeout, dropped when the
//! connection closes) would otherwise leave its key in the heap until the
//! deadline came near: under connection churn the heap would hold churn
//! rate x timeout dead keys. So once more than half of the heap's keys
//! are dead, they are removed in one pass (amortized O(1) per cancel; Go
//! cleans its timer heap once a quarter of it is deleted timers,
//! `runtime/time.go`). A slot's key list is freed once its millisecond
//! is done, and the heaps and the slab give back capacity once they are
//! mostly empty.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;

use slab::Slab;

/// Width of the calendar, in slots.
const SLOTS: u64 = 1024;
/// Width of a slot: 1 ms, in nanoseconds.
pub(crate) const SLOT_NS: u64 = 1_000_000;
/// Below this many keys (or this capacity) the heaps and the slab are left
/// as they are: purging or shrinking them would save too little to pay.
const SHRINK_MIN: usize = 64;

struct Entry {
    /// Nanoseconds since the epoch.
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
    /// The first slot (ms) not yet moved to `near`: a key whose deadline
    /// falls in an earlier millisecond is in `near`, one within [`SLOTS`]
    /// ms from here in its slot, any later one in `later`.
    now: u64,
    /// The latest time passed to [`Wheel::fire`] (ns): a deadline at or
    /// before it is due already.
    fired_to: u64,
    slots: Box<[Vec<u32>]>,
    /// The nearest timers, by exact deadline.
    near: BinaryHeap<Reverse<(u64, u32)>>,
    later: BinaryHeap<Reverse<(u64, u32)>>,
    /// Keys in `later` whose timer was cancelled (an upper bound: a dead
    /// key that leaves the heap on its own is not always counted off).
    later_dead: usize,
    entries: Slab<Entry>,
    next_id: u64,
}

impl Wheel {
    /// An empty wheel whose clock reads `now` (ns).
    pub(crate) fn new(now: u64) -> Self {
        Wheel {
            now: now / SLOT_NS,
            fired_to: now,
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            near: BinaryHeap::new(),
            later: BinaryHeap::new(),
            later_dead: 0,
            entries: Slab::new(),
            next_id: 0,
        }
    }

    /// Live timers.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds a timer for `deadline` (ns); `None` when it has passed already
    /// (the caller is ready at once).
    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> Option<TimerKey> {
        if deadline <= self.fired_to {
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
        let ms = deadline / SLOT_NS;
        if ms < self.now {
            self.near.push(Reverse((deadline, key)));
        } else if ms < self.now + SLOTS {
            self.slots[(ms % SLOTS) as usize].push(key);
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
        let Some(e) = self.entries.get(t.key as usize).filter(|e| e.id == t.id) else {
            return;
        };
        // `place` and `fire` keep every key due within the calendar in a
        // slot (or `near`) and every later one in the heap.
        if e.deadline / SLOT_NS >= self.now + SLOTS {
            self.later_dead += 1;
        }
        self.entries.remove(t.key as usize);
        if self.later_dead * 2 > self.later.len() && self.later.len() >= SHRINK_MIN {
            self.purge_later();
        }
        self.shrink();
    }

    /// Removes the dead keys from the heap.
    fn purge_later(&mut self) {
        let entries = &self.entries;
        self.later
            .retain(|&Reverse((deadline, key))| is_live(entries, deadline, key));
        self.later_dead = 0;
        if self.entries.len() * 4 < self.entries.capacity() {
            // Only the vacant tail goes: keys are never moved.
            self.entries.shrink_to_fit();
        }
    }

    /// Gives back the heaps' capacity once they are three-quarters empty,
    /// and the slab's once no timer is left.
    fn shrink(&mut self) {
        if self.entries.is_empty() {
            // Every key left in the heaps is dead.
            self.later.clear();
            self.near.clear();
            self.later_dead = 0;
        }
        for heap in [&mut self.later, &mut self.near] {
            let (len, cap) = (heap.len(), heap.capacity());
            if cap > SHRINK_MIN && len * 4 < cap {
                heap.shrink_to((len * 2).max(SHRINK_MIN));
            }
        }
        if self.entries.is_empty() && self.entries.capacity() > SHRINK_MIN {
            self.entries = Slab::new();
        }
    }

    /// Fires every timer due at or before `now` (ns), pushing its waker.
    pub(crate) fn fire(&mut self, now: u64, wake: &mut Vec<Waker>) {
        if now < self.fired_to {
            return;
        }
        self.fired_to = now;
        // The slots of this millisecond and the next move to `near`. After
        // a long gap every slot comes due once; walk each at most once.
        let until = now / SLOT_NS + 2;
        if self.now < until {
            let end = until.min(self.now + SLOTS);
            for t in self.now..end {
                // The slot's list is freed, not kept for reuse: kept, the
                // lists of all 1,024 slots would stay allocated at their
                // largest, scattered over the heap, long after the timers
                // are gone.
                let slot = std::mem::take(&mut self.slots[(t % SLOTS) as usize]);
                // A millisecond wholly past is due whole: its timers fire
                // at once, in O(1) each, as a lagging shard (a million
                // expiries within 100 ms) needs. Only the current and the
                // next millisecond go through the heap.
                let past = (t + 1) * SLOT_NS <= now;
                for key in slot {
                    // A key reused since for another deadline is skipped:
                    // the new timer has its own key where it belongs.
                    let Some(e) = self.entries.get(key as usize) else {
                        continue;
                    };
                    if e.deadline / SLOT_NS != t {
                        continue;
                    }
                    if past {
                        wake.push(self.entries.remove(key as usize).waker);
                    } else {
                        self.near.push(Reverse((e.deadline, key)));
                    }
                }
            }
            // Every slot before `until` is empty now (all of them, after
            // a gap of more than the calendar).
            self.now = until;
            while let Some(&Reverse((deadline, key))) = self.later.peek() {
                if deadline / SLOT_NS >= self.now + SLOTS {
                    break;
                }
                self.later.pop();
                if is_live(&self.entries, deadline, key) {
                    self.place(deadline, key);
                } else {
                    self.later_dead = self.later_dead.saturating_sub(1);
                }
            }
        }
        while let Some(&Reverse((deadline, key))) = self.near.peek() {
            if deadline > now {
                break;
            }
            self.near.pop();
            if is_live(&self.entries, deadline, key) {
                wake.push(self.entries.remove(key as usize).waker);
            }
        }
        self.shrink();
    }

    /// The earliest instant (ns) at which a timer may be due (a cancelled
    /// one, or a slot's start, may make it early, never late); `u64::MAX`
    /// when empty. Exact when the nearest timer is due within about a
    /// millisecond of the last [`fire`](Wheel::fire).
    pub(crate) fn next_deadline(&mut self) -> u64 {
        if self.entries.is_empty() {
            return u64::MAX;
        }
        while let Some(&Reverse((deadline, key))) = self.near.peek() {
            if is_live(&self.entries, deadline, key) {
                break;
            }
            self.near.pop();
        }
        let near = self.near.peek().map_or(u64::MAX, |r| r.0.0);
        // A slot is never before `near`'s timers, whose millisecond is
        // before `self.now`.
        if near != u64::MAX {
            return near;
        }
        for t in self.now..self.now + SLOTS {
            if !self.slots[(t % SLOTS) as usize].is_empty() {
                return t * SLOT_NS;
            }
        }
        self.later.peek().map_or(u64::MAX, |r| r.0.0)
    }
}

/// Whether a heap key still stands for a pending timer with that deadline
/// (a dead key's slab key may have been reused by a later timer; one reused
/// with the very same deadline is due at the same time, so firing it
/// through either key is right).
fn is_live(entries: &Slab<Entry>, deadline: u64, key: u32) -> bool {
    entries
        .get(key as usize)
        .is_some_and(|e| e.deadline == deadline)
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

    /// Inserts a timer due at `ms` milliseconds.
    fn ins(w: &mut Wheel, ms: u64, wk: Waker) -> Option<TimerKey> {
        w.insert(ms * SLOT_NS, wk)
    }

    /// Fires what is due at `now` milliseconds.
    fn fire(w: &mut Wheel, now: u64) -> usize {
        let mut v = Vec::new();
        w.fire(now * SLOT_NS, &mut v);
        let n = v.len();
        v.into_iter().for_each(Waker::wake);
        n
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        ins(&mut w, 5, wk).unwrap();
        assert_eq!(w.next_deadline(), 5 * SLOT_NS);
        assert_eq!(fire(&mut w, 4), 0);
        assert_eq!(fire(&mut w, 5), 1);
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
        assert_eq!(w.len(), 0);
        assert_eq!(w.next_deadline(), u64::MAX);
    }

    #[test]
    fn past_deadline_is_refused() {
        let mut w = Wheel::new(10 * SLOT_NS);
        assert!(ins(&mut w, 9, waker().1).is_none());
        assert!(ins(&mut w, 10, waker().1).is_none());
        assert!(w.insert(10 * SLOT_NS + 1, waker().1).is_some());
    }

    /// Deadlines inside a millisecond fire at the first check at or after
    /// them, in order, and the next deadline is the exact one.
    #[test]
    fn sub_millisecond_deadlines_are_exact() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        let at = [1_300_000, 1_000_001, 2_999_999, 1_700_000];
        for d in at {
            w.insert(d, wk.clone()).unwrap();
        }
        let mut v = Vec::new();
        w.fire(500_000, &mut v);
        assert!(v.is_empty());
        assert_eq!(w.next_deadline(), 1_000_001);
        w.fire(1_000_000, &mut v);
        assert!(v.is_empty(), "1 ns early");
        w.fire(1_000_001, &mut v);
        assert_eq!(v.len(), 1);
        assert_eq!(w.next_deadline(), 1_300_000);
        w.fire(1_299_999, &mut v);
        assert_eq!(v.len(), 1);
        w.fire(1_750_000, &mut v);
        assert_eq!(v.len(), 3);
        // Inserted after the clock entered the millisecond before it: goes
        // straight to the near heap, and is the next deadline.
        w.insert(2_100_000, wk).unwrap();
        assert_eq!(w.next_deadline(), 2_100_000);
        w.fire(2_100_000, &mut v);
        assert_eq!(v.len(), 4);
        assert_eq!(w.next_deadline(), 2_999_999);
        w.fire(2_999_998, &mut v);
        assert_eq!(v.len(), 4);
        w.fire(3_000_000, &mut v);
        assert_eq!(v.len(), 5);
        v.into_iter().for_each(Waker::wake);
        assert_eq!(c.0.load(Ordering::SeqCst), 5);
        assert_eq!(w.len(), 0);
    }

    /// Random deadlines, cancels and firing times: nothing fires early,
    /// everything not cancelled fires once, and the next deadline is
    /// never after a pending one.
    #[test]
    fn random_timers_never_fire_early_or_twice() {
        let mut w = Wheel::new(0);
        let mut rng = 0x1234_5678_u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut pending: Vec<(u64, TimerKey, Arc<Count>)> = Vec::new();
        let mut now = 0u64;
        for _ in 0..20_000 {
            match next() % 4 {
                0 | 1 => {
                    let d = now + 1 + next() % (3 * SLOTS * SLOT_NS);
                    let (c, wk) = waker();
                    let k = w.insert(d, wk).unwrap();
                    pending.push((d, k, c));
                }
                2 if !pending.is_empty() => {
                    let i = (next() as usize) % pending.len();
                    let (_, k, c) = pending.swap_remove(i);
                    w.cancel(k);
                    assert_eq!(c.0.load(Ordering::SeqCst), 0);
                }
                _ => {
                    let min = pending.iter().map(|p| p.0).min().unwrap_or(u64::MAX);
                    assert!(w.next_deadline() <= min);
                    now += next() % (3 * SLOT_NS);
                    let mut v = Vec::new();
                    w.fire(now, &mut v);
                    v.into_iter().for_each(Waker::wake);
                    pending.retain(|(d, _, c)| {
                        let fired = c.0.load(Ordering::SeqCst);
                        assert_eq!(
                            fired,
                            u32::from(*d <= now) as usize,
                            "deadline {d} at {now}"
                        );
                        fired == 0
                    });
                }
            }
        }
        assert_eq!(w.len(), pending.len());
    }

    #[test]
    fn far_timers_move_from_heap_and_fire_in_order() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        let far = 5 * SLOTS + 7;
        ins(&mut w, far, wk.clone()).unwrap();
        ins(&mut w, 3, wk).unwrap();
        assert_eq!(w.next_deadline(), 3 * SLOT_NS);
        assert_eq!(fire(&mut w, 3), 1);
        assert!(w.next_deadline() <= far * SLOT_NS);
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
        let a = ins(&mut w, 50, wk.clone()).unwrap();
        w.cancel(a);
        // Reuses `a`'s slab key with a later deadline.
        let b = ins(&mut w, 80, wk).unwrap();
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
            ins(&mut w, d, wk.clone()).unwrap();
        }
        assert_eq!(fire(&mut w, 20_000), 6);
        assert_eq!(c.0.load(Ordering::SeqCst), 6);
    }

    /// Connection churn under an idle timeout: every connection's timer
    /// is far off and cancelled when the connection closes. The heap must
    /// hold about the live timers, not every timer cancelled since.
    #[test]
    fn cancelled_far_timers_do_not_pile_up() {
        let mut w = Wheel::new(0);
        let (_, wk) = waker();
        let mut live = std::collections::VecDeque::new();
        for i in 0..100_000u64 {
            live.push_back(ins(&mut w, 300_000 + i, wk.clone()).unwrap());
            if live.len() > 100 {
                w.cancel(live.pop_front().unwrap());
            }
            assert!(
                w.later.len() <= 2 * live.len() + SHRINK_MIN,
                "{} keys in the heap for {} live timers",
                w.later.len(),
                live.len()
            );
        }
        assert!(
            w.later.capacity() <= 8 * SHRINK_MIN,
            "{}",
            w.later.capacity()
        );
        assert!(
            w.entries.capacity() <= 8 * SHRINK_MIN,
            "{}",
            w.entries.capacity()
        );
    }

    /// After a peak the heap, the slab and the slots give their memory
    /// back.
    #[test]
    fn memory_is_given_back_after_a_peak() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        let far: Vec<_> = (0..10_000)
            .map(|i| ins(&mut w, 5_000 + i, wk.clone()).unwrap())
            .collect();
        for i in 0..10_000 {
            ins(&mut w, 1 + i % 500, wk.clone()).unwrap();
        }
        assert!(w.later.capacity() >= 10_000);
        assert_eq!(fire(&mut w, 600), 10_000);
        for t in far {
            w.cancel(t);
        }
        assert_eq!(w.len(), 0);
        assert!(w.later.capacity() <= SHRINK_MIN, "{}", w.later.capacity());
        assert!(
            w.entries.capacity() <= SHRINK_MIN,
            "{}",
            w.entries.capacity()
        );
        let kept: usize = w.slots.iter().map(Vec::capacity).sum();
        assert_eq!(kept, 0, "slot lists kept after firing");
        assert_eq!(fire(&mut w, 100_000), 0);
        assert_eq!(c.0.load(Ordering::SeqCst), 10_000);
    }

    /// Purging the dead keys keeps every live timer, including ones that
    /// reuse a dead timer's slab key, and fires each once.
    #[test]
    fn purge_keeps_live_timers() {
        let mut w = Wheel::new(0);
        let (c, wk) = waker();
        let mut keys: Vec<_> = (0..1_000)
            .map(|i| ins(&mut w, 2_000 + i % 7, wk.clone()).unwrap())
            .collect();
        // Cancel 3 of 4, re-adding some on the freed keys with the same
        // deadline and with later ones: the purge runs several times.
        let mut expect = 0;
        for (i, t) in keys.drain(..).enumerate() {
            if i % 4 == 0 {
                expect += 1;
                continue;
            }
            w.cancel(t);
            if i % 8 == 1 {
                ins(&mut w, 2_000 + i as u64 % 7, wk.clone()).unwrap();
                expect += 1;
            }
            if i % 8 == 3 {
                ins(&mut w, 9_000, wk.clone()).unwrap();
                expect += 1;
            }
        }
        assert_eq!(w.len(), expect);
        assert!(w.later.len() < 2 * expect, "{} keys", w.later.len());
        let mut fired = 0;
        let mut now = 0;
        while now < 10_000 {
            now += 97;
            fired += fire(&mut w, now);
        }
        assert_eq!(fired, expect);
        assert_eq!(c.0.load(Ordering::SeqCst), expect);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn update_replaces_waker() {
        let mut w = Wheel::new(0);
        let (c1, w1) = waker();
        let (c2, w2) = waker();
        let t = ins(&mut w, 2, w1).unwrap();
        assert!(w.update(t, &w2));
        fire(&mut w, 2);
        assert_eq!(c1.0.load(Ordering::SeqCst), 0);
        assert_eq!(c2.0.load(Ordering::SeqCst), 1);
        assert!(!w.update(t, &w2), "fired timers are gone");
    }
}
