//! `goro::TaskGroup`: errgroup semantics, checked with drop counters.

use std::future::pending;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use goro::TaskGroup;
use goro::sync::WaitGroup;

/// Counts its drops: proves a task's future was really dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[goro::test]
async fn zero_tasks_is_ok_at_once() {
    let g = TaskGroup::<String>::new();
    assert!(g.is_empty());
    assert_eq!(
        futures_lite::future::poll_once(g.wait()).await,
        Some(Ok(()))
    );
}

#[goro::test]
async fn all_succeed() {
    let mut g = TaskGroup::<String>::new();
    let n = Arc::new(AtomicUsize::new(0));
    for _ in 0..100 {
        let n = n.clone();
        g.spawn(async move {
            n.fetch_add(1, SeqCst);
            Ok(())
        });
    }
    assert_eq!(g.len(), 100);
    assert_eq!(g.wait().await, Ok(()));
    assert_eq!(n.load(SeqCst), 100);
}

#[goro::test]
async fn first_error_cancels_the_rest_and_is_returned() {
    const N: usize = 20;
    let mut g = TaskGroup::new();
    let dropped = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let started = WaitGroup::new();
    for _ in 0..N {
        let (dropped, finished, started) = (dropped.clone(), finished.clone(), started.clone());
        started.add(1);
        g.spawn(async move {
            let _counter = DropCounter(dropped);
            started.done();
            pending::<()>().await; // never finishes on its own
            finished.fetch_add(1, SeqCst);
            Ok(())
        });
    }
    g.spawn(async move {
        started.wait().await; // fail only once all others are running
        Err("first failure")
    });
    assert_eq!(g.wait().await, Err("first failure"));
    assert_eq!(dropped.load(SeqCst), N, "every other task's future dropped");
    assert_eq!(finished.load(SeqCst), 0);
}

#[goro::test]
async fn the_earliest_error_wins_not_the_first_spawned() {
    let mut g = TaskGroup::new();
    let (go_tx, go_rx) = goro::chan::bounded::<()>(1);
    g.spawn(async move {
        let _ = go_rx.recv().await; // never released: cancelled instead
        Err("late")
    });
    g.spawn(async { Err("early") });
    assert_eq!(g.wait().await, Err("early"));
    drop(go_tx);
}

#[goro::test]
async fn tasks_over_the_limit_never_start_after_an_error() {
    let mut g = TaskGroup::new().with_limit(1);
    let errored = Arc::new(AtomicBool::new(false));
    let ran_after_error = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let e = errored.clone();
    g.spawn(async move {
        e.store(true, SeqCst);
        Err(1)
    });
    for _ in 0..10 {
        let (errored, after, counter) = (
            errored.clone(),
            ran_after_error.clone(),
            DropCounter(dropped.clone()),
        );
        g.spawn(async move {
            let _counter = counter;
            // With a limit of 1 the failing task holds the only permit from
            // before it fails until after it cancels the group: a task that
            // gets the permit after the failure must not run.
            if errored.load(SeqCst) {
                after.fetch_add(1, SeqCst);
            }
            Ok(())
        });
    }
    assert_eq!(g.wait().await, Err(1));
    assert_eq!(dropped.load(SeqCst), 10, "all queued futures dropped");
    assert_eq!(ran_after_error.load(SeqCst), 0);
}

#[goro::test(maxprocs = 2)]
async fn limit_is_respected_and_reached() {
    const LIMIT: usize = 3;
    let mut g = TaskGroup::<()>::new().with_limit(LIMIT);
    let running = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    for _ in 0..60 {
        let (running, max) = (running.clone(), max.clone());
        g.spawn(async move {
            let now = running.fetch_add(1, SeqCst) + 1;
            max.fetch_max(now, SeqCst);
            for _ in 0..10 {
                goro::yield_now().await;
            }
            running.fetch_sub(1, SeqCst);
            Ok(())
        });
    }
    g.wait().await.unwrap();
    assert_eq!(max.load(SeqCst), LIMIT);
}

