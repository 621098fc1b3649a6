//! Dropping a runtime: workers stop and join, queued tasks are dropped, and
//! every future's destructor runs exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use goro_executor::{Runtime, yield_now};

use goro_testkit::stress::scaled;
use goro_testkit::threads::LiveThreads;

/// Counts drops of the future that owns it.
struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn create_and_drop_a_thousand_runtimes_dropping_every_future() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut spawned = 0;
    for cycle in 0..scaled(1_000) {
        let rt = Runtime::builder().maxprocs(2).build().unwrap();
        let mut kept = Vec::new();
        let (tx, rx) = async_channel::bounded::<()>(1);
        for k in 0..8 {
            let c = DropCounter(drops.clone());
            let rx = rx.clone();
            let tx = tx.clone();
            let h = match k {
                // Completes at once.
                0 => rt.spawn(async move { drop(c) }),
                // Pending forever with no waker anywhere.
                1 => rt.spawn(async move {
                    let _c = c;
                    std::future::pending::<()>().await
                }),
                // Always runnable: yields forever.
                2 => rt.spawn(async move {
                    let _c = c;
                    loop {
                        yield_now().await;
                    }
                }),
                // Waits on a channel whose sender another task holds.
                3 => rt.spawn(async move {
                    let _c = c;
                    let _ = rx.recv().await;
                }),
                4 => rt.spawn(async move {
                    let _c = c;
                    let _tx = tx;
                    std::future::pending::<()>().await
                }),
                // Spawns a child, then waits for it forever.
                5 => rt.spawn(async move {
                    let _c = c;
                    let child = goro_executor::spawn(std::future::pending::<()>());
                    let _ = child.await;
                }),
                _ => rt.spawn(async move {
                    let _c = c;
                    yield_now().await;
                }),
            };
            spawned += 1;
            if (cycle + k) % 2 == 0 {
                kept.push(h);
            }
        }
        drop((tx, rx));
        drop(rt);
        drop(kept);
    }
    assert_eq!(
        drops.load(SeqCst),
        spawned,
        "each future dropped exactly once"
    );
}

#[test]
fn queued_tasks_are_dropped_and_their_handles_report_cancelled() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    // Occupies the only worker until released.
    let _blocker = rt.spawn(async move {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    started_rx.recv().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..100)
        .map(|_| {
            let c = DropCounter(drops.clone());
            rt.spawn(async move {
                let _c = c;
                std::future::pending::<()>().await
            })
        })
        .collect();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        release_tx.send(()).unwrap();
    });
    drop(rt);
    releaser.join().unwrap();
    assert_eq!(drops.load(SeqCst), 100);
    for h in queued {
        let err = futures_lite::future::block_on(h).unwrap_err();
        assert!(err.is_cancelled());
    }
}

