//! `goro::sync::WaitGroup`: Go's `sync.WaitGroup` semantics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use futures_lite::future::poll_once;
use goro::sync::WaitGroup;

#[goro::test]
async fn wait_on_zero_returns_at_once() {
    let wg = WaitGroup::new();
    assert_eq!(poll_once(wg.wait()).await, Some(()));
}

#[goro::test]
async fn wait_waits_for_every_done() {
    let wg = WaitGroup::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let (go_tx, go_rx) = goro::chan::bounded::<()>(1);
    for _ in 0..50 {
        wg.add(1);
        let (wg, finished, go_rx) = (wg.clone(), finished.clone(), go_rx.clone());
        goro::go(async move {
            let _ = go_rx.recv().await; // held until the channel closes
            finished.fetch_add(1, SeqCst);
            wg.done();
        });
    }
    assert_eq!(poll_once(wg.wait()).await, None, "50 tasks still running");
    assert_eq!(wg.count(), 50);
    drop(go_tx);
    wg.wait().await;
    assert_eq!(finished.load(SeqCst), 50);
}

#[test]
fn negative_counter_panics_and_leaves_the_counter_alone() {
    let wg = WaitGroup::new();
    wg.add(2);
    let err = catch_unwind(AssertUnwindSafe(|| wg.add(-3))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("negative WaitGroup counter"), "{msg}");
    assert_eq!(wg.count(), 2);
    wg.done();
    wg.done();
    assert!(catch_unwind(AssertUnwindSafe(|| wg.done())).is_err());
    assert_eq!(wg.count(), 0);
}

#[goro::test]
async fn reusable_after_a_wait() {
    let wg = WaitGroup::new();
    let n = Arc::new(AtomicUsize::new(0));
    for round in 1..=3 {
        for _ in 0..10 {
            let n = n.clone();
            wg.go(async move {
                goro::yield_now().await;
                n.fetch_add(1, SeqCst);
            });
        }
        wg.wait().await;
        assert_eq!(n.load(SeqCst), round * 10);
        assert_eq!(wg.count(), 0);
    }
}

#[goro::test]
async fn go_counts_done_even_when_the_task_panics() {
    let wg = WaitGroup::new();
    let h = wg.go(async { panic!("task failed") });
    wg.wait().await;
    assert!(h.await.unwrap_err().is_panic());
}

#[test]
fn wait_blocking_from_a_plain_thread() {
    let wg = WaitGroup::new();
    let n = Arc::new(AtomicUsize::new(0));
    for _ in 0..20 {
        let n = n.clone();
        wg.go(async move {
            n.fetch_add(1, SeqCst);
        });
    }
    wg.wait_blocking();
    assert_eq!(n.load(SeqCst), 20);
}

/// Every waiter waits until `done`, and every one is released by it.
#[goro::test]
async fn many_waiters_all_released() {
    use std::sync::atomic::AtomicBool;
    let wg = WaitGroup::new();
    wg.add(1);
    let done_called = Arc::new(AtomicBool::new(false));
    let (waiting_tx, waiting_rx) = goro::chan::unbounded::<()>();
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let wg = wg.clone();
            let done_called = done_called.clone();
            let waiting_tx = waiting_tx.clone();
            goro::go(async move {
                waiting_tx.send(()).await.unwrap();
                wg.wait().await;
                done_called.load(SeqCst)
            })
        })
        .collect();
    for _ in 0..8 {
        waiting_rx.recv().await.unwrap();
    }
    goro::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(
        waiters.iter().all(|w| !w.is_finished()),
        "a waiter returned before done"
    );
    done_called.store(true, SeqCst);
    wg.done();
    let mut released = 0;
    for w in waiters {
        assert!(w.await.unwrap(), "a waiter returned before done");
        released += 1;
    }
    assert_eq!(released, 8);
}

#[test]
fn stats_are_exact_once_the_handles_are_joined() {
    // After `wait`, the tasks may still be ending (documented); after their
    // handles resolve, the counts have settled.
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    for _ in 0..50 {
        let s = rt.block_on(async {
            let wg = WaitGroup::new();
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    let wg = wg.clone();
                    wg.add(1);
                    goro::go(async move {
                        goro::yield_now().await;
                        wg.done();
                    })
                })
                .collect();
            wg.wait().await;
            for h in handles {
                h.await.unwrap();
            }
            goro::stats()
        });
        assert_eq!(s.tasks, 0, "{s:?}");
        assert_eq!(s.tasks_spawned, s.tasks_finished, "{s:?}");
    }
}
