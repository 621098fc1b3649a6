//! tokio's `spawn_blocking` bench shape: goro vs tokio vs smol.
//!
//! Inside `block_on`, N async tasks (N in [`TASKS`]) each run
//! [`NUM_BATCHES`] batches; a batch submits [`BATCH_SIZE`] no-op closures to
//! the runtime's blocking pool and awaits all of them before the next batch.
//! The offload is `goro::unblock`, `tokio::task::spawn_blocking` (through the
//! runtime's handle) or `blocking::unblock` (smol). Unlike tokio's original,
//! N is not capped at the core count: 16 and 64 tasks on 2 cores are where
//! submissions pile up.
//!
//! Criterion group `spawn_blocking`, function `<runtime>/<N>`; throughput is
//! N × 100 × 16 elements, so time per element is the cost of one offload
//! (submit, run, wake the awaiting task). Each runtime is built once and
//! dropped before the next, so only one runtime's threads exist at a time.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use goro_benches::{GoroRt, Offload, SmolRt, Spawn, TokioRt};

/// Async tasks that offload concurrently.
const TASKS: [usize; 4] = [1, 4, 16, 64];
/// Batches per task.
const NUM_BATCHES: usize = 100;
/// No-op offloads per batch, awaited together.
const BATCH_SIZE: usize = 16;

fn bench_rt<R: Offload>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = R::new();
    let sp = rt.spawner();
    let sub = rt.submitter();
    for n in TASKS {
        g.throughput(Throughput::Elements((n * NUM_BATCHES * BATCH_SIZE) as u64));
        g.bench_function(BenchmarkId::new(R::NAME, n), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..n)
                        .map(|_| {
                            let sub = sub.clone();
                            sp.spawn(async move {
                                let mut batch = Vec::with_capacity(BATCH_SIZE);
                                for _ in 0..NUM_BATCHES {
                                    batch.extend((0..BATCH_SIZE).map(|_| R::submit(&sub, || ())));
                                    for h in batch.drain(..) {
                                        R::join_blocking(h).await;
                                    }
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        <R::Spawner as Spawn>::join(t).await;
                    }
                });
            });
        });
    }
}

fn spawn_blocking(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_blocking");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    bench_rt::<GoroRt>(&mut g);
    bench_rt::<TokioRt>(&mut g);
    bench_rt::<SmolRt>(&mut g);
    g.finish();
}

criterion_group!(benches, spawn_blocking);
criterion_main!(benches);
