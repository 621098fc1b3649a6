//! What a goro task is: an `async-task` allocation whose metadata is a
//! [`TaskMeta`] (id, spawn location, a few flags, and what the task dump
//! shows: state, poll count, spawn time), running a future wrapped so that a
//! panic is attributed to the task that raised it.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64};

use crate::registry::{Key, Registry};
use crate::shared::Shared;
use crate::task_ref::TaskRef;
use std::task::{Context, Poll, Waker};

/// The runnable half of a goro task, queued by the scheduler.
pub(crate) type Runnable = async_task::Runnable<TaskMeta>;

/// A task's identity, unique within the process for its lifetime.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::new().unwrap();
/// let a = rt.spawn(async {});
/// let b = rt.spawn(async {});
/// assert_ne!(a.id(), b.id());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

impl TaskId {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// Hands out ids in blocks per thread, so spawning from many threads
    /// does not contend on one counter.
    #[inline]
    fn next() -> TaskId {
        const BLOCK: u64 = 1024;
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            static RANGE: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
        }
        #[cold]
        fn new_block() -> (u64, u64) {
            let next = NEXT_BLOCK.fetch_add(BLOCK, Relaxed);
            (next, next + BLOCK)
        }
        RANGE.with(|r| {
            let (mut next, mut end) = r.get();
            if next == end {
                (next, end) = new_block();
            }
            r.set((next + 1, end));
            TaskId(next)
        })
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The handle was dropped without taking the output.
const DETACHED: u8 = 1 << 0;
/// The future panicked.
const PANICKED: u8 = 1 << 1;
/// A panic aborts the process (Go's behaviour), set at spawn.
const ABORT_ON_PANIC: u8 = 1 << 2;
/// `JoinHandle::abort` was called: the next poll drops the future instead.
const ABORTED: u8 = 1 << 4;

/// Per-task metadata stored in the task's header.
///
/// 40 bytes, which every task pays: the 32-bit registry key, the `sched`
/// word and the spawn time fill what was padding after the flags, so the
/// task dump costs no memory per task.
pub struct TaskMeta {
    id: TaskId,
    location: &'static Location<'static>,
    /// The task's strong count of its runtime (`None` for a task of no
    /// runtime, `spawn_unscheduled`): the runtime's registry and schedule
    /// function are found through it (`shared::schedule_task`). Dropped
    /// with the metadata, when async-task frees the task.
    runtime: Option<TaskRef>,
    /// The task's `registry::Key`, or `UNREGISTERED`.
    key: AtomicU32,
    /// Polls started, whether the task is queued now, and whether that wake
    /// is timed (`SCHED_*`): one store when the task is queued, one when its
    /// poll starts. Written only by whoever owns the task's `Runnable` (the
    /// scheduler while queueing it, the poll while running it), never by
    /// two threads at once, so plain loads and stores suffice; the task
    /// dump reads it racily.
    sched: AtomicU32,
    /// When the task was spawned, on the coarse clock (`clock`).
    born: u32,
    flags: AtomicU8,
    /// The future has been dropped: completed, panicked or cancelled. Its
    /// own byte, not a bit of `flags`: only the thread dropping the future
    /// writes it, so a plain store does (a `fetch_or` on `flags` would be
    /// one more atomic read-modify-write per task).
    finished: AtomicBool,
    /// Why the task waits (`wait::WaitReason` as a byte, 0 for unknown):
    /// stored when a poll returns `Pending`, by the polling thread only.
    wait: AtomicU8,
}

const UNREGISTERED: u32 = u32::MAX;

/// Queued and not yet polled.
const SCHED_QUEUED: u32 = 1 << 0;
/// This wake is timed for the latency histogram (`latency`).
const SCHED_SAMPLED: u32 = 1 << 1;
const SCHED_FLAGS: u32 = SCHED_QUEUED | SCHED_SAMPLED;
/// One poll, counted in the bits above the flags (saturating at 2^30 - 1).
const SCHED_ONE: u32 = 1 << 2;

impl TaskMeta {
    /// Metadata for a task spawned at `location`, at `born` on the coarse
    /// clock (`clock::now_ms`). Inline: it runs on every spawn, from the
    /// spawner's crate (`Handle::spawn_at` is generic).
    #[inline]
    pub(crate) fn new(
        location: &'static Location<'static>,
        runtime: Option<TaskRef>,
        abort_on_panic: bool,
        born: u32,
    ) -> Self {
        let flags = if abort_on_panic { ABORT_ON_PANIC } else { 0 };
        let id = TaskId::next();
        TaskMeta {
            id,
            location,
            runtime,
            key: AtomicU32::new(UNREGISTERED),
            sched: AtomicU32::new(0),
            born,
            flags: AtomicU8::new(flags),
            finished: AtomicBool::new(false),
            wait: AtomicU8::new(0),
        }
    }

    /// The task is being queued (spawned or woken): three instructions,
    /// as this runs on every wake.
    #[inline]
    pub(crate) fn mark_queued(&self) {
        let w = self.sched.load(Relaxed);
        self.sched.store(w | SCHED_QUEUED, Relaxed);
    }

