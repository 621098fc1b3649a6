//! Multi-threaded scheduler benches: goro vs tokio vs smol, 2 workers each.
//!
//! The shapes follow tokio's `benches/rt_multi_threaded.rs`; each is written
//! once, generically over [`BenchRt`], and run for every runtime in the same
//! process. Criterion groups are named by shape and hold one function per
//! runtime (`goro`, `tokio`, `smol`); every group reports
//! `Throughput::Elements`, so criterion's per-element time is the cost of one
//! spawn / yield / round trip.
//!
//! Each runtime is built just before its bench and dropped right after, so
//! only one runtime's threads exist at a time. Waiters always park on the same
//! primitive (an `async-channel` receiver, see [`Countdown`]).
//!
//! | group | element | shape |
//! | --- | --- | --- |
//! | `spawn_many_local` | spawn | 10,000 / 1,000,000 tasks spawned inside `block_on` |
//! | `spawn_many_remote_idle` | spawn | 10,000 spawns from the bench thread, then await all |
//! | `spawn_many_remote_busy1` | spawn | the same while 2 tasks loop `yield_now` + 10 µs stall |
//! | `ping_pong` | round trip | 1,000 task pairs swapping 2 messages |
//! | `yield_many` | yield | 200 tasks × 1,000 `yield_now` |
//! | `chained_spawn` | spawn | a chain of 1,000 tasks, each spawning the next |

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use goro_benches::GoroRt;
use goro_benches::{BenchRt, Countdown, SmolRt, Spawn, TokioRt, WORKERS, stall};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Spawns per iteration of the small spawn shapes.
const NUM_SPAWN: usize = 10_000;
/// Spawns per iteration of the large `spawn_many_local` case.
const NUM_SPAWN_LARGE: usize = 1_000_000;
/// Task pairs per iteration of `ping_pong`.
const NUM_PINGS: usize = 1_000;
/// Tasks in `yield_many`.
const YIELD_TASKS: usize = 200;
/// Yields per task in `yield_many`.
const NUM_YIELD: usize = 1_000;
/// Depth of `chained_spawn`.
const CHAIN_DEPTH: usize = 1_000;
/// Busy-wait between yields of the busy loops (tokio's `STALL_DUR`).
const STALL_DUR: Duration = Duration::from_micros(10);
/// Busy loops in `spawn_many_remote_busy1`: one per worker.
const BUSY_TASKS: usize = WORKERS;

/// Runs `$f::<R>(&mut group, args..)` for goro (when built), tokio and smol.
macro_rules! for_each_rt {
    ($f:ident ( $g:expr $(, $arg:expr)* )) => {{
        $f::<GoroRt>($g $(, $arg)*);
        $f::<TokioRt>($g $(, $arg)*);
        $f::<SmolRt>($g $(, $arg)*);
    }};
}

/// `spawn_many_local`: from inside `block_on`, spawn `n` detached tasks that
/// each decrement a shared counter; the last one wakes the `block_on` future.
/// Measures spawn + schedule + run + free of a trivial task when spawned from
/// runtime context (ns per element = per task).
fn spawn_many_local<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    let rt = R::new();
    let sp = rt.spawner();
    let done = Countdown::new();
    g.bench_function(BenchmarkId::new(R::NAME, n), |b| {
        b.iter(|| {
            done.arm(n);
            rt.block_on(async {
                for _ in 0..n {
                    let done = done.clone();
                    sp.spawn_detached(async move { done.tick() });
                }
                done.wait().await;
            });
        });
    });
}

/// `spawn_many_remote_idle`: spawn `NUM_SPAWN` empty tasks from the bench
/// thread (outside any runtime context) and then await every handle. Measures
/// the injection path into idle workers plus join-handle completion.
fn spawn_many_remote_idle<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    g.bench_function(R::NAME, |b| {
        b.iter(|| {
            for _ in 0..NUM_SPAWN {
                handles.push(rt.spawn_remote(async {}));
            }
            rt.block_on(async {
                for h in handles.drain(..) {
                    <R::Spawner as Spawn>::join(h).await;
                }
            });
        });
    });
}

/// `spawn_many_remote_busy1`: `spawn_many_remote_idle` while every worker is
/// kept busy by a task looping `yield_now` + a 10 µs busy stall. Measures
/// remote spawns competing with yielding, CPU-bound tasks (injection fairness
/// against local run queues).
fn spawn_many_remote_busy1<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let running = Arc::new(AtomicBool::new(true));
    let mut busy = Vec::new();
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    g.bench_function(R::NAME, |b| {
        // Start the busy loops only when criterion actually runs this bench
        // (not when it is filtered out).
        if busy.is_empty() {
            for _ in 0..BUSY_TASKS {
                let running = running.clone();
                busy.push(rt.spawn_remote(async move {
                    while running.load(Ordering::Relaxed) {
                        <R::Spawner as Spawn>::yield_now().await;
                        stall(STALL_DUR);
                    }
                }));
            }
        }
        b.iter(|| {
            for _ in 0..NUM_SPAWN {
                handles.push(rt.spawn_remote(async {}));
            }
            rt.block_on(async {
                for h in handles.drain(..) {
                    <R::Spawner as Spawn>::join(h).await;
                }
            });
        });
    });
    running.store(false, Ordering::Relaxed);
    rt.block_on(async {
        for h in busy {
            <R::Spawner as Spawn>::join(h).await;
        }
    });
}

