//! `blocking`: a task that blocks hands its worker's P to a new thread, so
//! the worker's other tasks, including its `runnext` task, keep running.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use goro_executor::{Runtime, blocking, spawn};

use goro_testkit::threads::{LiveThreads, process_threads};

/// How long a blocked task waits to be released before it gives up: only a
/// broken hand-off (the queued tasks never run while it blocks) reaches it.
const GIVE_UP: Duration = Duration::from_secs(60);

/// A runtime whose monitor never retakes a P.
fn no_retake(maxprocs: usize) -> Runtime {
    Runtime::builder()
        .maxprocs(maxprocs)
        .retake_after(Duration::ZERO)
        .build()
        .unwrap()
}

/// No wall-clock bound: each blocking call lasts until the tasks queued
/// behind it have run, and reports whether they did (a worker that kept its
/// P while blocked would run them only after `GIVE_UP`). The monitor's
/// retake is off, so only `blocking`'s own hand-off can rescue them.
#[test]
fn queued_tasks_run_while_the_only_worker_blocks() {
    let rt = no_retake(1);
    let (ran_tx, ran_rx) = std::sync::mpsc::channel::<&str>();
    let (ran_while_blocked, a, b) = rt
        .block_on(rt.spawn(async move {
            // Queued behind us on the only worker: `a` in runnext, `b` in
            // the ring.
            let tx = ran_tx.clone();
            let a = spawn(async move { tx.send("runnext task").ok() });
            let b = spawn(async move { ran_tx.send("queued task").ok() });
            let ran = blocking(move || {
                let mut ran = Vec::new();
                while ran.len() < 2 {
                    match ran_rx.recv_timeout(GIVE_UP) {
                        Ok(which) => ran.push(which),
                        Err(_) => break,
                    }
                }
                ran.sort_unstable();
                ran
            });
            (ran, a.await, b.await)
        }))
        .unwrap();
    a.unwrap();
    b.unwrap();
    assert_eq!(
        ran_while_blocked,
        ["queued task", "runnext task"],
        "tasks that ran while the only worker blocked"
    );
}

#[test]
fn a_thousand_tasks_keep_running_while_every_worker_blocks() {
    let rt = no_retake(2);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let release = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let blockers: Vec<_> = (0..2)
        .map(|_| {
            let started_tx = started_tx.clone();
            let release = release.clone();
            rt.spawn(async move {
                started_tx.send(()).unwrap();
                // Blocks until released: true if released before GIVE_UP.
                blocking(move || {
                    let (lock, cv) = &*release;
                    let released = cv
                        .wait_timeout_while(lock.lock().unwrap(), GIVE_UP, |r| !*r)
                        .unwrap();
                    *released.0
                })
            })
        })
        .collect();
    started_rx.recv().unwrap();
    started_rx.recv().unwrap();
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
    assert_eq!(done.load(SeqCst), 1_000);
    // Only now are the blockers let go: the 1,000 tasks ran while both
    // workers' threads were blocked, or the blockers gave up first.
    *release.0.lock().unwrap() = true;
    release.1.notify_all();
    for b in blockers {
        assert!(
            rt.block_on(b).unwrap(),
            "the 1,000 tasks finished only after the blocked workers gave up ({GIVE_UP:?})"
        );
    }
}

#[test]
fn outside_a_worker_blocking_just_runs() {
    assert_eq!(blocking(|| 7), 7);
}

#[test]
fn handed_off_threads_are_joined_at_shutdown() {
    let live = LiveThreads::new();
    let builder = Runtime::builder()
        .maxprocs(2)
        .on_thread_start(live.on_start())
        .on_thread_stop(live.on_stop());
    let rt = builder.build().unwrap();
    for _ in 0..5 {
        rt.block_on(rt.spawn(async { blocking(|| std::thread::sleep(Duration::from_millis(5))) }))
            .unwrap();
    }
    drop(rt);
    assert_eq!(
        live.get(),
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

/// Threads left without a P exit after their 10 s keep-alive and are joined
/// while the runtime lives (an exited thread keeps its stack until joined):
/// after hand-offs spread over time, the runtime's thread handles and the
/// process's threads return to where they were.
#[test]
fn exited_spare_threads_are_joined_while_the_runtime_runs() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    // Let the worker and the monitor start.
    rt.block_on(rt.spawn(async {})).unwrap();
    let handles_before = rt.handle().stats().runtime_threads;
    let threads_before = process_threads();
    for round in 0..5 {
        // Several at once, so that several threads are started.
        let hs: Vec<_> = (0..4)
            .map(|_| rt.spawn(async { blocking(|| std::thread::sleep(Duration::from_millis(5))) }))
            .collect();
        for h in hs {
            rt.block_on(h).unwrap();
        }
        println!("round {round}: {:?}", rt.handle().stats().runtime_threads);
        std::thread::sleep(Duration::from_millis(100));
    }
    let grown = rt.handle().stats().runtime_threads;
    assert!(grown > handles_before, "no hand-off started a thread");
    // 10 s keep-alive, then up to a second until the monitor reaps.
    let start = std::time::Instant::now();
    let settled = |rt: &Runtime| {
        rt.handle().stats().runtime_threads == handles_before && process_threads() <= threads_before
    };
    while !settled(&rt) && start.elapsed() < GIVE_UP {
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "{grown} thread handles back to {} after {:?}",
        rt.handle().stats().runtime_threads,
        start.elapsed()
    );
    assert_eq!(
        rt.handle().stats().runtime_threads,
        handles_before,
        "exited spare threads are still waiting to be joined"
    );
    assert!(process_threads() <= threads_before);
}