    /// Marks the wake that just queued the task as timed (`latency`).
    pub(crate) fn mark_sampled(&self) {
        let w = self.sched.load(Relaxed);
        self.sched.store(w | SCHED_SAMPLED, Relaxed);
    }

    /// The task's poll starts: counts it, and the task is no longer queued.
    /// If the wake that queued it was timed, records the scheduling latency.
    /// Whether it is running the dump reads from the worker's watch, not
    /// from here, so this is one load and one store.
    #[inline]
    fn begin_poll(&self) {
        let w = self.sched.load(Relaxed);
        let count = w & !SCHED_FLAGS;
        // Saturates: past 2^30 the count stays put instead of wrapping.
        let count = match count.wrapping_add(SCHED_ONE) {
            0 => count,
            n => n,
        };
        self.sched.store(count, Relaxed);
        if w & SCHED_SAMPLED != 0 {
            crate::stats::record_wake_latency(self);
        }
    }

    /// A poll returned `Pending`: records why the task waits (a plain
    /// store: only the polling thread writes it), and registers the task
    /// the first time. Out of line, so that the poll of the user's future,
    /// generic and hot, stays as small as it was.
    #[inline(never)]
    fn after_pending(&self, waker: &Waker) {
        self.wait.store(crate::wait::noted(), Relaxed);
        if self.key.load(Relaxed) == UNREGISTERED {
            self.register(waker);
        }
    }

    /// Why the task waits, as its last `Pending` poll noted (racy).
    pub(crate) fn wait_reason(&self) -> Option<crate::WaitReason> {
        crate::WaitReason::from_code(self.wait.load(Relaxed))
    }

    /// Whether the task is queued, how many of its polls have started, and
    /// its spawn time, for the task dump (racy).
    pub(crate) fn dump_state(&self) -> (bool, u32, u32) {
        let w = self.sched.load(Relaxed);
        (w & SCHED_QUEUED != 0, w / SCHED_ONE, self.born)
    }

    /// Registers a task that is about to park, so shutdown can reach it.
    /// Called by the task's own poll, once.
    fn register(&self, waker: &Waker) {
        let Some(registry) = self.registry() else {
            return;
        };
        // `self` is the metadata in the task's allocation, which the waker
        // keeps alive: `insert`'s contract.
        let Some(key) = registry.insert(waker.clone(), self) else {
            return;
        };
        self.key.store(key.to_u32(), SeqCst);
        // An abort that came before the key was visible could not wake the
        // task through the registry; wake it here instead (both sides use
        // SeqCst, so one of them sees the other).
        if self.flags.load(SeqCst) & ABORTED != 0 {
            waker.wake_by_ref();
        }
    }

    /// Takes the task out of its registry; called when its future is gone.
    fn unregister(&self) {
        let Some(registry) = self.registry() else {
            return;
        };
        // Only the task itself writes its key (here and in `register`, both
        // run by whoever owns the future), so a load and a store do: no
        // read-modify-write for the many tasks that never parked.
        let key = self.key.load(Relaxed);
        if key != UNREGISTERED {
            self.remove_from(registry, key);
        }
        let counted =
            crate::context::with_worker(|w| w.is_some_and(|w| w.count_finished(registry)));
        if !counted {
            registry.note_finished();
        }
    }

    /// Out of line, so that the many tasks that never parked do not pay
    /// for the registry's code in `unregister` (saved registers).
    #[inline(never)]
    fn remove_from(&self, registry: &Registry, key: u32) {
        self.key.store(UNREGISTERED, Relaxed);
        registry.remove(Key::from_u32(key));
    }

    /// The task's runtime, if it has one.
    #[inline]
    pub(crate) fn runtime(&self) -> Option<&std::sync::Arc<Shared>> {
        self.runtime.as_ref().map(TaskRef::shared)
    }

    /// The registry of the task's runtime, if it has one.
    #[inline]
    fn registry(&self) -> Option<&Registry> {
        self.runtime().map(|s| &s.registry)
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Where the task was spawned (`goro::go` is `#[track_caller]`).
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Whether the future is gone (completed, panicked or cancelled).
    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Acquire)
    }

    /// Asks the task to stop, and wakes it so that it is polled (and drops
    /// its future) soon. Does nothing to a finished task.
    pub(crate) fn abort(&self) {
        self.flags.fetch_or(ABORTED, SeqCst);
        // Not registered: the task has never parked, so it is queued or
        // running and will see the flag at its next poll (see `register`).
        let key = self.key.load(SeqCst);
        if let (Some(registry), true) = (self.registry(), key != UNREGISTERED) {
            // A slot reused by another task meanwhile gets a spurious
            // wakeup, which every future tolerates.
            registry.wake(Key::from_u32(key));
        }
    }

    /// The `JoinHandle` was dropped before the output was taken. Reports a
    /// panic that happened before, which no one will see otherwise.
    pub(crate) fn mark_detached(&self) {
        let prev = self.flags.fetch_or(DETACHED, AcqRel);
        if prev & PANICKED != 0 {
            self.report_unobserved_panic();
        }
    }

