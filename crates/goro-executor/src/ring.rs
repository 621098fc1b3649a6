//! The per-worker run queue: Go's `runq`, a fixed ring of [`CAPACITY`] slots
//! with one producer (the worker that owns the P) and many consumers (the owner
//! popping, other workers stealing), plus the `runnext` slot.
//!
//! The design follows Go's `runqput`/`runqget`/`runqgrab`: `tail` is written
//! only by the owner, `head` is advanced by whoever consumes with a CAS, and a
//! stealer copies the slots it wants *before* its CAS on `head` so that a
//! failed CAS simply discards what it read. Slots are `AtomicPtr`s rather than
//! `UnsafeCell`s: a stale stealer may read a slot the owner is overwriting
//! (its CAS then fails), and with atomic slots that read is a race in the
//! algorithm, not undefined behaviour.
//!
//! Ownership is enforced by types: [`Local`] (one per ring, not `Clone`) is the
//! only handle that can push or pop, [`Stealer`] can only steal.

use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::sync::{Arc, AtomicPtr, AtomicU32};

/// Slots per ring: Go's and tokio's 256. Shrunk under loom so a model
/// reaches the overflow path in a handful of steps.
#[cfg(not(loom))]
pub(crate) const CAPACITY: usize = 256;
/// Slots per ring under loom.
#[cfg(loom)]
pub(crate) const CAPACITY: usize = 4;

const MASK: u32 = CAPACITY as u32 - 1;

/// Something a ring can hold: an owning value that converts to and from one
/// non-null pointer, as `async_task::Runnable` does.
pub(crate) trait IntoRaw: Sized {
    /// Gives up ownership of `self` as a pointer.
    fn into_raw(self) -> NonNull<()>;
    /// Takes ownership back.
    ///
    /// # Safety
    /// `ptr` must come from [`IntoRaw::into_raw`] of the same type, and each
    /// such pointer may be turned back into a value only once.
    unsafe fn from_raw(ptr: NonNull<()>) -> Self;
}

/// Boxes stand in for tasks in the ring's unit tests and loom models: a
/// lost or doubled item shows up as a leak or a double free.
#[cfg(test)]
impl<T> IntoRaw for Box<T> {
    fn into_raw(self) -> NonNull<()> {
        NonNull::from(Box::leak(self)).cast()
    }
    unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        // SAFETY: the caller passes a pointer from `into_raw` of a
        // `Box<T>` of the same `T`, exactly once.
        unsafe { Box::from_raw(ptr.as_ptr().cast()) }
    }
}

impl<M> IntoRaw for async_task::Runnable<M> {
    fn into_raw(self) -> NonNull<()> {
        async_task::Runnable::into_raw(self)
    }
    unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        // SAFETY: the caller passes a pointer from `Runnable::into_raw` of the
        // same metadata type, exactly once.
        unsafe { async_task::Runnable::from_raw(ptr) }
    }
}

/// Aligned to its own cache lines: rings of different workers allocated
/// side by side would otherwise share a line, and every push and pop on one
/// worker would invalidate the other's.
#[repr(align(128))]
struct Ring {
    /// Next slot to consume. Advanced by CAS by the owner and by stealers.
    head: AtomicU32,
    /// Next slot to fill. Stored only by the owner.
    tail: AtomicU32,
    slots: Box<[AtomicPtr<()>]>,
}

/// The owner's handle of a ring: push and pop. Exactly one exists per ring;
/// whoever holds it (the thread running the P) is the single producer.
pub(crate) struct Local<T: IntoRaw> {
    ring: Arc<Ring>,
    _items: PhantomData<T>,
}

/// A handle that can only steal from a ring; any number may exist.
pub(crate) struct Stealer<T: IntoRaw> {
    ring: Arc<Ring>,
    _items: PhantomData<T>,
}

impl<T: IntoRaw> Clone for Stealer<T> {
    fn clone(&self) -> Self {
        Stealer {
            ring: self.ring.clone(),
            _items: PhantomData,
        }
    }
}

// SAFETY: the ring moves `T`s between threads, so it is `Send`/`Sync` exactly
// when `T: Send`; all shared state is atomic.
unsafe impl<T: IntoRaw + Send> Send for Local<T> {}
// SAFETY: as above; a `Stealer` only takes whole items out through CAS.
unsafe impl<T: IntoRaw + Send> Send for Stealer<T> {}
// SAFETY: as above.
unsafe impl<T: IntoRaw + Send> Sync for Stealer<T> {}

