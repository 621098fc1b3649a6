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

/// Whether this platform tells the monitor that a thread sleeps in the
/// kernel (the fast retake needs it); elsewhere the tests below skip loudly.
fn thread_state_known() -> bool {
    if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_vendor = "apple"
    )) {
        return true;
    }
    eprintln!("SKIP: this platform does not expose a thread's scheduling state");
    assert!(
        std::env::var_os("GORO_TEST_STRICT").is_none(),
        "GORO_TEST_STRICT=1: the thread-state test cannot run here"
    );
    false
}

/// Runs a blocker (`hold`, for `HOLD`) on a single worker with a second task
/// queued behind it, and a retake threshold far longer than the hold.
/// Returns whether the second task ran while the blocker still held the
/// worker.
fn queued_task_ran_during(hold: fn(Duration)) -> bool {
    const HOLD: Duration = Duration::from_millis(1500);
    let rt = Runtime::builder()
        .maxprocs(1)
        .retake_after(Duration::from_secs(60))
        .build()
        .unwrap();
    let blocking = Arc::new(AtomicBool::new(true));
    let b = blocking.clone();
    rt.block_on(async move {
        let b2 = b.clone();
        let blocker = spawn(async move {
            // Queued on this P's own ring, behind the blocked poll.
            let other = spawn(async move { b2.load(SeqCst) });
            hold(HOLD);
            b.store(false, SeqCst);
            other.await.unwrap()
        });
        blocker.await.unwrap()
    })
}

#[test]
fn a_thread_asleep_in_the_kernel_loses_its_queued_work_long_before_the_threshold() {
    if !thread_state_known() {
        return;
    }
    // The threshold is 60 s: only the asleep-with-work rule can move the
    // queued task while the blocker sleeps for 1.5 s.
    assert!(
        queued_task_ran_during(std::thread::sleep),
        "the queued task waited for the sleeping poll"
    );
}

#[test]
fn a_computing_thread_keeps_its_p_until_the_threshold() {
    if !thread_state_known() {
        return;
    }
    let spin = |d: Duration| {
        let start = std::time::Instant::now();
        while start.elapsed() < d {
            std::hint::spin_loop();
        }
    };
    assert!(
        !queued_task_ran_during(spin),
        "a computing poll lost its P before the 60 s threshold"
    );
}
