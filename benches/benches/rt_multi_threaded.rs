//! Multi-threaded scheduler benches: goro vs tokio vs smol (its `Executor`
//! and its fast `StaticExecutor`), 2 workers each.
//!
//! The shapes follow tokio's `benches/rt_multi_threaded.rs`; each is written
//! once, generically over [`BenchRt`], and run for every runtime in the same
//! process. Criterion groups are named by shape and hold one function per
//! runtime (`goro`, `tokio`, `smol`, `smol_static`); every group reports
//! `Throughput::Elements`, so criterion's per-element time is the cost of one
//! spawn / yield / round trip.
//!
//! Each runtime is built just before its bench and dropped right after, so
//! only one runtime's threads exist at a time. Waiters always park on the same
//! primitive (an `async-channel` receiver, see [`Countdown`]); `ping_pong`'s
//! replies use each runtime's own single-reply channel.
//!
//! | group | element | shape |
//! | --- | --- | --- |
//! | `spawn_many_local` | spawn | 10,000 / 1,000,000 tasks spawned inside `block_on` |
//! | `spawn_many_remote_idle` | spawn | 10,000 spawns from the bench thread, then await all |
//! | `spawn_many_remote_busy1` | spawn | the same while 2 tasks loop `yield_now` + 10 µs stall |
//! | `ping_pong` | round trip | 1,000 task pairs swapping 2 messages |
//! | `yield_many` | yield | 200 tasks × 1,000 `yield_now` |
//! | `chained_spawn` | spawn | a chain of 1,000 tasks, each spawning the next |

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use goro_benches::shapes::{
    self, CHAIN_DEPTH, Countdown, NUM_PINGS, NUM_SPAWN, NUM_YIELD, YIELD_TASKS, stall,
};
use goro_benches::{BenchRt, GoroRt, SmolRt, SmolStaticRt, Spawn, TokioRt, WORKERS};

/// Spawns per iteration of the large `spawn_many_local` case.
const NUM_SPAWN_LARGE: usize = 1_000_000;
/// Busy-wait between yields of the busy loops (tokio's `STALL_DUR`).
const STALL_DUR: Duration = Duration::from_micros(10);
/// Busy loops in `spawn_many_remote_busy1`: one per worker.
const BUSY_TASKS: usize = WORKERS;

/// Runs `$f::<R>(&mut group, args..)` for goro, tokio, smol's `Executor`
/// and smol's `StaticExecutor`.
macro_rules! for_each_rt {
    ($f:ident ( $g:expr $(, $arg:expr)* )) => {{
        $f::<GoroRt>($g $(, $arg)*);
        $f::<TokioRt>($g $(, $arg)*);
        $f::<SmolRt>($g $(, $arg)*);
        $f::<SmolStaticRt>($g $(, $arg)*);
    }};
}

/// `spawn_many_local` ([`shapes::spawn_many_local`]) with `n` tasks.
fn spawn_many_local<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    let rt = R::new();
    let done = Countdown::new();
    g.bench_function(BenchmarkId::new(R::NAME, n), |b| {
        b.iter(|| shapes::spawn_many_local(&rt, &done, n));
    });
}

/// `spawn_many_remote_idle` ([`shapes::spawn_many_remote_idle`]).
fn spawn_many_remote_idle<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    g.bench_function(R::NAME, |b| {
        b.iter(|| shapes::spawn_many_remote_idle(&rt, &mut handles));
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
        b.iter(|| shapes::spawn_many_remote_idle(&rt, &mut handles));
    });
    running.store(false, Ordering::Relaxed);
    rt.block_on(async {
        for h in busy {
            <R::Spawner as Spawn>::join(h).await;
        }
    });
}

/// `ping_pong` ([`shapes::ping_pong`]).
fn ping_pong<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let done = Countdown::new();
    g.bench_function(R::NAME, |b| b.iter(|| shapes::ping_pong(&rt, &done)));
}

/// `yield_many` ([`shapes::yield_many`]).
fn yield_many<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let done = Countdown::new();
    g.bench_function(R::NAME, |b| b.iter(|| shapes::yield_many(&rt, &done)));
}

/// `chained_spawn` ([`shapes::chained_spawn`]).
fn chained_spawn<R: BenchRt>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let done = Countdown::new();
    g.bench_function(R::NAME, |b| b.iter(|| shapes::chained_spawn(&rt, &done)));
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