/// Creates an empty ring and returns its owner and stealer handles.
pub(crate) fn new<T: IntoRaw>() -> (Local<T>, Stealer<T>) {
    let slots = (0..CAPACITY)
        .map(|_| AtomicPtr::new(ptr::null_mut()))
        .collect();
    let ring = Arc::new(Ring {
        head: AtomicU32::new(0),
        tail: AtomicU32::new(0),
        slots,
    });
    (
        Local {
            ring: ring.clone(),
            _items: PhantomData,
        },
        Stealer {
            ring,
            _items: PhantomData,
        },
    )
}

impl Ring {
    fn slot(&self, pos: u32) -> &AtomicPtr<()> {
        &self.slots[(pos & MASK) as usize]
    }

    /// Number of items, as seen by anyone (racy but never above CAPACITY).
    fn len(&self) -> usize {
        loop {
            let head = self.head.load(Acquire);
            let tail = self.tail.load(Acquire);
            let n = tail.wrapping_sub(head);
            // A stale head read before a newer tail can make `n` look larger
            // than the ring; re-read in that case.
            if n as usize <= CAPACITY {
                return n as usize;
            }
        }
    }
}

impl<T: IntoRaw> Local<T> {
    /// Number of queued items.
    pub(crate) fn len(&self) -> usize {
        let head = self.ring.head.load(Acquire);
        let tail = self.ring.tail.load(Relaxed);
        tail.wrapping_sub(head) as usize
    }

    /// Free slots.
    pub(crate) fn remaining(&self) -> usize {
        CAPACITY - self.len()
    }

    /// Appends `item`. When the ring is full, half of it (the oldest items,
    /// as in Go) and then `item` are handed to `overflow`, in order, so they
    /// can go to the global queue in one batch.
    pub(crate) fn push_back(&mut self, item: T, mut overflow: impl FnMut(T)) {
        let ptr = item.into_raw();
        loop {
            let head = self.ring.head.load(Acquire);
            let tail = self.ring.tail.load(Relaxed);
            if tail.wrapping_sub(head) < CAPACITY as u32 {
                self.ring.slot(tail).store(ptr.as_ptr(), Relaxed);
                self.ring.tail.store(tail.wrapping_add(1), Release);
                return;
            }
            if self.move_half_to(head, &mut overflow) {
                // SAFETY: `ptr` came from `into_raw` above and was not stored
                // in the ring, so this is its only conversion back.
                overflow(unsafe { T::from_raw(ptr) });
                return;
            }
            // A stealer took items meanwhile: there is room now.
        }
    }

    /// Go's `runqputslow`: claims the oldest half of a full ring with one CAS
    /// and passes the items to `overflow`. Fails if `head` moved.
    fn move_half_to(&mut self, head: u32, overflow: &mut impl FnMut(T)) -> bool {
        const HALF: u32 = CAPACITY as u32 / 2;
        let mut batch = [ptr::null_mut::<()>(); CAPACITY / 2];
        for (i, slot) in batch.iter_mut().enumerate() {
            *slot = self.ring.slot(head.wrapping_add(i as u32)).load(Relaxed);
        }
        if self
            .ring
            .head
            .compare_exchange(head, head.wrapping_add(HALF), AcqRel, Acquire)
            .is_err()
        {
            return false;
        }
        for p in batch {
            // SAFETY: the successful CAS made these slots ours; each held a
            // pointer from `into_raw` that no one else can now claim.
            overflow(unsafe { T::from_raw(NonNull::new_unchecked(p)) });
        }
        true
    }

    /// Takes the oldest item.
    pub(crate) fn pop(&mut self) -> Option<T> {
        loop {
            let head = self.ring.head.load(Acquire);
            let tail = self.ring.tail.load(Relaxed);
            if head == tail {
                return None;
            }
            let p = self.ring.slot(head).load(Relaxed);
            if self
                .ring
                .head
                .compare_exchange_weak(head, head.wrapping_add(1), AcqRel, Acquire)
                .is_ok()
            {
                // SAFETY: the CAS claimed slot `head`, which held a pointer
                // from `into_raw` (positions in head..tail are always filled).
                return Some(unsafe { T::from_raw(NonNull::new_unchecked(p)) });
            }
        }
    }
}

impl<T: IntoRaw> Drop for Local<T> {
    fn drop(&mut self) {
        // Items left in a dropped ring are dropped too (runtime shutdown).
        while self.pop().is_some() {}
    }
}

impl<T: IntoRaw> Stealer<T> {
    /// Number of queued items (racy).
    pub(crate) fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether the ring looks empty (racy).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `self` and `dst` are the same ring.
    pub(crate) fn is_ring_of(&self, dst: &Local<T>) -> bool {
        Arc::ptr_eq(&self.ring, &dst.ring)
    }