/// Spawns 20 tasks under a limit of 3 and returns the order they started.
async fn start_order_under_limit_3() -> Vec<usize> {
    let mut g = TaskGroup::<()>::new().with_limit(3);
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    for i in 0..20 {
        let order = order.clone();
        g.spawn(async move {
            order.lock().unwrap().push(i);
            for _ in 0..3 {
                goro::yield_now().await;
            }
            Ok(())
        });
    }
    g.wait().await.unwrap();
    Arc::try_unwrap(order).unwrap().into_inner().unwrap()
}

#[goro::test(maxprocs = 1)]
async fn under_a_limit_tasks_start_in_spawn_order() {
    // One worker: a start is recorded in the poll that admits it, so the
    // record is exactly the admission order (errgroup's order).
    let order = start_order_under_limit_3().await;
    assert_eq!(order, (0..20).collect::<Vec<_>>());
}

#[goro::test(maxprocs = 2)]
async fn under_a_limit_no_task_starts_before_an_earlier_one_on_two_workers() {
    // Two tasks admitted back to back may record in either order, but task
    // j is admitted only after j - 3 + 1 tasks ended, so every k <= j - 3
    // is recorded before j.
    let order = start_order_under_limit_3().await;
    let pos: Vec<usize> = (0..20)
        .map(|i| order.iter().position(|&x| x == i).unwrap())
        .collect();
    for j in 3..20 {
        for k in 0..=j - 3 {
            assert!(
                pos[k] < pos[j],
                "task {j} started before task {k}: {order:?}"
            );
        }
    }
}

#[test]
#[should_panic(expected = "at least 1")]
fn limit_zero_panics() {
    let _ = TaskGroup::<()>::new().with_limit(0);
}

#[test]
fn a_panic_cancels_the_rest_and_is_resumed_by_wait() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        goro::block_on(async move {
            let mut g = TaskGroup::<()>::new();
            for _ in 0..5 {
                let counter = DropCounter(d.clone());
                g.spawn(async move {
                    let _counter = counter;
                    pending().await
                });
            }
            g.spawn(async {
                goro::yield_now().await;
                panic!("task blew up")
            });
            g.wait().await
        })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"task blew up"));
    assert_eq!(dropped.load(SeqCst), 5);
}

#[goro::test]
async fn group_is_cancelled_by_its_parent_token() {
    let parent = goro::CancelToken::new();
    let mut g = TaskGroup::<()>::with_token(&parent);
    let dropped = Arc::new(AtomicUsize::new(0));
    for _ in 0..4 {
        let counter = DropCounter(dropped.clone());
        g.spawn(async move {
            let _counter = counter;
            pending().await
        });
    }
    parent.cancel();
    assert_eq!(g.wait().await, Ok(()));
    assert_eq!(dropped.load(SeqCst), 4);
}

#[goro::test]
async fn the_error_does_not_cancel_the_parent() {
    let parent = goro::CancelToken::new();
    let mut g = TaskGroup::with_token(&parent);
    let token = g.token();
    g.spawn(async { Err(()) });
    assert_eq!(g.wait().await, Err(()));
    assert!(token.is_cancelled());
    assert!(!parent.is_cancelled());
}

#[goro::test]
async fn spawning_into_a_cancelled_group_never_runs_the_future() {
    let parent = goro::CancelToken::new();
    parent.cancel(); // cancel before start
    let mut g = TaskGroup::<()>::with_token(&parent);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    g.spawn(async move {
        r.fetch_add(1, SeqCst);
        Ok(())
    });
    assert_eq!(g.wait().await, Ok(()));
    assert_eq!(ran.load(SeqCst), 0);
}

#[goro::test]
async fn dropping_the_group_cancels_its_tasks() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let mut g = TaskGroup::<()>::new();
    for _ in 0..3 {
        let counter = DropCounter(dropped.clone());
        g.spawn(async move {
            let _counter = counter;
            pending().await
        });
    }
    drop(g);
    let deadline = Instant::now() + Duration::from_secs(5);
    while dropped.load(SeqCst) < 3 {
        assert!(Instant::now() < deadline, "tasks not dropped");
        goro::yield_now().await;
    }
}
