//! Idle memory per parked task: goro vs tokio vs smol, 2 workers each.
//!
//! A plain `main` (`harness = false`). For each runtime the bench re-executes
//! itself as `idle_memory --child <runtime>`, so every runtime is measured in a
//! fresh process and RSS never mixes runtimes or allocator state. The child:
//!
//! 1. builds the runtime and runs a few trivial tasks (so lazily created
//!    per-thread state exists before the baseline);
//! 2. reads RSS from `/proc/self/statm` (`before`);
//! 3. from inside `block_on`, spawns [`NUM_TASKS`] detached tasks that each
//!    bump a counter and then wait for an event that fires only at the end,
//!    with one of two payloads:
//!    * `channel`: await the same `async-channel` receiver (its sender is
//!      dropped at the end). Realistic, but every parked task also carries an
//!      `event-listener` allocation (~100 B shared by all runtimes);
//!    * `gate`: await a minimal [`Gate`] that stores the task's `Waker` in a
//!      pre-reserved vector (16 B per task), so the figure is close to the
//!      runtime's own per-task cost;
//! 4. waits until every task has been polled once and parked, lets the
//!    workers go idle, and reads RSS again (`after`);
//! 5. prints `(after - before) / NUM_TASKS` as bytes per parked task, then
//!    releases the tasks, waits for all of them to finish and shuts down.
//!
//! The parent prints a markdown table per payload and the ratio goro / best
//! peer, plus one `IDLE_MEMORY ...` line per runtime and payload for
//! `report.sh` to parse. The awaited future is identical on every runtime, so
//! the difference between runtimes is the per-task overhead of the runtime
//! itself (header, scheduling state, join slot); the future's own size is
//! printed for reference.
//!
//! Build with `--features mimalloc` to measure under mimalloc.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use goro_benches::procfs::rss_bytes;
use goro_benches::shapes::{self, Countdown};
use goro_benches::{ALLOCATOR, BenchRt, GoroRt, SmolRt, SmolStaticRt, Spawn, TokioRt};

/// Parked tasks per runtime.
const NUM_TASKS: usize = 1_000_000;
/// Longest a child may take before it is killed and reported as hung.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);
/// Settling time once every task has parked, for workers to go idle.
const SETTLE: Duration = Duration::from_millis(200);

/// Runtimes measured, in table order.
const RUNTIMES: &[&str] = &["goro", "tokio", "smol", "smol_static"];

/// What one child measured.
#[derive(Debug)]
struct Sample {
    runtime: String,
    payload: String,
    before: usize,
    after: usize,
    bytes_per_task: f64,
    future_size: usize,
    park_ms: u128,
    release_ms: u128,
}

/// The parked task's wait, and its release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    /// Await a shared `async_channel::Receiver<()>`; release = drop the sender.
    Channel,
    /// Await a minimal [`Gate`]: one stored `Waker` per task, nothing else.
    Gate,
}

impl Payload {
    const ALL: [Payload; 2] = [Payload::Channel, Payload::Gate];

    fn name(self) -> &'static str {
        match self {
            Payload::Channel => "channel",
            Payload::Gate => "gate",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// An event that fires once: parked tasks leave their `Waker` in a vector
/// reserved up front (so it costs exactly 16 bytes per task and no growth
/// slack); `release` wakes them all.
#[derive(Debug)]
struct Gate {
    released: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Gate {
    fn new(capacity: usize) -> Self {
        Self {
            released: AtomicBool::new(false),
            wakers: Mutex::new(Vec::with_capacity(capacity)),
        }
    }

    /// Completes once [`Gate::release`] has been called.
    fn wait(&self) -> GateWait<'_> {
        GateWait {
            gate: self,
            registered: false,
        }
    }

    fn release(&self) {
        let wakers = {
            let mut w = self.wakers.lock().expect("gate lock");
            self.released.store(true, Ordering::Release);
            std::mem::take(&mut *w)
        };
        for w in wakers {
            w.wake();
        }
    }
}

/// Future returned by [`Gate::wait`].
#[derive(Debug)]
struct GateWait<'a> {
    gate: &'a Gate,
    registered: bool,
}

impl Future for GateWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.gate.released.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if !self.registered {
            let mut w = self.gate.wakers.lock().expect("gate lock");
            if self.gate.released.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            w.push(cx.waker().clone());
            drop(w);
            self.registered = true;
        }
        Poll::Pending
    }
}

/// State shared by every parked task of one measurement.
#[derive(Debug)]
struct Shared {
    /// Tasks that have been polled once and are about to park.
    parked: AtomicUsize,
    /// Counts finished tasks after the release.
    done: Countdown,
    gate: Gate,
    channel: async_channel::Receiver<()>,
}

/// The parked task for the channel payload.
async fn channel_task(shared: Arc<Shared>) {
    shared.parked.fetch_add(1, Ordering::Relaxed);
    // Err(RecvError) once the sender is dropped: the release signal.
    let _ = shared.channel.recv().await;
    shared.done.tick();
}

/// The parked task for the gate payload.
async fn gate_task(shared: Arc<Shared>) {
    shared.parked.fetch_add(1, Ordering::Relaxed);
    shared.gate.wait().await;
    shared.done.tick();
}

