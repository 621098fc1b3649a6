//! The scheduler shapes of `rt_multi_threaded` (after tokio's
//! `benches/rt_multi_threaded.rs`), one iteration each, written once over
//! [`BenchRt`]; `blocking_stall`'s `sysmon_cost` runs the same bodies on goro.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::runtimes::{BenchRt, Spawn};

/// Counts tasks down to zero; the task that reaches zero wakes the waiter.
///
/// Every runtime's waiter parks on the same primitive (an `async-channel`
/// receiver awaited in `block_on`), so completion signalling costs the same.
/// Cloning is one `Arc` increment, like the `Arc<AtomicUsize>` of tokio's
/// benches.
#[derive(Debug, Clone)]
pub struct Countdown(Arc<CountdownInner>);

#[derive(Debug)]
struct CountdownInner {
    remaining: AtomicUsize,
    done_tx: async_channel::Sender<()>,
    done_rx: async_channel::Receiver<()>,
}

impl Default for Countdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Countdown {
    /// A countdown at zero; call [`Countdown::arm`] before each round.
    pub fn new() -> Self {
        let (done_tx, done_rx) = async_channel::bounded(1);
        Self(Arc::new(CountdownInner {
            remaining: AtomicUsize::new(0),
            done_tx,
            done_rx,
        }))
    }

    /// Starts a round of `n` completions.
    pub fn arm(&self, n: usize) {
        self.0.remaining.store(n, Ordering::Relaxed);
    }

    /// Records one completion; the last one wakes [`Countdown::wait`].
    pub fn tick(&self) {
        if self.0.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0
                .done_tx
                .try_send(())
                .expect("countdown signalled twice");
        }
    }

    /// Waits for the last [`Countdown::tick`] of the round.
    pub async fn wait(&self) {
        self.0
            .done_rx
            .recv()
            .await
            .expect("countdown channel closed");
    }
}

/// Busy-waits for `dur` without yielding the thread (tokio's `stall`).
pub fn stall(dur: Duration) {
    let start = Instant::now();
    while start.elapsed() < dur {
        std::hint::spin_loop();
    }
}

/// Spawns per iteration of `spawn_many_local` (the small case) and the
/// remote spawn shapes.
pub const NUM_SPAWN: usize = 10_000;
/// Task pairs per iteration of `ping_pong`.
pub const NUM_PINGS: usize = 1_000;
/// Tasks in `yield_many`.
pub const YIELD_TASKS: usize = 200;
/// Yields per task in `yield_many`.
pub const NUM_YIELD: usize = 1_000;
/// Depth of `chained_spawn`.
pub const CHAIN_DEPTH: usize = 1_000;

/// `spawn_many_local`: from inside `block_on`, spawn `n` detached tasks that
/// each decrement a shared counter; the last one wakes the `block_on` future.
/// Measures spawn + schedule + run + free of a trivial task when spawned from
/// runtime context (per element = per task).
pub fn spawn_many_local<R: BenchRt>(rt: &R, done: &Countdown, n: usize) {
    let sp = rt.spawner();
    done.arm(n);
    rt.block_on(async {
        for _ in 0..n {
            let done = done.clone();
            sp.spawn_detached(async move { done.tick() });
        }
        done.wait().await;
    });
}

/// A runtime's join handle of a task returning `()`.
pub type Handle<R> = <<R as BenchRt>::Spawner as Spawn>::Handle<()>;

/// `spawn_many_remote_idle`: spawn [`NUM_SPAWN`] empty tasks from the bench
/// thread (outside any runtime context) and then await every handle.
/// Measures the injection path into idle workers plus join-handle
/// completion. `handles` is scratch space, empty again on return.
pub fn spawn_many_remote_idle<R: BenchRt>(rt: &R, handles: &mut Vec<Handle<R>>) {
    for _ in 0..NUM_SPAWN {
        handles.push(rt.spawn_remote(async {}));
    }
    rt.block_on(async {
        for h in handles.drain(..) {
            <R::Spawner as Spawn>::join(h).await;
        }
    });
}

/// `ping_pong`: one task spawns [`NUM_PINGS`] "ping" tasks; each ping spawns a
/// "pong", sends it a message and waits for the reply. Both messages use the
/// runtime's own single-reply channel ([`Spawn::oneshot`]: goro's
/// `goro::sync::oneshot`, tokio's oneshot, and `async_channel::bounded(1)` on
/// smol, which has no oneshot), as a Go program would use
/// `make(chan T, 1)`. Measures wake-up latency and cross-task handoff (per
/// element = per pair: 2 spawns, 2 sends, 2 wakes).
pub fn ping_pong<R: BenchRt>(rt: &R, done: &Countdown) {
    let sp = rt.spawner();
    done.arm(NUM_PINGS);
    rt.block_on(async {
        let outer_sp = sp.clone();
        let outer_done = done.clone();
        sp.spawn_detached(async move {
            for _ in 0..NUM_PINGS {
                let sp = outer_sp.clone();
                let done = outer_done.clone();
                outer_sp.spawn_detached(async move {
                    let (ping_tx, ping_rx) = R::Spawner::oneshot::<()>();
                    let (pong_tx, pong_rx) = R::Spawner::oneshot::<()>();
                    sp.spawn_detached(async move {
                        R::Spawner::recv_one(ping_rx).await;
                        R::Spawner::send_one(pong_tx, ());
                    });
                    R::Spawner::send_one(ping_tx, ());
                    R::Spawner::recv_one(pong_rx).await;
                    done.tick();
                });
            }
        });
        done.wait().await;
    });
}

/// `yield_many`: [`YIELD_TASKS`] tasks spawned from the bench thread, each
/// calling the runtime's `yield_now` [`NUM_YIELD`] times. Measures the
/// reschedule path of a running task (per element = per yield).
pub fn yield_many<R: BenchRt>(rt: &R, done: &Countdown) {
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
}

/// `chained_spawn`: a chain of [`CHAIN_DEPTH`] tasks where each task spawns
/// the next and exits. Only one task is runnable at a time, so this measures
/// the spawn-to-run latency of a task spawned from a worker (the LIFO /
/// `runnext` path) rather than throughput.
pub fn chained_spawn<R: BenchRt>(rt: &R, done: &Countdown) {
    let sp = rt.spawner();
    done.arm(1);
    rt.block_on(async {
        chain(sp, done.clone(), CHAIN_DEPTH);
        done.wait().await;
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