/// `ping_pong`: one task spawns `NUM_PINGS` "ping" tasks; each ping spawns a
/// "pong", sends it a message and waits for the reply. Both messages use
/// `async_channel::bounded(1)` on every runtime, so the channel cost is equal.
/// Measures wake-up latency and cross-task handoff (ns per element = per
/// pair: 2 spawns, 2 sends, 2 wakes).
fn ping_pong<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let sp = rt.spawner();
    let done = Countdown::new();
    g.bench_function(R::NAME, |b| {
        b.iter(|| {
            done.arm(NUM_PINGS);
            rt.block_on(async {
                let outer_sp = sp.clone();
                let outer_done = done.clone();
                sp.spawn_detached(async move {
                    for _ in 0..NUM_PINGS {
                        let sp = outer_sp.clone();
                        let done = outer_done.clone();
                        outer_sp.spawn_detached(async move {
                            let (ping_tx, ping_rx) = async_channel::bounded::<()>(1);
                            let (pong_tx, pong_rx) = async_channel::bounded::<()>(1);
                            sp.spawn_detached(async move {
                                ping_rx.recv().await.expect("ping");
                                pong_tx.send(()).await.expect("pong");
                            });
                            ping_tx.send(()).await.expect("ping");
                            pong_rx.recv().await.expect("pong");
                            done.tick();
                        });
                    }
                });
                done.wait().await;
            });
        });
    });
}

/// `yield_many`: `YIELD_TASKS` tasks spawned from the bench thread, each
/// calling the runtime's `yield_now` `NUM_YIELD` times. Measures the
/// reschedule path of a running task (ns per element = per yield).
fn yield_many<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let done = Countdown::new();
    g.bench_function(R::NAME, |b| {
        b.iter(|| {
            done.arm(YIELD_TASKS);
            for _ in 0..YIELD_TASKS {
                let done = done.clone();
                rt.spawn_remote_detached(async move {
                    for _ in 0..NUM_YIELD {
                        <R::Spawner as Spawn>::yield_now().await;
                    }
                    done.tick();
                });
            }
            rt.block_on(done.wait());
        });
    });
}

/// One link of `chained_spawn`: spawn a task that spawns the next link.
fn chain<S: Spawn>(sp: S, done: Countdown, n: usize) {
    if n == 0 {
        done.tick();
    } else {
        let next = sp.clone();
        sp.spawn_detached(async move { chain(next, done, black_box(n - 1)) });
    }
}

/// `chained_spawn`: a chain of `CHAIN_DEPTH` tasks where each task spawns the
/// next and exits. Only one task is runnable at a time, so this measures the
/// spawn-to-run latency of a task spawned from a worker (the LIFO / `runnext`
/// path) rather than throughput.
fn chained_spawn<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let sp = rt.spawner();
    let done = Countdown::new();
    g.bench_function(R::NAME, |b| {
        b.iter(|| {
            done.arm(1);
            rt.block_on(async {
                chain(sp.clone(), done.clone(), CHAIN_DEPTH);
                done.wait().await;
            });
        });
    });
}

/// Group `spawn_many_local`: ids `<rt>/10000` and `<rt>/1000000`.
fn bench_spawn_many_local(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_many_local");
    g.throughput(Throughput::Elements(NUM_SPAWN as u64));
    for_each_rt!(spawn_many_local(&mut g, NUM_SPAWN));
    // One iteration of the 1M case takes a few hundred ms: few flat samples.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(NUM_SPAWN_LARGE as u64));
    for_each_rt!(spawn_many_local(&mut g, NUM_SPAWN_LARGE));
    g.finish();
}

/// Group `spawn_many_remote_idle`.
fn bench_spawn_many_remote_idle(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_many_remote_idle");
    g.throughput(Throughput::Elements(NUM_SPAWN as u64));
    for_each_rt!(spawn_many_remote_idle(&mut g));
    g.finish();
}

/// Group `spawn_many_remote_busy1`.
fn bench_spawn_many_remote_busy1(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_many_remote_busy1");
    // A runtime that starves remote spawns behind yielding tasks can take
    // seconds per iteration: cap the run at 10 flat samples.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(NUM_SPAWN as u64));
    for_each_rt!(spawn_many_remote_busy1(&mut g));
    g.finish();
}

/// Group `ping_pong`.
fn bench_ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping_pong");
    g.throughput(Throughput::Elements(NUM_PINGS as u64));
    for_each_rt!(ping_pong(&mut g));
    g.finish();
}

/// Group `yield_many`.
fn bench_yield_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("yield_many");
    g.throughput(Throughput::Elements((YIELD_TASKS * NUM_YIELD) as u64));
    for_each_rt!(yield_many(&mut g));
    g.finish();
}

/// Group `chained_spawn`.
fn bench_chained_spawn(c: &mut Criterion) {
    let mut g = c.benchmark_group("chained_spawn");
    g.throughput(Throughput::Elements(CHAIN_DEPTH as u64));
    for_each_rt!(chained_spawn(&mut g));
    g.finish();
}

criterion_group!(
    rt_multi_threaded,
    bench_spawn_many_local,
    bench_spawn_many_remote_idle,
    bench_spawn_many_remote_busy1,
    bench_ping_pong,
    bench_yield_many,
    bench_chained_spawn
);
criterion_main!(rt_multi_threaded);
