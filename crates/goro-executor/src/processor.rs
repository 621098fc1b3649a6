//! The P (Go's `p`): the scheduling context a worker thread must hold to run
//! tasks. It has two halves:
//!
//! - [`Core`], the owner's half: the ring's push/pop end, the scheduling
//!   tick, the spinning flag, the random state and the lend number. Exactly
//!   one thread holds it, as a `Box` that moves between threads: the
//!   blocking hand-off and the monitor's retake pass it on, a resize parks
//!   it (tokio's `Core`).
//! - [`Remote`], the half other threads touch: the ring's steal end and
//!   `runnext` (thieves), the lend slot and the poll watch (the monitor),
//!   the parker of the thread running the P (wakers), and the P's counters
//!   (`Stats`). It lives in the runtime's P table (`p_table`) for the
//!   runtime's whole life (tokio's `Remote`).
//!
//! How a worker uses a P — where it looks for work, how it steals, when it
//! sleeps — is in `find`; the loop around it is in `worker`.

use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use crate::driver::Driver;
use crate::lend::{LendSlot, LendWord};
use crate::padded::Padded;
use crate::park::Parker;
use crate::ring::{self, Local, RunNext, Stealer};
use crate::stats::ProcStats;
use crate::sync::{AtomicPtr, AtomicU64};
use crate::task::{Runnable, TaskMeta};
use crate::thread_state::ThreadRef;

/// A P: the owner's half. Aligned to its own cache lines, as its tick and
/// random state change on every scheduling decision.
#[repr(align(128))]
pub(crate) struct Core {
    pub(crate) index: usize,
    pub(crate) ring: Local<Runnable>,
    /// Scheduling ticks, for the global-queue fairness check.
    pub(crate) tick: u32,
    /// Whether this worker is counted in `Idle::num_spinning`.
    pub(crate) spinning: bool,
    /// The runnable `find_runnable` returned is a blocking job (`help`),
    /// not a task of this runtime.
    pub(crate) job: bool,
    rng: u64,
    /// The number of the last poll this P was lent for (see `lend`).
    pub(crate) seq: u64,
    /// Steal strides for `steal_order.0` Ps: every stride coprime with it
    /// (Go's `stealOrder`), recomputed when a resize changes the count.
    steal_order: (usize, Vec<usize>),
    /// When this worker last queued a driver poll's surplus on the shared
    /// queue of woken tasks without waking another worker for it (see
    /// `find::SURPLUS_WAKE`); `None` once that is settled.
    pub(crate) surplus_since: Option<Instant>,
}

/// A P: the half other threads touch, each part on its own cache lines:
/// the queue side is read by thieves, the parker written by wakers, the
/// counters by the P's holder on every poll.
pub(crate) struct Remote {
    queue: Padded<QueueSide>,
    /// The parker of whichever thread runs this P (Go's `m.park`, indexed
    /// by P here because the sleeper list holds P indices).
    parker: Padded<Parker>,
    stats: Padded<ProcStats>,
}

/// The stealable end of the ring, `runnext`, and what the monitor reads.
struct QueueSide {
    stealer: Stealer<Runnable>,
    runnext: RunNext<Runnable>,
    /// Where the P waits while its thread polls a task. Its owner writes
    /// it twice per poll; thieves hammer `runnext`: keeping the two on
    /// separate cache lines took chained_spawn from ~190 to ~150 µs.
    lend: Padded<LendSlot<Box<Core>>>,
    /// After `lend`'s padding: written by the owner per poll, read by the
    /// monitor.
    watch: Watch,
}

/// What the monitor needs to know about the poll a P is lent for.
struct Watch {
    /// The task being polled, for the retake report.
    task_id: AtomicU64,
    task_location: AtomicPtr<Location<'static>>,
    /// The lend number of a poll asked to yield (`should_yield`).
    preempt: AtomicU64,
    /// The thread running this P (`ThreadRef::to_bits`).
    thread: AtomicU64,
}

/// Creates the P with index `index`: its owner half and its shared half
/// (whose parker sleeps in `driver`, if any).
pub(crate) fn new(index: usize, driver: Option<Arc<dyn Driver>>) -> (Box<Core>, Remote) {
    let (ring, stealer) = ring::new();
    let core = Core {
        index,
        ring,
        tick: 0,
        spinning: false,
        job: false,
        rng: 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(index as u64 + 1) | 1,
        seq: 0,
        steal_order: (0, Vec::new()),
        surplus_since: None,
    };
    let remote = Remote {
        queue: Padded(QueueSide {
            stealer,
            runnext: RunNext::new(),
            lend: Padded(LendSlot::new()),
            watch: Watch {
                task_id: AtomicU64::new(0),
                task_location: AtomicPtr::new(std::ptr::null_mut()),
                preempt: AtomicU64::new(0),
                thread: AtomicU64::new(0),
            },
        }),
        parker: Padded(Parker::with_driver(driver)),
        stats: Padded(ProcStats::new()),
    };
    (Box::new(core), remote)
}

