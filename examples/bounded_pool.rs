//! A bounded pool: 1,000 jobs, at most 10 at a time, compared with
//! spawning all of them at once.
//!
//! ```text
//! cargo run --example bounded_pool
//! ```
//!
//! Three ways, each printing the most jobs seen in flight, the most live
//! tasks (`Handle::num_tasks`, Go's `runtime.NumGoroutine`) and the time:
//!
//! 1. all at once: `go job()` 1,000 times;
//! 2. `TaskGroup::with_limit(10)` (errgroup's `SetLimit(10)`): 1,000 tasks
//!    exist, 10 run their job at a time;
//! 3. a semaphore taken *before* spawning (Go's `sem <- struct{}{}; go ...`):
//!    never more than 10 tasks exist.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use goro::TaskGroup;
use goro::sync::{Semaphore, WaitGroup};

const JOBS: usize = 1_000;
const LIMIT: usize = 10;

/// Tracks jobs in flight and the peaks of jobs and live tasks.
#[derive(Default)]
struct Gauge {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    max_tasks: AtomicUsize,
}

/// One job: a little work with yield points, like a request that waits on
/// the network a few times.
async fn job(i: usize, gauge: Arc<Gauge>) -> u64 {
    let now = gauge.in_flight.fetch_add(1, SeqCst) + 1;
    gauge.max_in_flight.fetch_max(now, SeqCst);
    gauge
        .max_tasks
        .fetch_max(goro::Handle::current().num_tasks(), SeqCst);
    let mut acc = i as u64;
    for _ in 0..20 {
        acc = acc.wrapping_mul(6364136223846793005).wrapping_add(1);
        goro::yield_now().await;
    }
    gauge.in_flight.fetch_sub(1, SeqCst);
    acc
}

fn report(name: &str, gauge: &Gauge, took: Duration) {
    println!(
        "{name:<28} max jobs in flight {:>4}   max live tasks {:>4}   {took:?}",
        gauge.max_in_flight.load(SeqCst),
        gauge.max_tasks.load(SeqCst),
    );
}

#[goro::main]
async fn main() {
    // 1. Spawn all.
    let gauge = Arc::new(Gauge::default());
    let start = Instant::now();
    let wg = WaitGroup::new();
    for i in 0..JOBS {
        let gauge = gauge.clone();
        wg.go(async move { job(i, gauge).await });
    }
    wg.wait().await;
    report("spawn all", &gauge, start.elapsed());

    // 2. TaskGroup with a limit.
    let gauge = Arc::new(Gauge::default());
    let start = Instant::now();
    let mut g = TaskGroup::<String>::new().with_limit(LIMIT);
    for i in 0..JOBS {
        let gauge = gauge.clone();
        g.spawn(async move {
            job(i, gauge).await;
            Ok(())
        });
    }
    g.wait().await.expect("no job fails");
    assert!(gauge.max_in_flight.load(SeqCst) <= LIMIT);
    report("TaskGroup::with_limit(10)", &gauge, start.elapsed());

    // 3. Acquire a slot, then spawn.
    let gauge = Arc::new(Gauge::default());
    let start = Instant::now();
    let slots = Arc::new(Semaphore::new(LIMIT));
    let wg = WaitGroup::new();
    for i in 0..JOBS {
        let permit = slots.acquire_arc().await; // waits while 10 run
        let gauge = gauge.clone();
        wg.go(async move {
            job(i, gauge).await;
            drop(permit);
        });
    }
    wg.wait().await;
    assert!(gauge.max_in_flight.load(SeqCst) <= LIMIT);
    report("semaphore, then spawn", &gauge, start.elapsed());
}
