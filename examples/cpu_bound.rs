//! A long computation next to latency-sensitive tasks, four ways: the
//! measurements behind "CPU-bound work" in `docs/coming-from-go.md`.
//!
//! ```text
//! cargo run --release --example cpu_bound [-- MILLIS]
//! ```
//!
//! On a runtime of one worker, a "ticker" task sleeps 1 ms in a loop and
//! records how late each wake-up is, while another task runs about MILLIS
//! (default 300) of pure computation:
//!
//! - `inline`: the loop runs in the task and never yields;
//! - `should_yield`: the loop checks `goro::should_yield()` every 1,024
//!   steps and then `goro::yield_now().await`s;
//! - `unblock`: the whole loop runs on the blocking pool (`goro::unblock`);
//! - `blocking`: the loop runs in `goro::blocking`, which hands the
//!   worker's queue to another thread first.
//!
//! For each it prints the computation's wall time and the ticker's
//! wake-ups and lateness (p50, p99, max).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One step of the computation: a few nanoseconds of integer work.
fn step(x: u64) -> u64 {
    black_box(
        x.wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407),
    )
}

/// How many steps take about `ms` milliseconds here.
fn calibrate(ms: u64) -> u64 {
    let start = Instant::now();
    let mut x = 1;
    let mut n = 0u64;
    while start.elapsed() < Duration::from_millis(50) {
        for _ in 0..10_000 {
            x = step(x);
        }
        n += 10_000;
    }
    black_box(x);
    n * ms / 50
}

fn compute(steps: u64) -> u64 {
    let mut x = 1;
    for _ in 0..steps {
        x = step(x);
    }
    x
}

async fn compute_yielding(steps: u64) -> u64 {
    let mut x = 1;
    for i in 0..steps {
        x = step(x);
        if i % 1024 == 0 && goro::should_yield() {
            goro::yield_now().await;
        }
    }
    x
}

/// Sleeps 1 ms in a loop until `stop`, returning each wake-up's lateness.
async fn ticker(stop: Arc<AtomicBool>) -> Vec<Duration> {
    let mut late = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        goro::time::sleep(Duration::from_millis(1)).await;
        late.push(t.elapsed().saturating_sub(Duration::from_millis(1)));
    }
    late
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let ms: u64 = std::env::args()
        .nth(1)
        .map(|a| {
            a.parse().unwrap_or_else(|_| {
                eprintln!("cpu_bound: MILLIS must be a whole number, got {a:?}");
                std::process::exit(2)
            })
        })
        .unwrap_or(300);
    let steps = calibrate(ms);
    let rt = goro::Runtime::builder()
        .maxprocs(1)
        .build()
        .unwrap_or_else(|e| {
            eprintln!("cpu_bound: {e}");
            std::process::exit(1)
        });
    println!("one worker; ~{ms} ms of computation ({steps} steps) next to a 1 ms ticker");
    println!(
        "{:<13} {:>10} {:>8} {:>10} {:>10} {:>10}",
        "way", "compute", "ticks", "late p50", "late p99", "late max"
    );
    for way in ["inline", "should_yield", "unblock", "blocking"] {
        let (wall, mut late) = rt.block_on(async move {
            let stop = Arc::new(AtomicBool::new(false));
            let tick = goro::go(ticker(stop.clone()));
            // Let the ticker start before the computation takes the worker.
            goro::time::sleep(Duration::from_millis(5)).await;
            let start = Instant::now();
            let work = goro::go(async move {
                match way {
                    "inline" => compute(steps),
                    "should_yield" => compute_yielding(steps).await,
                    "unblock" => goro::unblock(move || compute(steps)).await.unwrap(),
                    _ => goro::blocking(|| compute(steps)),
                }
            });
            black_box(work.await.unwrap());
            let wall = start.elapsed();
            stop.store(true, Ordering::Relaxed);
            (wall, tick.await.unwrap())
        });
        late.sort();
        println!(
            "{:<13} {:>8.1}ms {:>8} {:>8.2}ms {:>8.2}ms {:>8.2}ms",
            way,
            wall.as_secs_f64() * 1e3,
            late.len(),
            pct(&late, 0.5).as_secs_f64() * 1e3,
            pct(&late, 0.99).as_secs_f64() * 1e3,
            late.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }
}