    /// Called while the task's future unwinds.
    fn mark_panicked(&self) {
        let prev = self.flags.fetch_or(PANICKED, AcqRel);
        if prev & ABORT_ON_PANIC != 0 {
            eprintln!(
                "goro: task {} spawned at {} panicked; aborting the process (Builder::panic_aborts)",
                self.id, self.location
            );
            std::process::abort();
        }
        if prev & DETACHED != 0 {
            self.report_unobserved_panic();
        }
    }

    fn report_unobserved_panic(&self) {
        eprintln!(
            "goro: task {} spawned at {} panicked and its JoinHandle was dropped, so no one \
             observes the panic; the worker thread carries on",
            self.id, self.location
        );
    }
}

impl fmt::Debug for TaskMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskMeta")
            .field("id", &self.id)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

/// Allocates a goro task: `future` wrapped in [`Tracked`], with `meta` in
/// its header and panics caught for the `JoinHandle`. Not scheduled yet.
pub(crate) fn new_task<F, S>(
    future: F,
    meta: TaskMeta,
    schedule: S,
) -> (Runnable, async_task::Task<Option<F::Output>, TaskMeta>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: async_task::Schedule<TaskMeta> + Send + Sync + 'static,
{
    // SAFETY: `spawn_unchecked` lifts the `'static` bound so that the
    // future can borrow the task's own metadata; it borrows nothing else
    // (`future` is `'static`), and the metadata lives in the task header,
    // which is freed only after the future. The future and the schedule
    // function are `Send`, and the schedule function is `Send + Sync +
    // 'static`, so the remaining conditions of `spawn_unchecked` hold.
    unsafe {
        async_task::Builder::new()
            .metadata(meta)
            .propagate_panic(true)
            .spawn_unchecked(move |meta| Tracked::new(meta, future), schedule)
    }
}

pin_project_lite::pin_project! {
    /// The future a task runs: the user's future plus the bookkeeping that
    /// needs the task's metadata. Its output is `None` when the task was
    /// aborted.
    pub(crate) struct Tracked<'a, F> {
        #[pin]
        future: F,
        // Declared after `future`, so it drops after the future does.
        finish: FinishOnDrop<'a>,
    }
}

impl<'a, F> Tracked<'a, F> {
    pub(crate) fn new(meta: &'a TaskMeta, future: F) -> Self {
        Tracked {
            future,
            finish: FinishOnDrop(meta),
        }
    }
}

struct FinishOnDrop<'a>(&'a TaskMeta);

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        self.0.finished.store(true, Release);
        self.0.unregister();
    }
}

/// Armed for the duration of one poll; if the poll unwinds, its destructor
/// runs and records the panic against the task.
struct PanicGuard<'a>(&'a TaskMeta);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        self.0.mark_panicked();
    }
}

impl<F: Future> Future for Tracked<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let this = self.project();
        let meta = this.finish.0;
        if meta.flags.load(Relaxed) & ABORTED != 0 {
            // Ready(None) makes async-task drop the future now.
            return Poll::Ready(None);
        }
        meta.begin_poll();
        crate::wait::clear();
        let guard = PanicGuard(meta);
        let out = this.future.poll(cx);
        std::mem::forget(guard);
        if out.is_pending() {
            meta.after_pending(cx.waker());
        }
        out.map(Some)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_across_threads() {
        let handles: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..5000).map(|_| TaskId::next()).collect::<Vec<_>>()))
            .collect();
        let mut all: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }

    #[test]
    fn metadata_stays_small() {
        // Part of every task's allocation (after async-task's 40-byte
        // header): id, spawn location, registry pointer and key, flags,
        // and the dump's state word and spawn time in what was padding.
        assert!(
            std::mem::size_of::<TaskMeta>() <= 40,
            "{}",
            std::mem::size_of::<TaskMeta>()
        );
    }

    #[test]
    fn polls_and_state_are_tracked() {
        let meta = TaskMeta::new(Location::caller(), None, false, 7);
        meta.mark_queued(); // the spawn
        assert_eq!(meta.dump_state(), (true, 0, 7));
        let mut n = 0;
        let mut t = std::pin::pin!(Tracked::new(
            &meta,
            std::future::poll_fn(|_| {
                n += 1;
                if n < 3 {
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
        ));
        let cx = &mut Context::from_waker(Waker::noop());
        assert!(t.as_mut().poll(cx).is_pending());
        assert_eq!(meta.dump_state(), (false, 1, 7));
        meta.mark_queued();
        assert_eq!(meta.dump_state(), (true, 1, 7));
        assert!(t.as_mut().poll(cx).is_pending());
        meta.mark_queued();
        assert!(t.as_mut().poll(cx).is_ready());
        assert_eq!(meta.dump_state(), (false, 3, 7));
    }

    #[test]
    fn finish_flag_set_when_future_dropped() {
        let meta = TaskMeta::new(Location::caller(), None, false, 0);
        let t = Tracked::new(&meta, async {});
        assert!(!meta.is_finished());
        drop(t);
        assert!(meta.is_finished());
    }
}
