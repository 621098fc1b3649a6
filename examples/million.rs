//! Go's classic: start a million goroutines that all wait, release them,
//! and wait for every one with a `WaitGroup`.
//!
//! ```text
//! cargo run --release --example million
//! ```
//!
//! Prints the task count, the time of each phase and the resident memory
//! each parked task costs. The equivalent Go program and its figures on the
//! same machine are in `docs/coming-from-go.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use goro::sync::WaitGroup;

const N: usize = 1_000_000;

/// Resident set size of this process, from /proc/self/statm (Linux only:
/// `None` elsewhere).
fn rss_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    #[cfg(unix)]
    // SAFETY: sysconf only reads a configuration value.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    #[cfg(not(unix))]
    let page = 4096;
    Some(pages * page)
}

#[goro::main]
async fn main() {
    let before = rss_bytes();
    let start = Instant::now();

    // for i := 0; i < N; i++ { wg.Add(1); go func() { defer wg.Done(); <-release }() }
    let wg = WaitGroup::new();
    let arrived = Arc::new(AtomicUsize::new(0));
    let (release, wait) = async_channel::bounded::<()>(1);
    for _ in 0..N {
        let (wg, wait, arrived) = (wg.clone(), wait.clone(), arrived.clone());
        wg.add(1);
        // Detached, like a goroutine: nothing keeps a handle.
        drop(goro::go(async move {
            arrived.fetch_add(1, Relaxed);
            let _ = wait.recv().await;
            wg.done();
        }));
    }
    let spawned = start.elapsed();
    while arrived.load(Relaxed) < N {
        std::thread::sleep(Duration::from_millis(5));
    }
    let parked = start.elapsed();
    let per_task = rss_bytes()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before) as f64 / N as f64);
    let live = goro::Handle::current().num_tasks();

    let release_at = Instant::now();
    drop(release); // closing the channel wakes every task
    wg.wait().await;
    let joined = release_at.elapsed();

    println!(
        "tasks:           {N} on {} workers ({live} live while parked)",
        goro::Handle::current().maxprocs()
    );
    println!(
        "spawn:           {spawned:?} ({:.0} ns per task)",
        spawned.as_nanos() as f64 / N as f64
    );
    println!("all parked after {parked:?}");
    println!("release + wait:  {joined:?}");
    match per_task {
        Some(bytes) => println!("memory:          {bytes:.0} bytes per parked task (RSS)"),
        None => println!("memory:          unknown (RSS is read from /proc/self/statm)"),
    }
}
