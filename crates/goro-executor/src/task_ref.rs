//! [`TaskRef`]: the reference a task holds on its runtime (in its
//! metadata, `TaskMeta`), without an atomic read-modify-write per task on
//! the common path.
//!
//! A task must keep its runtime's `Shared` alive: its schedule function
//! queues it there, and its metadata uses the registry inside. A plain
//! `Arc<Shared>` clone per task costs two atomic read-modify-writes (the
//! clone at spawn, the drop when the task is freed) on the one cache line
//! that every worker of the runtime writes, so the line bounces between
//! workers on every spawn.
//!
//! Instead each worker thread keeps a small stock of strong counts of its
//! own runtime (`WorkerContext::credits`). A task freed on a worker of its
//! runtime gives its count to that stock (a plain add on a thread-local
//! cell); a task spawned there takes one from it. Only when the stock is
//! empty (spawn) or full (free), or on any other thread, does a `TaskRef`
//! touch the `Arc` counter. Every count in a stock is a real strong count of
//! the `Arc`, and a worker gives its stock back when its context is dropped
//! (`WorkerContext`'s `Drop`), so `Shared` lives exactly as long as with a
//! plain clone per task: as long as any task, handle or worker refers to it.

use std::mem::ManuallyDrop;
use std::sync::Arc;

use crate::context;
use crate::shared::Shared;

/// Most counts a worker keeps in stock; a free beyond this decrements the
/// `Arc` counter instead.
pub(crate) const MAX_CREDITS: usize = 4096;

/// One strong count of a runtime's `Shared`, owned by a task's metadata.
pub(crate) struct TaskRef(ManuallyDrop<Arc<Shared>>);

impl TaskRef {
    /// A new count of `shared` for a task being spawned: from this worker's
    /// stock if it runs `shared` and has one, otherwise an `Arc` increment.
    /// On a worker of `shared` it also counts the spawn on the worker's own
    /// counters (`ThreadCounts`), and returns `true`; otherwise the caller
    /// counts it in the registry. One look-up of the worker for both, as
    /// this runs on every spawn.
    #[inline]
    pub(crate) fn for_spawn(shared: &Arc<Shared>) -> (TaskRef, bool) {
        let (from_stock, counted) = context::with_worker(|w| match w {
            Some(w) if w.belongs_to(shared.as_ref()) => {
                w.note_spawned();
                (w.take_credit(), true)
            }
            _ => (false, false),
        });
        let task_ref = if from_stock {
            // SAFETY: the stock held this strong count of `shared` (see the
            // module docs); it now belongs to the `Arc` built here, which
            // `Drop` gives back exactly once.
            TaskRef(ManuallyDrop::new(unsafe {
                Arc::from_raw(Arc::as_ptr(shared))
            }))
        } else {
            TaskRef(ManuallyDrop::new(shared.clone()))
        };
        (task_ref, counted)
    }

    /// The runtime.
    #[inline]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.0
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        let stocked = context::with_worker(|w| match w {
            Some(w) if w.belongs_to(self.0.as_ref()) => w.give_credit(),
            _ => false,
        });
        if !stocked {
            // SAFETY: dropped once, here; the field is not used after.
            unsafe { ManuallyDrop::drop(&mut self.0) };
        }
        // Otherwise the count moved to this worker's stock: the `Arc` is
        // forgotten, not dropped.
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    /// Tasks spawned and freed on the workers, some of them from the
    /// workers' stocks, some not: once the runtime is dropped its state is
    /// freed, so no count was lost or kept.
    #[test]
    fn the_runtime_state_is_freed_after_many_tasks() {
        let rt = crate::Runtime::builder().maxprocs(2).build().unwrap();
        let state = std::sync::Arc::downgrade(&rt.handle().shared);
        let sum = rt.block_on(async {
            let mut handles = Vec::new();
            for i in 0..200u64 {
                handles.push(crate::spawn(async move {
                    let inner: Vec<_> =
                        (0..50u64).map(|j| crate::spawn(async move { j })).collect();
                    let mut s = i;
                    for h in inner {
                        s += h.await.unwrap();
                    }
                    s
                }));
            }
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(
            sum,
            (0..200u64).sum::<u64>() + 200 * (0..50u64).sum::<u64>()
        );
        assert_eq!(rt.handle().num_tasks(), 0);
        assert_eq!(rt.handle().stats().tasks_spawned, 200 * 51);
        let parked = rt.spawn(std::future::pending::<()>());
        drop(rt);
        drop(parked);
        assert!(state.upgrade().is_none(), "the runtime's state leaked");
    }

    /// A parked task woken from a thread that is not a worker while its
    /// runtime is dropped, many times over: the wake (`schedule_task`) must
    /// keep the runtime's state alive through the call, and the state is
    /// freed once everything is dropped. The loom model
    /// `loom_runtime_an_outside_wake_races_the_runtime_drop` checks the
    /// orders; this runs the real thing (also under valgrind memcheck).
    #[test]
    fn an_outside_wake_racing_the_runtime_drop_frees_the_state() {
        use std::sync::{Arc, Mutex};
        use std::task::{Poll, Waker};
        for _ in 0..200 {
            let rt = crate::Runtime::builder().maxprocs(1).build().unwrap();
            let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
            let s = slot.clone();
            let task = rt.spawn(std::future::poll_fn(move |cx| {
                *s.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            }));
            while slot.lock().unwrap().is_none() {
                std::thread::yield_now();
            }
            let state = std::sync::Arc::downgrade(&rt.handle().shared);
            let waker = slot.lock().unwrap().take().unwrap();
            let outside = std::thread::spawn(move || waker.wake());
            drop(task);
            drop(rt);
            outside.join().unwrap();
            drop(slot);
            assert!(state.upgrade().is_none(), "the runtime's state leaked");
        }
    }
}
