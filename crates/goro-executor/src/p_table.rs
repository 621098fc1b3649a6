//! The table of every P a runtime has ever had (Go's `allp`), holding each
//! P's shared half ([`Remote`]). Not to be confused with the `goro-procs`
//! crate, which decides how many Ps a runtime should have.
//!
//! The table only grows, so a `&Remote` stays valid for the runtime's life and
//! lookups take no lock: a live resize ([`crate::resize`]) appends Ps past
//! the end and retires Ps by index, but never moves or frees one. Go keeps
//! retired Ps in `allp`'s backing array for the same reason.
//!
//! Storage is one segment of the build-time size followed by segments that
//! double (base, base, 2·base, 4·base, ...), each allocated once and
//! published through an atomic pointer. The common case, an index below the
//! build-time count, is one comparison and an index into the first segment,
//! as cheap as the fixed array it replaces.

use std::ops::Index;
use std::sync::atomic::Ordering::{Acquire, Release};

use crate::processor::Remote;
use crate::sync::{AtomicPtr, AtomicUsize};

/// Segments after the first: enough for [`crate::MAX_PROCS`] Ps from a
/// first segment of one (`1 << 17` > 65536).
const MORE_SEGMENTS: usize = 17;

/// The grow-only table; see the module docs.
pub(crate) struct PTable {
    first: Box<[Remote]>,
    /// Segment `k + 1` holds `first.len() << k` Ps; null until allocated.
    more: [AtomicPtr<Remote>; MORE_SEGMENTS],
    /// Ps allocated (a prefix of the indices); only [`PTable::grow`]
    /// raises it, after the segment it covers is published.
    len: AtomicUsize,
}

impl PTable {
    /// A table of `first.len()` Ps (at least one).
    pub(crate) fn new(first: Vec<Remote>) -> Self {
        assert!(!first.is_empty(), "a runtime has at least one P");
        let len = first.len();
        PTable {
            first: first.into_boxed_slice(),
            more: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            len: AtomicUsize::new(len),
        }
    }

    /// How many Ps are allocated (active or retired).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Acquire)
    }

    /// Every allocated P, with its index.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &Remote)> {
        (0..self.len()).map(move |i| (i, &self[i]))
    }

    /// The Ps with indices below `n` (which must be allocated).
    pub(crate) fn prefix(&self, n: usize) -> impl Iterator<Item = &Remote> {
        (0..n).map(move |i| &self[i])
    }

    /// Allocates segments until at least `n` Ps exist; `make(i)` builds P
    /// `i`. Returns the range of new indices. Callers serialise growth
    /// (the resize lock): there is one writer at a time.
    pub(crate) fn grow(
        &self,
        n: usize,
        mut make: impl FnMut(usize) -> Remote,
    ) -> std::ops::Range<usize> {
        let old = self.len();
        let mut len = old;
        let base = self.first.len();
        while len < n {
            let k = (len / base).trailing_zeros() as usize; // len = base << k
            let size = base << k;
            let segment: Box<[Remote]> = (len..len + size).map(&mut make).collect();
            let ptr = Box::into_raw(segment).cast::<Remote>();
            self.more[k].store(ptr, Release);
            len += size;
            self.len.store(len, Release);
        }
        old..len
    }

    /// Where P `i` (at least `first.len()`) lives: its segment and offset.
    fn locate(&self, i: usize) -> (usize, usize) {
        let base = self.first.len();
        let q = i / base; // at least 1
        let k = (usize::BITS - 1 - q.leading_zeros()) as usize; // floor(log2 q)
        (k, i - (base << k))
    }
}

impl Index<usize> for PTable {
    type Output = Remote;

    #[inline]
    fn index(&self, i: usize) -> &Remote {
        if let Some(p) = self.first.get(i) {
            return p;
        }
        self.index_more(i)
    }
}

impl PTable {
    #[cold]
    fn index_more(&self, i: usize) -> &Remote {
        assert!(i < self.len(), "P {i} does not exist");
        let (k, offset) = self.locate(i);
        let ptr = self.more[k].load(Acquire);
        // SAFETY: `i < len` and `len` is raised only after segment `k` is
        // published (Release/Acquire), so `ptr` points to a live segment of
        // `base << k` Ps, `offset` is below that, and segments are freed
        // only when the table is dropped.
        unsafe { &*ptr.add(offset) }
    }
}

impl Drop for PTable {
    fn drop(&mut self) {
        let base = self.first.len();
        for (k, seg) in self.more.iter_mut().enumerate() {
            let ptr = seg.load(Acquire);
            if ptr.is_null() {
                continue;
            }
            let slice = std::ptr::slice_from_raw_parts_mut(ptr, base << k);
            // SAFETY: `ptr` came from `Box::into_raw` of a boxed slice of
            // exactly `base << k` Ps in `grow`, and is freed once, here.
            drop(unsafe { Box::from_raw(slice) });
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn proc() -> Remote {
        crate::processor::new(0, None).1
    }

    #[test]
    fn grows_by_doubling_segments_and_keeps_every_p_in_place() {
        let t = PTable::new((0..3).map(|_| proc()).collect());
        assert_eq!(t.len(), 3);
        let p0: *const Remote = &t[0];
        assert_eq!(t.grow(4, |_| proc()), 3..6);
        assert_eq!(t.grow(5, |_| proc()), 6..6, "already there");
        assert_eq!(t.grow(20, |_| proc()), 6..24);
        assert_eq!(t.len(), 24);
        assert!(std::ptr::eq(p0, &t[0]), "growth moves nothing");
        // Every index maps to a distinct P.
        let mut seen: Vec<*const Remote> = (0..24).map(|i| &t[i] as *const Remote).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 24);
        assert_eq!(t.locate(3), (0, 0));
        assert_eq!(t.locate(6), (1, 0));
        assert_eq!(t.locate(11), (1, 5));
        assert_eq!(t.locate(12), (2, 0));
        assert_eq!(t.iter().count(), 24);
    }

    #[test]
    fn a_table_of_one_reaches_the_maximum_within_its_segments() {
        let t = PTable::new(vec![proc()]);
        t.grow(100, |_| proc());
        assert_eq!(t.len(), 128);
        let _ = &t[127];
        // Arithmetic only: allocating 65536 rings would take 200 MB.
        let (k, _) = t.locate(crate::MAX_PROCS - 1);
        assert!(k < MORE_SEGMENTS);
    }

    #[test]
    #[should_panic(expected = "does not exist")]
    fn an_index_past_the_end_panics() {
        let t = PTable::new(vec![proc()]);
        let _ = &t[1];
    }
}
