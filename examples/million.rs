//! Go's classic: start a million goroutines that all wait, release them,
//! and wait for every one to finish.
//!
//! ```text
//! cargo run --release --example million
//! ```
//!
//! Prints the task count, the time of each phase and the resident memory
//! each parked task costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

const N: usize = 1_000_000;

/// Resident set size of this process, from /proc/self/statm.
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).unwrap_or(4096)
}

#[goro::main]
async fn main() {
    let before = rss_bytes();
    let start = Instant::now();

    // Every task checks in, then waits on one channel until it is closed.
    let arrived = Arc::new(AtomicUsize::new(0));
    let (release, wait) = async_channel::bounded::<()>(1);
    let mut handles = Vec::with_capacity(N);
    for i in 0..N {
        let (wait, arrived) = (wait.clone(), arrived.clone());
        handles.push(goro::go(async move {
            arrived.fetch_add(1, Relaxed);
            let _ = wait.recv().await;
            i
        }));
    }
    let spawned = start.elapsed();
    while arrived.load(Relaxed) < N {
        std::thread::sleep(Duration::from_millis(5));
    }
    let parked = start.elapsed();
    let per_task = rss_bytes().saturating_sub(before) as f64 / N as f64;

    let release_at = Instant::now();
    drop(release); // closing the channel wakes every task
    let mut sum = 0usize;
    for h in handles {
        sum += h.await.expect("no task fails");
    }
    let joined = release_at.elapsed();
    assert_eq!(sum, N * (N - 1) / 2);

    println!(
        "tasks:           {N} on {} workers",
        goro::Handle::current().maxprocs()
    );
    println!(
        "spawn:           {spawned:?} ({:.0} ns per task)",
        spawned.as_nanos() as f64 / N as f64
    );
    println!("all parked after {parked:?}");
    println!("release + join:  {joined:?}");
    println!("memory:          {per_task:.0} bytes per parked task (RSS; includes its JoinHandle)");
}
