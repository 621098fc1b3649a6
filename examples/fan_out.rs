//! Fan-out, fan-in, three ways, with goro and std only.
//!
//! ```text
//! cargo run --example fan_out
//! ```
//!
//! 1. A pool of workers reading one channel, one collector: Go's pipeline
//!    pattern. Prints how many jobs each worker took.
//! 2. One task per job, at most 8 at a time, results collected as they
//!    finish: Go's `errgroup` with `SetLimit` plus a results channel; here
//!    a `Semaphore` to bound the tasks and a `JoinSet` to collect them.
//! 3. The same jobs in a `TaskGroup` with `with_limit(8)` where one job
//!    fails: the first error cancels the jobs not yet done, as
//!    `errgroup.WithContext` does.
//!
//! The Go program of part 1:
//!
//! ```text
//! jobs, results := make(chan int, 64), make(chan int, 64)
//! var wg sync.WaitGroup
//! for w := 0; w < 8; w++ {
//!     wg.Add(1)
//!     go func() { defer wg.Done(); for j := range jobs { results <- j * j } }()
//! }
//! go func() { for i := 0; i < 10000; i++ { jobs <- i }; close(jobs) }()
//! go func() { wg.Wait(); close(results) }()
//! for r := range results { sum += r }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use goro::chan;
use goro::sync::{Semaphore, WaitGroup};
use goro::{JoinSet, TaskGroup};

const JOBS: u64 = 10_000;
const WORKERS: usize = 8;

#[goro::main]
async fn main() {
    worker_pool().await;
    task_per_job().await;
    first_error_cancels().await;
}

/// A job: a little work with a yield in it, as a job that waits would.
async fn job(i: u64) -> u64 {
    goro::yield_now().await;
    i * i
}

/// Part 1: a fixed pool of workers reading one channel.
pub async fn worker_pool() {
    let start = Instant::now();
    let (jobs_tx, jobs) = chan::bounded::<u64>(64);
    let (results_tx, results) = chan::bounded::<(usize, u64)>(64);

    // Fan out: every worker reads the same channel until it is closed.
    let wg = WaitGroup::new();
    for w in 0..WORKERS {
        let (jobs, results_tx) = (jobs.clone(), results_tx.clone());
        wg.go(async move {
            while let Ok(j) = jobs.recv().await {
                results_tx.send((w, j * j)).await.expect("collector alive");
            }
        });
    }
    drop(results_tx); // the workers hold the only senders now

    // The producer closes `jobs` by dropping its sender when done.
    goro::go(async move {
        for i in 0..JOBS {
            jobs_tx.send(i).await.expect("workers alive");
        }
    });

    // Fan in: `results` closes when the last worker drops its sender.
    let mut per_worker = [0usize; WORKERS];
    let mut sum = 0u64;
    while let Ok((w, r)) = results.recv().await {
        per_worker[w] += 1;
        sum += r;
    }
    wg.wait().await;

    assert_eq!(sum, (0..JOBS).map(|i| i * i).sum::<u64>());
    println!(
        "{JOBS} jobs, {WORKERS} workers on {} threads, in {:?}",
        goro::Handle::current().maxprocs(),
        start.elapsed()
    );
    for (w, n) in per_worker.iter().enumerate() {
        println!("  worker {w}: {n:5} jobs");
    }
    println!("sum of squares: {sum}");
}

/// Part 2: a task per job, at most `WORKERS` alive at once (the permit is
/// taken before the spawn, so no more exist), results as they finish.
pub async fn task_per_job() {
    let start = Instant::now();
    let limit = Arc::new(Semaphore::new(WORKERS));
    let mut set = JoinSet::new();
    let mut sum = 0u64;
    for i in 0..JOBS {
        let permit = limit.acquire_arc().await;
        set.spawn(async move {
            let _permit = permit; // released when the job ends
            job(i).await
        });
        // Collect what has finished so far, so the set stays small.
        while let Some(r) = set.try_join_next() {
            sum += r.expect("a job panicked");
        }
    }
    while let Some(r) = set.join_next().await {
        sum += r.expect("a job panicked");
    }
    assert_eq!(sum, (0..JOBS).map(|i| i * i).sum::<u64>());
    println!(
        "{JOBS} tasks, at most {WORKERS} at a time, collected by a JoinSet in {:?}: sum {sum}",
        start.elapsed()
    );
}

/// Part 3: the first error cancels the rest.
pub async fn first_error_cancels() {
    const BAD: u64 = 2_000;
    let start = Instant::now();
    let done = Arc::new(AtomicU64::new(0));
    let mut g = TaskGroup::new().with_limit(WORKERS);
    for i in 0..JOBS {
        let done = done.clone();
        g.spawn(async move {
            if i == BAD {
                return Err(format!("job {i} failed"));
            }
            job(i).await;
            done.fetch_add(1, Ordering::Relaxed);
            Ok(())
        });
    }
    let err = g.wait().await.unwrap_err();
    let done = done.load(Ordering::Relaxed);
    // Tasks start in spawn order under the limit, so about BAD jobs ran.
    assert!(done < JOBS - 1, "the error cancelled nothing");
    println!(
        "TaskGroup: {err}; {done} of {JOBS} jobs had finished, the rest were cancelled ({:?})",
        start.elapsed()
    );
}
