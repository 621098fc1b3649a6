//! Task counts and the runtime references of tasks: each worker thread
//! counts its spawns and finishes on its own `ThreadCounts` (plain stores,
//! folded into the shared counters when the thread stops), and keeps a
//! stock of strong counts of its runtime for its tasks (`task_ref`).

use loom::sync::Arc;
use loom::thread;

use super::{loom_runtime, model};
use crate::registry::Registry;

/// A reader racing a counting thread and its detach never sees more
/// finished than spawned tasks, nor a count in two places or none, and
/// the totals survive the detach.
#[test]
fn loom_thread_counts_fold_into_the_totals() {
    model(3).check(|| {
        let registry = Arc::new(Registry::new(1));
        let r = registry.clone();
        let worker = thread::spawn(move || {
            let counts = r.attach();
            counts.note_spawned();
            counts.note_spawned();
            counts.note_finished();
            r.detach(&counts);
        });
        let (spawned, finished) = registry.totals();
        assert!(spawned >= finished && spawned <= 2 && finished <= 1);
        registry.note_spawned(); // a thread without counts of its own
        worker.join().unwrap();
        assert_eq!(registry.totals(), (3, 1));
        assert_eq!(registry.len(), 2);
    });
}

/// Tasks spawned by a task (from a worker's stock of runtime references
/// and counts) and finished on either worker: the count of live tasks is
/// exact once they are joined, and dropping the runtime frees its state
/// (the workers give their stock of references back as they stop).
#[test]
fn loom_runtime_spawns_from_a_worker_are_counted_and_freed() {
    model(1).check(|| {
        let rt = loom_runtime(2, None);
        let parent = rt.spawn(async {
            let a = crate::spawn(async { 1 });
            let b = crate::spawn(async { 2 });
            a.await.unwrap() + b.await.unwrap()
        });
        assert_eq!(rt.block_on(parent).unwrap(), 3);
        // Read the counts once the workers are joined: the hand-over of a
        // task's output goes through async-task's own atomics, which loom
        // does not see, so only the join orders the workers' counts before
        // these reads in the model.
        let handle = rt.handle().clone();
        drop(rt);
        assert_eq!(handle.num_tasks(), 0);
        assert_eq!(handle.shared.registry.totals(), (3, 3));
        let state = std::sync::Arc::downgrade(&handle.shared);
        drop(handle);
        assert!(state.upgrade().is_none(), "the runtime's state leaked");
    });
}

/// A parked task woken from a thread that is not a worker while the runtime
/// is dropped. The schedule function (`shared::schedule_task`) is
/// zero-sized and finds the runtime through the task's metadata; on such a
/// thread it keeps the task, and with it the task's count of the runtime,
/// alive until the call is over, so the wake never outlives the state it
/// uses. Whichever order the wake, the shutdown's drain and the frees take,
/// nothing deadlocks, and no count of the state is lost or kept.
///
/// A wake that comes after the shutdown's final drain must not leave the
/// task in the global queue, where it would keep the state alive (a cycle:
/// task, its count of the state, the queue, the task): the waking thread
/// drops it (`Shared::drain_if_finished`). The model checks that the state
/// is freed in every order, with no extra drain.
///
/// The state's reference count is a std `Arc`, whose synchronisation loom
/// does not see: were the last count dropped on the outside thread, loom
/// would report the state's destructor as racing the workers' earlier
/// loads. So the model keeps one count until the outside thread is
/// joined; the drop of the last count on another thread is exercised by
/// the stress test `task_ref::an_outside_wake_racing_the_runtime_drop_frees_the_state`
/// (also under valgrind memcheck).
#[test]
fn loom_runtime_an_outside_wake_races_the_runtime_drop() {
    use std::task::{Poll, Waker};
    model(1).check(|| {
        let rt = loom_runtime(1, None);
        let slot: Arc<loom::sync::Mutex<Option<Waker>>> = Arc::new(loom::sync::Mutex::new(None));
        let s = slot.clone();
        let task = rt.spawn(std::future::poll_fn(move |cx| {
            *s.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        // Wait for the task to park (its first poll stores the waker).
        while slot.lock().unwrap().is_none() {
            thread::yield_now();
        }
        let keep = rt.handle().shared.clone();
        let waker = slot.lock().unwrap().take().unwrap();
        let outside = thread::spawn(move || waker.wake());
        drop(task);
        drop(rt);
        outside.join().unwrap();
        // A poll after the wake may have parked the task's waker again.
        drop(slot);
        let state = std::sync::Arc::downgrade(&keep);
        drop(keep);
        assert!(state.upgrade().is_none(), "the runtime's state leaked");
    });
}