    /// Go's `runqsteal`: moves half of this ring (rounded up) into `dst`,
    /// which must be empty, and returns one of the stolen items to run now.
    ///
    /// # Panics
    /// If `dst` is not empty or is this ring: the copy would overwrite
    /// queued items. Checked in release builds too (two loads, next to a
    /// compare-and-swap), since the cost of a miss is memory corruption.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        assert!(!self.is_ring_of(dst), "a worker cannot steal from itself");
        let dst_tail = dst.ring.tail.load(Relaxed);
        assert_eq!(dst.len(), 0, "steal only into an empty ring");
        let n = loop {
            let head = self.ring.head.load(Acquire);
            let tail = self.ring.tail.load(Acquire);
            let len = tail.wrapping_sub(head);
            let n = len - len / 2;
            if n == 0 {
                return None;
            }
            if n > CAPACITY as u32 / 2 {
                // head and tail were read at different moments; retry.
                continue;
            }
            for i in 0..n {
                let p = self.ring.slot(head.wrapping_add(i)).load(Relaxed);
                dst.ring.slot(dst_tail.wrapping_add(i)).store(p, Relaxed);
            }
            if self
                .ring
                .head
                .compare_exchange(head, head.wrapping_add(n), AcqRel, Acquire)
                .is_ok()
            {
                break n;
            }
        };
        // Run the last stolen item now; publish the others.
        let last = dst.ring.slot(dst_tail.wrapping_add(n - 1)).load(Relaxed);
        if n > 1 {
            dst.ring.tail.store(dst_tail.wrapping_add(n - 1), Release);
        }
        // SAFETY: the CAS made the `n` copied pointers ours; the last one is
        // not published in `dst`, so this is its only owner.
        Some(unsafe { T::from_raw(NonNull::new_unchecked(last)) })
    }
}

/// Go's `runnext`: one slot for the task most recently made ready by the
/// running task, run before anything in the ring. Stealable (unlike tokio's
/// LIFO slot) so a task there is never stranded behind a long poll.
pub(crate) struct RunNext<T: IntoRaw> {
    slot: AtomicPtr<()>,
    _items: PhantomData<T>,
}

// SAFETY: moves whole `T`s between threads through one atomic pointer.
unsafe impl<T: IntoRaw + Send> Send for RunNext<T> {}
// SAFETY: as above; every access is a single atomic swap.
unsafe impl<T: IntoRaw + Send> Sync for RunNext<T> {}

impl<T: IntoRaw> RunNext<T> {
    /// An empty slot.
    pub(crate) fn new() -> Self {
        RunNext {
            slot: AtomicPtr::new(ptr::null_mut()),
            _items: PhantomData,
        }
    }

    /// Puts `item` in the slot and returns the previous occupant, which the
    /// owner then appends to its ring.
    pub(crate) fn replace(&self, item: T) -> Option<T> {
        let old = self.slot.swap(item.into_raw().as_ptr(), AcqRel);
        // SAFETY: a non-null value in the slot came from `into_raw`, and the
        // swap removed it, so we are its only owner.
        NonNull::new(old).map(|p| unsafe { T::from_raw(p) })
    }

    /// Takes the occupant, if any (the owner, or a stealer on its last pass).
    pub(crate) fn take(&self) -> Option<T> {
        if self.slot.load(Relaxed).is_null() {
            return None;
        }
        let old = self.slot.swap(ptr::null_mut(), AcqRel);
        // SAFETY: as in `replace`.
        NonNull::new(old).map(|p| unsafe { T::from_raw(p) })
    }

    /// Whether the slot looks occupied (racy).
    pub(crate) fn is_occupied(&self) -> bool {
        !self.slot.load(Acquire).is_null()
    }
}

