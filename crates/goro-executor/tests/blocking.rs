//! `blocking`: a task that blocks hands its worker's P to a new thread, so
//! the worker's other tasks, including its `runnext` task, keep running.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use goro_executor::{Runtime, blocking, spawn};

const BLOCK: Duration = Duration::from_millis(400);

#[test]
fn queued_tasks_run_while_the_only_worker_blocks() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let start = Instant::now();
    let waited = rt
        .block_on(rt.spawn(async move {
            // Queued behind us on the only worker.
            let other = spawn(async move { start.elapsed() });
            let other2 = spawn(async move { start.elapsed() });
            blocking(|| std::thread::sleep(BLOCK));
            (other.await.unwrap(), other2.await.unwrap())
        }))
        .unwrap();
    assert!(waited.0 < BLOCK / 2, "runnext task waited {:?}", waited.0);
    assert!(waited.1 < BLOCK / 2, "queued task waited {:?}", waited.1);
}

#[test]
fn a_thousand_tasks_keep_running_while_every_worker_blocks() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let blockers: Vec<_> = (0..2)
        .map(|_| {
            let started_tx = started_tx.clone();
            rt.spawn(async move {
                started_tx.send(()).unwrap();
                blocking(|| std::thread::sleep(BLOCK));
            })
        })
        .collect();
    started_rx.recv().unwrap();
    started_rx.recv().unwrap();
    let start = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..1_000)
        .map(|_| {
            let done = done.clone();
            rt.spawn(async move {
                done.fetch_add(1, SeqCst);
            })
        })
        .collect();
    for h in hs {
        rt.block_on(h).unwrap();
    }
    let took = start.elapsed();
    assert_eq!(done.load(SeqCst), 1_000);
    assert!(
        took < BLOCK / 2,
        "1,000 small tasks took {took:?} behind blocked workers"
    );
    for b in blockers {
        rt.block_on(b).unwrap();
    }
}

#[test]
fn outside_a_worker_blocking_just_runs() {
    assert_eq!(blocking(|| 7), 7);
}

#[test]
fn handed_off_threads_are_joined_at_shutdown() {
    let live = Arc::new(AtomicUsize::new(0));
    let (a, b) = (live.clone(), live.clone());
    let rt = Runtime::builder()
        .maxprocs(2)
        .on_thread_start(move || {
            a.fetch_add(1, SeqCst);
        })
        .on_thread_stop(move || {
            b.fetch_sub(1, SeqCst);
        })
        .build()
        .unwrap();
    for _ in 0..5 {
        rt.block_on(rt.spawn(async { blocking(|| std::thread::sleep(Duration::from_millis(5))) }))
            .unwrap();
    }
    drop(rt);
    assert_eq!(
        live.load(SeqCst),
        0,
        "every thread, old and new, stopped before drop returned"
    );
}

#[test]
fn threads_left_without_a_p_are_reused_as_spares() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let rt = Runtime::builder()
        .maxprocs(1)
        .on_thread_start(move || {
            s.fetch_add(1, SeqCst);
        })
        .build()
        .unwrap();
    for _ in 0..10 {
        rt.block_on(rt.spawn(async { blocking(|| std::thread::sleep(Duration::from_millis(2))) }))
            .unwrap();
        // Let the handed-off thread finish its poll and become a spare.
        std::thread::sleep(Duration::from_millis(20));
    }
    // 1 worker + 1 thread for the first hand-off; later hand-offs reuse
    // whichever thread is spare (without spares this would be 11).
    assert!(
        started.load(SeqCst) <= 3,
        "{} threads started",
        started.load(SeqCst)
    );
}
