//! Shared setup for the side-by-side benchmarks of goro, tokio and smol.
//!
//! Every runtime is built with exactly [`WORKERS`] worker threads and is
//! driven through the same small [`BenchRt`] / [`Spawn`] traits, so each bench
//! shape is written once, generically, and monomorphised per runtime: the
//! shapes cannot drift apart between runtimes.
//!
//! * goro: [`GoroRt`] wraps `goro::Runtime` built with `maxprocs(WORKERS)`.
//! * tokio: [`TokioRt`] wraps a multi-thread runtime with `WORKERS` workers.
//! * smol: [`SmolRt`] owns an `async_executor::Executor` and `WORKERS` threads
//!   that each run `futures_lite::future::block_on(ex.run(shutdown))`; it stops
//!   and joins them on drop.
//!
//! The I/O benches (`tcp_echo`, `timers`, `ws_echo`) use [`io`]: the same
//! runtimes built with their reactors on, the server child processes and
//! the shared load client.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

pub mod io;
pub mod serve;

/// Worker threads every runtime gets (the bench machine has 2 cores).
pub const WORKERS: usize = 2;

/// Which global allocator this build of the bench targets uses.
pub const ALLOCATOR: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else {
    "system"
};

/// A handle that tasks capture to spawn more tasks onto their own runtime,
/// plus the runtime's join and yield primitives.
pub trait Spawn: Clone + Send + Sync + 'static {
    /// The runtime's join handle for a task returning `T`.
    type Handle<T: Send + 'static>: Send + 'static;

    /// Spawns `fut`, keeping a handle to await it.
    fn spawn<F>(&self, fut: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `fut` and detaches it.
    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Awaits a handle; panics if the task failed.
    fn join<T: Send + 'static>(handle: Self::Handle<T>) -> impl Future<Output = T> + Send;

    /// The runtime's `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;
}

/// One runtime with [`WORKERS`] workers, as the benches drive it.
pub trait BenchRt: Sized {
    /// Criterion function name and table column: `goro`, `tokio` or `smol`.
    const NAME: &'static str;
    /// What tasks use to spawn onto this runtime.
    type Spawner: Spawn;

    /// Builds the runtime with [`WORKERS`] worker threads.
    fn new() -> Self;

    /// A spawner for use inside tasks and inside [`BenchRt::block_on`].
    fn spawner(&self) -> Self::Spawner;

    /// Runs `fut` to completion on the calling thread.
    fn block_on<F: Future>(&self, fut: F) -> F::Output;

    /// Spawns from outside the runtime (the bench thread): a "remote" spawn.
    fn spawn_remote<F>(&self, fut: F) -> <Self::Spawner as Spawn>::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// A remote spawn whose task is detached.
    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static;
}

// ---------------------------------------------------------------- goro

/// goro with `maxprocs(WORKERS)`.
#[derive(Debug)]
pub struct GoroRt {
    rt: goro::Runtime,
}

/// Spawns with `goro::go`, onto the runtime of the current task / `block_on`.
#[derive(Debug, Clone, Copy)]
pub struct GoroSpawner;

impl Spawn for GoroSpawner {
    type Handle<T: Send + 'static> = goro::JoinHandle<T>;

    fn spawn<F>(&self, fut: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        goro::go(fut)
    }

    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(goro::go(fut));
    }

    async fn join<T: Send + 'static>(handle: Self::Handle<T>) -> T {
        match handle.await {
            Ok(v) => v,
            Err(_) => panic!("goro task failed"),
        }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        goro::yield_now()
    }
}

impl BenchRt for GoroRt {
    const NAME: &'static str = "goro";
    type Spawner = GoroSpawner;

    fn new() -> Self {
        let rt = goro::Runtime::builder()
            .maxprocs(WORKERS)
            .build()
            .expect("build goro runtime");
        Self { rt }
    }

    fn spawner(&self) -> GoroSpawner {
        GoroSpawner
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn_remote<F>(&self, fut: F) -> goro::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.rt.go(fut)
    }

    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.rt.go(fut));
    }
}

// ---------------------------------------------------------------- tokio

/// tokio's multi-thread runtime with `worker_threads(WORKERS)`.
#[derive(Debug)]
pub struct TokioRt {
    rt: tokio::runtime::Runtime,
}

