//! A live resize over the real runtime: shrinking retires a P through the
//! real `next_task` → `retire` path while tasks run.

use super::{loom_runtime, model};

/// Maxprocs drops from 2 to 1 while a task is queued: the retired P's
/// worker must notice, whether it is running, about to sleep or asleep
/// (`Idle::wake_sleeper`), move what it holds to the global queue and stop;
/// the remaining worker must run everything, that task and later ones. A
/// retirement slept through, or a moved task nobody is woken for, leaves a
/// thread parked forever.
#[test]
fn loom_runtime_a_shrink_retires_a_p_and_every_task_runs() {
    model(1).check(|| {
        let rt = loom_runtime(2, None);
        let queued = rt.spawn(async { 1 });
        assert_eq!(rt.handle().shared.set_maxprocs(1, true), 2);
        assert_eq!(rt.block_on(queued).unwrap(), 1);
        let later = rt.spawn(async { 2 });
        assert_eq!(rt.block_on(later).unwrap(), 2);
        assert_eq!(rt.handle().maxprocs(), 1);
    });
}
