//! A live resize over the real runtime: shrinking retires a P through the
//! real `next_task` → `retire` path while tasks run.

use loom::thread;

use super::{loom_runtime, model};

/// Maxprocs drops from 2 to 1 while two tasks are queued: the retired P's
/// worker must notice, whether it is running, about to sleep or asleep
/// (`Idle::wake_sleeper`), move what it holds to the global queue and stop;
/// the remaining worker must run everything. A retirement slept through, or
/// a moved task nobody is woken for, leaves a thread parked forever.
#[test]
fn loom_runtime_a_shrink_retires_a_p_and_every_task_runs() {
    model(1).check(|| {
        let rt = loom_runtime(2, None);
        let a = rt.spawn(async { 1 });
        let resizer = {
            let shared = rt.handle().shared.clone();
            thread::spawn(move || shared.set_maxprocs(1, true))
        };
        let b = rt.spawn(async { 2 });
        let sum = rt.block_on(async { a.await.unwrap() + b.await.unwrap() });
        assert_eq!(sum, 3);
        assert_eq!(resizer.join().unwrap(), 2);
        assert_eq!(rt.handle().maxprocs(), 1);
    });
}