/// Spawns with `tokio::spawn`, onto the runtime of the current context.
#[derive(Debug, Clone, Copy)]
pub struct TokioSpawner;

impl Spawn for TokioSpawner {
    type Handle<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn spawn<F>(&self, fut: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(fut)
    }

    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(fut));
    }

    async fn join<T: Send + 'static>(handle: Self::Handle<T>) -> T {
        handle.await.expect("tokio task failed")
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

impl TokioRt {
    /// The same runtime with tokio's I/O and time drivers enabled
    /// (`enable_all`), for the I/O benches. [`BenchRt::new`] leaves them off,
    /// so the scheduler benches park on a condvar as before.
    pub fn with_io() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .expect("build tokio runtime");
        Self { rt }
    }
}

impl BenchRt for TokioRt {
    const NAME: &'static str = "tokio";
    type Spawner = TokioSpawner;

    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .build()
            .expect("build tokio runtime");
        Self { rt }
    }

    fn spawner(&self) -> TokioSpawner {
        TokioSpawner
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn_remote<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.rt.handle().spawn(fut)
    }

    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.rt.handle().spawn(fut));
    }
}

// ---------------------------------------------------------------- smol

/// smol's `async_executor::Executor` run by [`WORKERS`] threads.
///
/// Each thread calls `futures_lite::future::block_on(ex.run(shutdown))`;
/// dropping the `SmolRt` closes the shutdown channel and joins the threads.
#[derive(Debug)]
pub struct SmolRt {
    ex: Arc<async_executor::Executor<'static>>,
    shutdown: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

/// Spawns onto a shared `async_executor::Executor`.
#[derive(Debug, Clone)]
pub struct SmolSpawner(Arc<async_executor::Executor<'static>>);

impl Spawn for SmolSpawner {
    type Handle<T: Send + 'static> = async_executor::Task<T>;

    fn spawn<F>(&self, fut: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(fut)
    }

    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Dropping an async-executor `Task` cancels it: detach explicitly.
        self.0.spawn(fut).detach();
    }

    fn join<T: Send + 'static>(handle: Self::Handle<T>) -> impl Future<Output = T> + Send {
        handle
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

impl SmolRt {
    /// The same executor and threads, but every worker thread runs
    /// `async_io::block_on(ex.run(..))`, so the workers themselves drive
    /// async-io's reactor and timers (what `smol::spawn`'s global executor
    /// does), instead of leaving that to async-io's fallback thread.
    /// Used by the I/O benches (`tcp_echo`, `timers`, `ws_echo`).
    pub fn with_io() -> Self {
        Self::build(true)
    }

    fn build(io: bool) -> Self {
        let ex = Arc::new(async_executor::Executor::new());
        let (shutdown, signal) = async_channel::bounded::<()>(1);
        let threads = (0..WORKERS)
            .map(|i| {
                let ex = ex.clone();
                let signal = signal.clone();
                thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        let run = ex.run(async move {
                            // Err once every sender is gone: that is the signal.
                            let _ = signal.recv().await;
                        });
                        if io {
                            async_io::block_on(run);
                        } else {
                            futures_lite::future::block_on(run);
                        }
                    })
                    .expect("spawn smol worker thread")
            })
            .collect();
        Self {
            ex,
            shutdown: Some(shutdown),
            threads,
        }
    }
}

impl BenchRt for SmolRt {
    const NAME: &'static str = "smol";
    type Spawner = SmolSpawner;

    fn new() -> Self {
        Self::build(false)
    }

    fn spawner(&self) -> SmolSpawner {
        SmolSpawner(self.ex.clone())
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        futures_lite::future::block_on(fut)
    }

    fn spawn_remote<F>(&self, fut: F) -> async_executor::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.ex.spawn(fut)
    }

    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.ex.spawn(fut).detach();
    }
}

impl Drop for SmolRt {
    fn drop(&mut self) {
        self.shutdown.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------- helpers

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

/// Resident set size of this process in bytes, from `/proc/self/statm`.
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("parse /proc/self/statm");
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always supported.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).unwrap_or(4096)
}

// ---------------------------------------------------------------- offload