impl Remote {
    /// The steal end of the P's ring.
    pub(crate) fn stealer(&self) -> &Stealer<Runnable> {
        &self.queue.stealer
    }

    /// The P's `runnext` slot: the task its thread runs next.
    pub(crate) fn runnext(&self) -> &RunNext<Runnable> {
        &self.queue.runnext
    }

    /// Whether the P's queues look empty (racy).
    pub(crate) fn is_idle(&self) -> bool {
        self.queue.stealer.is_empty() && !self.queue.runnext.is_occupied()
    }

    /// The slot the P is lent to while its thread polls a task.
    pub(crate) fn lend(&self) -> &LendSlot<Box<Core>> {
        &self.queue.lend
    }

    /// The parker of the thread running this P.
    pub(crate) fn parker(&self) -> &Parker {
        &self.parker
    }

    /// Wakes the thread running this P if it sleeps.
    pub(crate) fn unpark(&self) {
        self.parker.unpark();
    }

    /// The P's counters.
    pub(crate) fn stats(&self) -> &ProcStats {
        &self.stats
    }

    /// Tasks queued on this P: its ring and its `runnext` (racy).
    pub(crate) fn queue_len(&self) -> usize {
        self.queue.stealer.len() + usize::from(self.queue.runnext.is_occupied())
    }

    /// Polls run with this P so far: each poll takes the next lend number.
    pub(crate) fn polls(&self) -> u64 {
        self.queue.lend.observe().seq()
    }

    /// The task being polled with this P, if one is.
    pub(crate) fn running_task(&self) -> Option<u64> {
        self.queue
            .lend
            .observe()
            .is_lent()
            .then(|| self.queue.watch.task_id.load(Relaxed))
            .filter(|&id| id != crate::help::JOB_ID)
    }

    /// Records that a blocking job is about to run (`help`): no task, so
    /// neither the monitor's report nor the task dump names one.
    pub(crate) fn note_job(&self) {
        let watch = &self.queue.watch;
        watch.task_id.store(crate::help::JOB_ID, Relaxed);
        watch.task_location.store(std::ptr::null_mut(), Relaxed);
    }

    /// Records the task about to be polled, for the monitor's report.
    pub(crate) fn note_poll(&self, meta: &TaskMeta) {
        let watch = &self.queue.watch;
        watch.task_id.store(meta.id().as_u64(), Relaxed);
        let location: *const Location<'static> = meta.location();
        watch.task_location.store(location.cast_mut(), Relaxed);
    }

    /// The task of the poll being watched, and where it was spawned.
    pub(crate) fn polled_task(&self) -> (u64, Option<&'static Location<'static>>) {
        let watch = &self.queue.watch;
        let location = watch.task_location.load(Relaxed);
        // SAFETY: the pointer was made from a `&'static Location<'static>`
        // in `note_poll`, or is the initial null.
        (watch.task_id.load(Relaxed), unsafe { location.as_ref() })
    }

    /// The monitor asks the poll of `word` to yield.
    pub(crate) fn request_preempt(&self, word: LendWord) {
        self.queue.watch.preempt.store(word.seq(), Relaxed);
    }

    /// Whether the monitor asked the poll numbered `seq` to yield.
    pub(crate) fn preempt_requested(&self, seq: u64) -> bool {
        self.queue.watch.preempt.load(Relaxed) == seq
    }

    /// Records that the calling thread now runs this P.
    pub(crate) fn set_thread_current(&self) {
        let bits = ThreadRef::current().to_bits();
        self.queue.watch.thread.store(bits, Relaxed);
    }

    /// The thread running this P, as last recorded.
    pub(crate) fn thread(&self) -> ThreadRef {
        ThreadRef::from_bits(self.queue.watch.thread.load(Relaxed))
    }
}

impl Core {
    /// The index of this P.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// A steal stride for `n` Ps, picked by `r`.
    pub(crate) fn stride(&mut self, r: u64, n: usize) -> usize {
        if self.steal_order.0 != n {
            self.steal_order = (n, coprimes(n));
        }
        let order = &self.steal_order.1;
        order[(r % order.len() as u64) as usize]
    }

    /// The next pseudo-random number of this P (xorshift64*).
    pub(crate) fn next_rand(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Every stride coprime with `n`: from a random start, visiting
/// `start + k * stride` for `k < n` reaches every P once (Go's
/// `stealOrder`).
fn coprimes(n: usize) -> Vec<usize> {
    (1..=n.max(1)).filter(|&k| gcd(k, n) == 1).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::coprimes;

    #[test]
    fn every_stride_visits_each_p_once() {
        assert_eq!(coprimes(6), vec![1, 5]);
        for n in 1..40usize {
            for stride in coprimes(n) {
                let mut seen: Vec<usize> = (0..n).map(|k| (7 + k * stride) % n).collect();
                seen.sort_unstable();
                seen.dedup();
                assert_eq!(seen.len(), n, "n={n} stride={stride}");
            }
        }
    }
}
