//! A thread that runs a task or a `block_on` future without holding a P
//! (its P was retaken during a long poll, or it never had one) and spawns
//! in a loop is paced once the global queue holds more than 2,048 tasks
//! per P (`pace`): the queue stays near that mark instead of growing with
//! every task the loop can make. Measured by the queue's length, not by
//! time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use goro_executor::{Handle, Runtime, spawn, yield_now};
use goro_testkit::wait_until;

const PROCS: usize = 2;
/// The pacing mark for `PROCS` Ps (`pace::BACKLOG_PER_P` each).
const MARK: usize = 2_048 * PROCS;
/// How long the loop spawns.
const SPAWN_FOR: Duration = Duration::from_millis(400);

/// What the spawning loop saw: `(since start, queued, retakes)`, read
/// from the runtime's stats after each batch of spawns (by the loop itself,
/// so that sampling does not depend on how the OS, or valgrind, schedules
/// a sampler thread).
type Samples = Vec<(Duration, usize, u64)>;

/// Spawns small tasks (one yield each) until `SPAWN_FOR` has passed;
/// returns how many, and the samples.
fn spawn_loop(handle: &Handle, done: &Arc<AtomicUsize>) -> (usize, Samples) {
    let start = Instant::now();
    let mut n = 0;
    let mut samples = Vec::new();
    while start.elapsed() < SPAWN_FOR {
        for _ in 0..256 {
            let done = done.clone();
            spawn(async move {
                yield_now().await;
                done.fetch_add(1, Relaxed);
            });
        }
        n += 256;
        let s = handle.stats();
        samples.push((start.elapsed(), s.global_queue, s.retakes));
    }
    (n, samples)
}

#[test]
fn a_spawning_loop_whose_p_was_retaken_is_paced() {
    let rt = Runtime::builder()
        .maxprocs(PROCS)
        .retake_after(Duration::from_millis(10))
        .build()
        .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let (d, h) = (done.clone(), rt.handle().clone());
    let (spawned, samples) = rt
        .block_on(rt.spawn(async move { spawn_loop(&h, &d) }))
        .unwrap();
    wait_until("every spawned task ran", || done.load(Relaxed) >= spawned);
    if goro_testkit::stress::under_valgrind() {
        return; // valgrind runs one thread at a time: no retake, no pacing race
    }
    // Before the retake the loop holds a P and its ring overflows to the
    // global queue unpaced; look from 50 ms after the retake on, once that
    // backlog is worked off.
    let retaken_at = samples
        .iter()
        .find(|s| s.2 > 0)
        .map(|s| s.0)
        .expect("the monitor retook the spawning loop's P");
    let after: Vec<usize> = samples
        .iter()
        .filter(|s| s.0 >= retaken_at + Duration::from_millis(50))
        .map(|s| s.1)
        .collect();
    assert!(
        after.len() >= 10,
        "too few samples after the retake: {}",
        after.len()
    );
    let max = after.iter().copied().max().unwrap();
    println!("{spawned} spawned, the global queue at most {max} after the retake");
    assert!(
        max <= 2 * MARK,
        "the global queue reached {max} tasks (pacing mark {MARK}) while a loop \
         without a P spawned {spawned} tasks"
    );
}

#[test]
fn a_spawning_loop_in_block_on_is_paced() {
    let rt = Runtime::builder().maxprocs(PROCS).build().unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let (d, h) = (done.clone(), rt.handle().clone());
    let (spawned, samples) = rt.block_on(async move { spawn_loop(&h, &d) });
    wait_until("every spawned task ran", || done.load(Relaxed) >= spawned);
    if goro_testkit::stress::under_valgrind() {
        return; // valgrind runs one thread at a time: see under_valgrind
    }
    assert!(samples.len() >= 10, "too few samples: {}", samples.len());
    let max = samples.iter().map(|s| s.1).max().unwrap();
    println!("{spawned} spawned, the global queue at most {max}");
    assert!(
        max <= 2 * MARK,
        "the global queue reached {max} tasks (pacing mark {MARK}) while a \
         block_on future spawned {spawned} tasks"
    );
}