/// Child side: measures `R` with `payload` and prints one `IDLE_MEMORY` line.
fn child<R: BenchRt>(payload: Payload) {
    let rt = R::new();
    let sp = rt.spawner();

    // Warm-up: touch every worker's lazily created state.
    shapes::spawn_many_local(&rt, &Countdown::new(), 1_000);
    thread::sleep(SETTLE);

    let (release_tx, release_rx) = async_channel::bounded::<()>(1);
    let shared = Arc::new(Shared {
        parked: AtomicUsize::new(0),
        done: Countdown::new(),
        gate: Gate::new(if payload == Payload::Gate {
            NUM_TASKS
        } else {
            0
        }),
        channel: release_rx,
    });
    shared.done.arm(NUM_TASKS);
    let future_size = match payload {
        Payload::Channel => std::mem::size_of_val(&channel_task(shared.clone())),
        Payload::Gate => std::mem::size_of_val(&gate_task(shared.clone())),
    };

    let before = rss_bytes();
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..NUM_TASKS {
            match payload {
                Payload::Channel => sp.spawn_detached(channel_task(shared.clone())),
                Payload::Gate => sp.spawn_detached(gate_task(shared.clone())),
            }
        }
    });
    while shared.parked.load(Ordering::Relaxed) < NUM_TASKS {
        thread::sleep(Duration::from_millis(5));
    }
    let park_ms = start.elapsed().as_millis();
    thread::sleep(SETTLE);
    let after = rss_bytes();

    let start = Instant::now();
    drop(release_tx);
    shared.gate.release();
    rt.block_on(shared.done.wait());
    let release_ms = start.elapsed().as_millis();
    drop(rt);

    let bytes_per_task = after.saturating_sub(before) as f64 / NUM_TASKS as f64;
    println!(
        "IDLE_MEMORY rt={} payload={} allocator={ALLOCATOR} tasks={NUM_TASKS} before={before} \
         after={after} bytes_per_task={bytes_per_task:.1} future_size={future_size} \
         park_ms={park_ms} release_ms={release_ms}",
        R::NAME,
        payload.name()
    );
}

/// Parses one `IDLE_MEMORY key=value ...` line.
fn parse(line: &str) -> Option<Sample> {
    let rest = line.strip_prefix("IDLE_MEMORY ")?;
    let field = |key: &str| {
        rest.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    };
    Some(Sample {
        runtime: field("rt")?.to_owned(),
        payload: field("payload")?.to_owned(),
        before: field("before")?.parse().ok()?,
        after: field("after")?.parse().ok()?,
        bytes_per_task: field("bytes_per_task")?.parse().ok()?,
        future_size: field("future_size")?.parse().ok()?,
        park_ms: field("park_ms")?.parse().ok()?,
        release_ms: field("release_ms")?.parse().ok()?,
    })
}

/// Parent side: runs one child per runtime with a timeout.
fn run_child(exe: &std::path::Path, runtime: &str, payload: Payload) -> Result<Sample, String> {
    let line = goro_benches::child::run_child(
        exe,
        &[runtime, payload.name()],
        CHILD_TIMEOUT,
        "IDLE_MEMORY ",
    )?;
    parse(&line).ok_or_else(|| format!("malformed line: {line}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench` and any criterion flags: ignore them.
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let payload = args
            .get(i + 2)
            .and_then(|p| Payload::parse(p))
            .expect("--child <runtime> <channel|gate>");
        match args.get(i + 1).map(String::as_str) {
            Some("goro") => child::<GoroRt>(payload),
            Some("tokio") => child::<TokioRt>(payload),
            Some("smol") => child::<SmolRt>(payload),
            Some("smol_static") => child::<SmolStaticRt>(payload),
            other => panic!("unknown runtime {other:?}"),
        }
        return;
    }

    let exe = std::env::current_exe().expect("current_exe");
    println!("idle_memory: {NUM_TASKS} parked tasks per runtime, allocator {ALLOCATOR}");
    let mut failed = false;
    for payload in Payload::ALL {
        let mut samples = Vec::new();
        for rt in RUNTIMES {
            match run_child(&exe, rt, payload) {
                Ok(s) => {
                    println!(
                        "IDLE_MEMORY rt={} payload={} allocator={ALLOCATOR} bytes_per_task={:.1}",
                        s.runtime, s.payload, s.bytes_per_task
                    );
                    samples.push(s);
                }
                Err(e) => {
                    eprintln!("idle_memory: {rt} / {}: {e}", payload.name());
                    failed = true;
                }
            }
        }
        print_table(payload, &samples);
    }
    if failed {
        std::process::exit(1);
    }
}

/// Prints one payload's markdown table and goro / best peer.
fn print_table(payload: Payload, samples: &[Sample]) {
    println!();
    println!("payload: {}", payload.name());
    println!();
    println!(
        "| runtime | RSS before (MiB) | RSS after (MiB) | bytes / parked task | future size (B) \
         | park (ms) | release (ms) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    for s in samples {
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
            s.runtime,
            mib(s.before),
            mib(s.after),
            s.bytes_per_task,
            s.future_size,
            s.park_ms,
            s.release_ms
        );
    }
    let goro = samples.iter().find(|s| s.runtime == "goro");
    let best_peer = samples
        .iter()
        .filter(|s| s.runtime != "goro")
        .min_by(|a, b| a.bytes_per_task.total_cmp(&b.bytes_per_task));
    if let (Some(g), Some(p)) = (goro, best_peer) {
        let ratio = g.bytes_per_task / p.bytes_per_task;
        let verdict = if ratio <= 0.8 { "pass" } else { "fail" };
        println!();
        println!(
            "goro / best peer ({}): {ratio:.2} (target <= 0.80: {verdict})",
            p.runtime
        );
    }
    println!();
}
