//! The monitor retakes a P from a thread stuck in one poll (without any
//! driver: the executor alone). Also runs under valgrind (`.ci/valgrind`),
//! which checks the lend/take hand-off's memory safety.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use goro_executor::{Runtime, spawn};

#[test]
fn a_task_queued_behind_a_blocked_poll_runs_on_another_thread() {
    // One worker, so nothing but a retake can run the second task while the
    // first blocks. An explicit threshold: `.ci/valgrind` turns the default
    // off with GORO_RETAKE_MS=0.
    let rt = Runtime::builder()
        .maxprocs(1)
        .retake_after(Duration::from_millis(10))
        .build()
        .unwrap();
    let blocking = Arc::new(AtomicBool::new(true));
    let (ran_while_blocked, blocker_thread, other_thread) = rt.block_on(async {
        let b = blocking.clone();
        let blocker = spawn(async move {
            let me = std::thread::current().id();
            std::thread::sleep(Duration::from_secs(1));
            b.store(false, SeqCst);
            me
        });
        // Queued on the same (only) P, behind the blocked poll.
        let b = blocking.clone();
        let other = spawn(async move { (b.load(SeqCst), std::thread::current().id()) });
        let (ran_while_blocked, other_thread) = other.await.unwrap();
        (ran_while_blocked, blocker.await.unwrap(), other_thread)
    });
    assert!(
        ran_while_blocked,
        "the queued task waited for the blocked poll"
    );
    assert_ne!(blocker_thread, other_thread);
    assert!(rt.handle().stats().retakes >= 1);
    // The runtime keeps working after the stuck thread comes back.
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
}
