//! Live maxprocs: what following the CPU limit and resizing cost goro.
//! tokio and smol fix their worker count at start, so there is no peer to
//! compare with; the figures are goro's own, as ratios where they can be.
//!
//! - `maxprocs/refresh`: one `MaxProcsWatcher::refresh` on this machine
//!   (re-read the open cgroup files with `pread`, plus `sched_getaffinity`):
//!   what the monitor does once a second while maxprocs is automatic.
//! - `maxprocs/grow_settled`, `maxprocs/shrink_settled`: on an idle
//!   runtime, from `set_maxprocs(4)` (from 2) until all 4 workers sleep
//!   again, and from `set_maxprocs(2)` until the 2 retired workers have left
//!   the sleeper list: the whole resize, wakeups and thread hand-offs
//!   included, not just the call.
//! - `maxprocs/ping_pong/{steady2,steady3,resizing}`: 8 task pairs
//!   exchanging 2,000 messages each over `async-channel`, with 2 workers,
//!   with 3, and while a thread switches maxprocs between 2 and 3 every
//!   millisecond. Resizing costs running tasks nothing beyond the
//!   parallelism it sets if `resizing` lands between the steady figures.
//!
//! Run: `cargo bench -p goro-benches --bench maxprocs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

fn ping_pong(rt: &goro::Runtime, pairs: usize, rounds: usize) {
    let handles: Vec<_> = (0..pairs)
        .map(|_| {
            rt.spawn(async move {
                let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
                let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
                let echo = goro::go(async move {
                    while let Ok(v) = ping_rx.recv().await {
                        let _ = pong_tx.send(v).await;
                    }
                });
                for i in 0..rounds {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await.unwrap(), i);
                }
                drop(ping_tx);
                echo.await.unwrap();
            })
        })
        .collect();
    for h in handles {
        rt.block_on(h).unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("maxprocs");

    let mut watcher = goro::procs::MaxProcsWatcher::new().expect("GORO_MAXPROCS unset or valid");
    g.bench_function("refresh", |b| b.iter(|| watcher.refresh()));

    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    let idle = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = rt.handle().stats();
            if s.idle_workers == n && s.spinning_workers == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never settled at {n} idle workers"
            );
            std::thread::yield_now();
        }
    };
    idle(2);
    g.bench_function("grow_settled", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                rt.handle().set_maxprocs(4);
                idle(4);
                total += start.elapsed();
                rt.handle().set_maxprocs(2);
                idle(2);
            }
            total
        })
    });
    g.bench_function("shrink_settled", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                rt.handle().set_maxprocs(4);
                idle(4);
                let start = Instant::now();
                rt.handle().set_maxprocs(2);
                idle(2);
                total += start.elapsed();
            }
            total
        })
    });
    drop(rt);

    g.sample_size(20);
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    g.bench_function("ping_pong/steady2", |b| b.iter(|| ping_pong(&rt, 8, 2_000)));
    rt.handle().set_maxprocs(3);
    g.bench_function("ping_pong/steady3", |b| b.iter(|| ping_pong(&rt, 8, 2_000)));
    let stop = Arc::new(AtomicBool::new(false));
    let resizer = {
        let (h, stop) = (rt.handle().clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 2;
            while !stop.load(Ordering::Relaxed) {
                h.set_maxprocs(n);
                n = 5 - n; // 2, 3, 2, ...
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    g.bench_function("ping_pong/resizing", |b| {
        b.iter(|| ping_pong(&rt, 8, 2_000))
    });
    stop.store(true, Ordering::Relaxed);
    resizer.join().unwrap();
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