impl<T: IntoRaw> Drop for RunNext<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A boxed integer stands in for a task.
    /// Not a `debug_assert`: in a release build a steal into a non-empty
    /// ring would overwrite its queued items (`cargo test --release`).
    #[test]
    #[should_panic(expected = "steal only into an empty ring")]
    fn stealing_into_a_ring_that_is_not_empty_panics() {
        let (mut victim, stealer) = new::<Box<u32>>();
        let (mut thief, _) = new::<Box<u32>>();
        for i in 0..4 {
            victim.push_back(Box::new(i), |_| panic!("no overflow expected"));
        }
        thief.push_back(Box::new(99), |_| panic!("no overflow expected"));
        let _ = stealer.steal_into(&mut thief);
    }

    #[test]
    fn fifo_order_and_len() {
        let (mut local, stealer) = new::<Box<u32>>();
        for i in 0..10 {
            local.push_back(Box::new(i), |_| panic!("no overflow expected"));
        }
        assert_eq!(local.len(), 10);
        assert_eq!(stealer.len(), 10);
        for i in 0..10 {
            assert_eq!(*local.pop().unwrap(), i);
        }
        assert!(local.pop().is_none());
        assert!(stealer.is_empty());
    }

    #[test]
    fn overflow_moves_oldest_half_then_new_item() {
        let (mut local, _stealer) = new::<Box<u32>>();
        for i in 0..CAPACITY as u32 {
            local.push_back(Box::new(i), |_| panic!("ring not full yet"));
        }
        let mut spilled = Vec::new();
        local.push_back(Box::new(9999), |t| spilled.push(*t));
        let expected: Vec<u32> = (0..CAPACITY as u32 / 2).chain([9999]).collect();
        assert_eq!(spilled, expected);
        assert_eq!(local.len(), CAPACITY / 2);
        assert_eq!(*local.pop().unwrap(), CAPACITY as u32 / 2);
    }

    #[test]
    fn steal_takes_half_rounded_up() {
        let (mut a, a_stealer) = new::<Box<u32>>();
        let (mut b, _b_stealer) = new::<Box<u32>>();
        for i in 0..5 {
            a.push_back(Box::new(i), |_| unreachable!());
        }
        // 5 items: steal 3, run one, 2 land in b.
        let got = a_stealer.steal_into(&mut b).unwrap();
        assert_eq!(*got, 2);
        assert_eq!(b.len(), 2);
        assert_eq!(a.len(), 2);
        assert_eq!(*b.pop().unwrap(), 0);
        assert_eq!(*b.pop().unwrap(), 1);
        assert_eq!(*a.pop().unwrap(), 3);
        assert_eq!(*a.pop().unwrap(), 4);
        assert!(a_stealer.steal_into(&mut b).is_none());
    }

    #[test]
    fn wraps_around_many_times() {
        let (mut local, _s) = new::<Box<u32>>();
        for round in 0..10_000u32 {
            local.push_back(Box::new(round), |_| unreachable!());
            local.push_back(Box::new(round + 1), |_| unreachable!());
            assert_eq!(*local.pop().unwrap(), round);
            assert_eq!(*local.pop().unwrap(), round + 1);
        }
    }

    #[test]
    fn runnext_replace_returns_previous() {
        let slot = RunNext::<Box<u32>>::new();
        assert!(slot.replace(Box::new(1)).is_none());
        assert!(slot.is_occupied());
        assert_eq!(*slot.replace(Box::new(2)).unwrap(), 1);
        assert_eq!(*slot.take().unwrap(), 2);
        assert!(slot.take().is_none());
    }

    #[test]
    fn dropping_rings_drops_items() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Counted;
        impl Drop for Counted {
            fn drop(&mut self) {
                DROPS.fetch_add(1, SeqCst);
            }
        }
        let (mut local, stealer) = new::<Box<Counted>>();
        for _ in 0..7 {
            local.push_back(Box::new(Counted), |_| unreachable!());
        }
        let runnext = RunNext::new();
        runnext.replace(Box::new(Counted));
        drop(stealer);
        drop(local);
        drop(runnext);
        assert_eq!(DROPS.load(SeqCst), 8);
    }

    #[test]
    fn concurrent_steal_conserves_items() {
        use std::collections::HashSet;
        use std::sync::Mutex;
        const N: u32 = 200_000;
        let (mut owner, stealer) = new::<Box<u32>>();
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thieves: Vec<_> = (0..3)
            .map(|_| {
                let stealer = stealer.clone();
                let seen = seen.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let (mut mine, _) = new::<Box<u32>>();
                    let mut got = Vec::new();
                    loop {
                        let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                        if let Some(t) = stealer.steal_into(&mut mine) {
                            got.push(*t);
                            while let Some(t) = mine.pop() {
                                got.push(*t);
                            }
                        } else if finished {
                            break;
                        }
                    }
                    seen.lock().unwrap().extend(got);
                })
            })
            .collect();
        let mut mine = Vec::new();
        let mut spilled = Vec::new();
        for i in 0..N {
            owner.push_back(Box::new(i), |t| spilled.push(*t));
            if i % 3 == 0 {
                if let Some(t) = owner.pop() {
                    mine.push(*t);
                }
            }
        }
        while let Some(t) = owner.pop() {
            mine.push(*t);
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        for t in thieves {
            t.join().unwrap();
        }
        let mut all = seen.lock().unwrap().clone();
        all.extend(mine);
        all.extend(spilled);
        assert_eq!(all.len(), N as usize, "every item exactly once");
        let unique: HashSet<_> = all.into_iter().collect();
        assert_eq!(unique.len(), N as usize);
    }
}
