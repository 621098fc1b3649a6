//! Stress: a million spawns, wake storms across threads, runtimes created and
//! dropped in a loop. Sized to finish in seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::Relaxed};

use goro_executor::{Runtime, spawn, yield_now};

use goro_testkit::stress::scaled;

#[test]
fn a_million_spawns_each_joined_exactly_once() {
    let n = scaled(1_000_000);
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let ran: Arc<Vec<AtomicU8>> = Arc::new((0..n).map(|_| AtomicU8::new(0)).collect());
    let joined = rt.block_on({
        let ran = ran.clone();
        async move {
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let ran = ran.clone();
                    spawn(async move {
                        ran[i].fetch_add(1, Relaxed);
                        i
                    })
                })
                .collect();
            let mut joined = 0usize;
            for (i, h) in handles.into_iter().enumerate() {
                assert_eq!(h.await.unwrap(), i);
                joined += 1;
            }
            joined
        }
    });
    assert_eq!(joined, n);
    assert!(
        ran.iter().all(|r| r.load(Relaxed) == 1),
        "every task ran exactly once"
    );
}

#[test]
fn wake_storm_from_foreign_threads() {
    // 4 OS threads outside the runtime each send 100,000 messages to 25
    // receiving tasks: every message wakes a task from a non-worker thread.
    const SENDERS: usize = 4;
    const TASKS: usize = 25;
    let per_sender = scaled(100_000);
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let mut txs = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let (tx, rx) = async_channel::bounded::<usize>(16);
        txs.push(tx);
        let received = received.clone();
        handles.push(rt.spawn(async move {
            let mut sum = 0usize;
            while let Ok(v) = rx.recv().await {
                sum += v;
                received.fetch_add(1, Relaxed);
            }
            sum
        }));
    }
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let txs = txs.clone();
            std::thread::spawn(move || {
                for i in 0..per_sender {
                    txs[(i + s) % TASKS].send_blocking(1).unwrap();
                }
            })
        })
        .collect();
    drop(txs);
    for s in senders {
        s.join().unwrap();
    }
    let total: usize = handles.into_iter().map(|h| rt.block_on(h).unwrap()).sum();
    assert_eq!(total, SENDERS * per_sender);
    assert_eq!(received.load(Relaxed), SENDERS * per_sender);
}

#[test]
fn wake_storm_between_tasks() {
    // 200 pairs of tasks bounce a token 2,000 times each: 800,000 wakeups
    // between workers, all on the runtime.
    const PAIRS: usize = 200;
    let rounds = scaled(2_000);
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let total = rt.block_on(async {
        let hs: Vec<_> = (0..PAIRS)
            .map(|_| {
                spawn(async move {
                    let (a_tx, a_rx) = async_channel::bounded::<usize>(1);
                    let (b_tx, b_rx) = async_channel::bounded::<usize>(1);
                    let echo = spawn(async move {
                        while let Ok(v) = a_rx.recv().await {
                            b_tx.send(v + 1).await.unwrap();
                        }
                    });
                    let mut v = 0;
                    for _ in 0..rounds {
                        a_tx.send(v).await.unwrap();
                        v = b_rx.recv().await.unwrap();
                    }
                    drop(a_tx);
                    echo.await.unwrap();
                    v
                })
            })
            .collect();
        let mut total = 0;
        for h in hs {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, PAIRS * rounds);
}

#[test]
fn yield_heavy_tasks_all_finish() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let n = rt.block_on(async {
        let hs: Vec<_> = (0..200)
            .map(|_| {
                spawn(async {
                    for _ in 0..1_000 {
                        yield_now().await;
                    }
                    1
                })
            })
            .collect();
        let mut n = 0;
        for h in hs {
            n += h.await.unwrap();
        }
        n
    });
    assert_eq!(n, 200);
}