#[test]
fn a_task_parked_on_an_outside_waker_is_dropped_at_shutdown() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = async_channel::bounded::<()>(1);
    let c = DropCounter(drops.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    drop(rt.spawn(async move {
        let _c = c;
        ready_tx.send(()).unwrap();
        let _ = rx.recv().await;
        unreachable!("never runs again after shutdown");
    }));
    ready_rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    drop(rt);
    assert_eq!(
        drops.load(SeqCst),
        1,
        "parked with its waker in the channel, yet dropped"
    );
    drop(tx); // waking a dropped task does nothing
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn worker_threads_are_joined_on_drop() {
    let alive = LiveThreads::new();
    let builder = Runtime::builder()
        .maxprocs(4)
        .on_thread_start(alive.on_start())
        .on_thread_stop(alive.on_stop());
    let rt = builder.build().unwrap();
    rt.block_on(rt.spawn(async {})).unwrap();
    drop(rt);
    assert_eq!(
        alive.get(),
        0,
        "every worker ran its stop hook before drop returned"
    );
}

/// A task stuck in its poll for an hour: the drop would wait that long.
const AN_HOUR: Duration = Duration::from_secs(3600);
/// What a bounded shutdown may take: the limit plus scheduling noise. Only a
/// shutdown that waits for the stuck task (an hour) comes near it.
const PROMPT: Duration = Duration::from_secs(30);

/// A runtime with a task stuck for an hour in a blocking call made by `block`
/// (`thread::sleep`, or that inside `blocking`), plus a parked task and a
/// queued one that count their drops into the returned counter.
fn runtime_with_a_stuck_task(block: fn()) -> (Runtime, Arc<AtomicUsize>) {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let (parked_tx, parked_rx) = std::sync::mpsc::channel();
    let c = DropCounter(drops.clone());
    drop(rt.spawn(async move {
        let _c = c;
        let mut first = true;
        std::future::poll_fn(|_| {
            if std::mem::take(&mut first) {
                parked_tx.send(()).unwrap();
            }
            std::task::Poll::<()>::Pending
        })
        .await
    }));
    parked_rx.recv().unwrap();
    let (stuck_tx, stuck_rx) = std::sync::mpsc::channel();
    drop(rt.spawn(async move {
        stuck_tx.send(()).unwrap();
        block();
    }));
    stuck_rx.recv().unwrap();
    let c = DropCounter(drops.clone());
    drop(rt.spawn(async move {
        let _c = c;
        std::future::pending::<()>().await
    }));
    (rt, drops)
}

fn sleep_an_hour() {
    std::thread::sleep(AN_HOUR);
}

fn blocking_sleep_an_hour() {
    goro_executor::blocking(|| std::thread::sleep(AN_HOUR));
}

#[test]
fn shutdown_timeout_leaves_a_task_stuck_in_a_syscall_behind() {
    let (rt, drops) = runtime_with_a_stuck_task(sleep_an_hour);
    let limit = Duration::from_millis(200);
    let start = std::time::Instant::now();
    let all_stopped = rt.shutdown_timeout(limit);
    let took = start.elapsed();
    println!("shutdown_timeout({limit:?}) with a stuck task: {took:?}");
    assert!(!all_stopped, "the stuck thread cannot have stopped");
    assert!(took >= limit, "gave up after {took:?}, before the limit");
    assert!(took < PROMPT, "shutdown_timeout({limit:?}) took {took:?}");
    assert_eq!(drops.load(SeqCst), 2, "the parked and the queued task");
}

#[test]
fn shutdown_timeout_leaves_a_blocking_closure_that_never_returns_behind() {
    let (rt, drops) = runtime_with_a_stuck_task(blocking_sleep_an_hour);
    let limit = Duration::from_millis(200);
    let start = std::time::Instant::now();
    assert!(!rt.shutdown_timeout(limit));
    let took = start.elapsed();
    println!("shutdown_timeout({limit:?}) with a stuck blocking call: {took:?}");
    assert!(took >= limit && took < PROMPT, "took {took:?}");
    assert_eq!(drops.load(SeqCst), 2, "the parked and the queued task");
}

#[test]
fn shutdown_background_does_not_wait() {
    let (rt, drops) = runtime_with_a_stuck_task(sleep_an_hour);
    let start = std::time::Instant::now();
    rt.shutdown_background();
    let took = start.elapsed();
    assert!(took < PROMPT, "shutdown_background took {took:?}");
    assert_eq!(drops.load(SeqCst), 2, "the parked and the queued task");
}

#[test]
fn shutdown_timeout_of_a_runtime_that_stops_in_time_joins_every_thread() {
    let alive = LiveThreads::new();
    let builder = Runtime::builder()
        .maxprocs(2)
        .on_thread_start(alive.on_start())
        .on_thread_stop(alive.on_stop());
    let rt = builder.build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let c = DropCounter(drops.clone());
    let h = rt.spawn(async move {
        let _c = c;
        std::future::pending::<()>().await
    });
    assert!(rt.shutdown_timeout(PROMPT), "an idle runtime stops in time");
    assert_eq!(alive.get(), 0, "every worker stopped and was joined");
    assert_eq!(drops.load(SeqCst), 1);
    assert!(
        futures_lite::future::block_on(h)
            .unwrap_err()
            .is_cancelled()
    );
}
