//! Fan-out, fan-in: one producer, a pool of workers reading one channel,
//! one collector, like Go's pipeline pattern.
//!
//! ```text
//! cargo run --example fan_out
//! ```
//!
//! Prints how many jobs each worker took and the combined result. The Go
//! program it mirrors:
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

use std::time::Instant;

use goro::chan;
use goro::sync::WaitGroup;

const JOBS: u64 = 10_000;
const WORKERS: usize = 8;

#[goro::main]
async fn main() {
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