/// A runtime's way of running a blocking closure on its blocking pool:
/// `goro::unblock` (goro's global `goro_blocking::Pool`),
/// `tokio::runtime::Handle::spawn_blocking` and `blocking::unblock` (smol).
///
/// Every submission is eager: the closure is queued when [`Offload::submit`]
/// returns, whether or not the handle is ever awaited. Submission works from
/// any thread (a task, `block_on` or a plain OS thread).
pub trait Offload: BenchRt {
    /// What submits: `()` for the process-wide pools of goro and smol,
    /// tokio's runtime handle.
    type Submitter: Clone + Send + Sync + 'static;
    /// The handle of one offloaded closure returning `T`.
    type Blocking<T: Send + 'static>: Send + 'static;

    /// The submitter for this runtime.
    fn submitter(&self) -> Self::Submitter;

    /// Queues `f` on the blocking pool.
    fn submit<F, T>(s: &Self::Submitter, f: F) -> Self::Blocking<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Awaits an offloaded closure; panics if it failed.
    fn join_blocking<T: Send + 'static>(h: Self::Blocking<T>) -> impl Future<Output = T> + Send;

    /// The pool's own record of its most threads at once, where it keeps
    /// one (goro only).
    fn pool_peak_threads() -> Option<usize> {
        None
    }
}

impl Offload for GoroRt {
    type Submitter = ();
    type Blocking<T: Send + 'static> = goro::JoinHandle<T>;

    fn submitter(&self) {}

    fn submit<F, T>(_: &(), f: F) -> goro::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        goro::unblock(f)
    }

    async fn join_blocking<T: Send + 'static>(h: goro::JoinHandle<T>) -> T {
        match h.await {
            Ok(v) => v,
            Err(_) => panic!("goro::unblock closure failed"),
        }
    }

    fn pool_peak_threads() -> Option<usize> {
        Some(goro_blocking::Pool::global().peak_threads())
    }
}

impl Offload for TokioRt {
    type Submitter = tokio::runtime::Handle;
    type Blocking<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn submitter(&self) -> tokio::runtime::Handle {
        self.rt.handle().clone()
    }

    fn submit<F, T>(s: &tokio::runtime::Handle, f: F) -> tokio::task::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        s.spawn_blocking(f)
    }

    async fn join_blocking<T: Send + 'static>(h: tokio::task::JoinHandle<T>) -> T {
        h.await.expect("tokio spawn_blocking closure failed")
    }
}

impl Offload for SmolRt {
    type Submitter = ();
    type Blocking<T: Send + 'static> = blocking::Task<T>;

    fn submitter(&self) {}

    fn submit<F, T>(_: &(), f: F) -> blocking::Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        blocking::unblock(f)
    }

    fn join_blocking<T: Send + 'static>(h: blocking::Task<T>) -> impl Future<Output = T> + Send {
        h
    }
}

/// The process's thread count now, from `Threads:` in `/proc/self/status`.
pub fn process_threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("parse Threads: in /proc/self/status")
}

/// A thread that samples [`process_threads`] every millisecond and keeps
/// the maximum, until [`ThreadSampler::stop`]. Its own thread is counted.
#[derive(Debug)]
pub struct ThreadSampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: thread::JoinHandle<usize>,
}

impl ThreadSampler {
    /// Starts sampling.
    pub fn start() -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("thread-sampler".into())
            .spawn(move || {
                let mut peak = process_threads();
                while !flag.load(Ordering::Relaxed) {
                    peak = peak.max(process_threads());
                    thread::sleep(Duration::from_millis(1));
                }
                peak.max(process_threads())
            })
            .expect("spawn sampler thread");
        Self { stop, thread }
    }

    /// Stops sampling and returns the highest thread count seen.
    pub fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("sampler thread panicked")
    }
}

/// Runs this bench executable again as `--child <args>` (so each runtime is
/// measured in a fresh process), kills it after `timeout`, and returns the
/// first line of its stdout that starts with `prefix`.
///
/// # Errors
/// A description of what went wrong: spawn, timeout, exit status, or no
/// such line.
pub fn run_child(
    exe: &std::path::Path,
    args: &[&str],
    timeout: Duration,
    prefix: &str,
) -> Result<String, String> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(exe)
        .arg("--child")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn child: {e}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {timeout:?}"));
            }
            Err(e) => return Err(format!("wait: {e}")),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("read output: {e}"))?;
    if !out.status.success() {
        return Err(format!("child exited with {}", out.status));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .ok_or_else(|| format!("no {prefix} line"))
}
