//! Issue 18, point 3: timers due while one task floods the runtime with
//! new tasks. In a file of its own: its 200,000 timers would upset the
//! process-wide timer counts that `tests/time.rs` checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use goro::time::sleep_until;

/// Issue 18, point 3: one task spawns a long run of new tasks in a single
/// poll, each of which sleeps 1-20 ms. The tasks their timers wake must run
/// ahead of the new tasks still queued; they used to overflow from a full
/// ring to the global queue's tail and wait there for the whole backlog.
/// The bound is relative: the latest wake-up must be late by less than
/// half the time the whole run took (spawning and draining), which a wake
/// queued behind the backlog exceeds whatever the machine's speed.
#[test]
fn woken_tasks_do_not_wait_behind_a_spawn_backlog() {
    const TASKS: u64 = 200_000;
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    let max_late_us = Arc::new(AtomicU64::new(0));
    let left = Arc::new(AtomicUsize::new(TASKS as usize));
    let start = Instant::now();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    {
        let max_late_us = max_late_us.clone();
        let left = left.clone();
        rt.spawn(async move {
            for i in 0..TASKS {
                let max_late_us = max_late_us.clone();
                let left = left.clone();
                let done_tx = done_tx.clone();
                goro::go(async move {
                    let d = Duration::from_micros(1_000 + (i * 7_919) % 19_000);
                    let deadline = Instant::now() + d;
                    sleep_until(deadline).await;
                    let late = deadline.elapsed().as_micros() as u64;
                    max_late_us.fetch_max(late, Ordering::Relaxed);
                    if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                        let _ = done_tx.send(());
                    }
                });
            }
        });
    }
    done_rx
        .recv_timeout(Duration::from_secs(300))
        .expect("every sleeper woke");
    let total = start.elapsed();
    let max_late = Duration::from_micros(max_late_us.load(Ordering::Relaxed));
    drop(rt);
    assert!(
        max_late < total / 2,
        "a woken task waited {max_late:?} in a run of {total:?}"
    );
}
