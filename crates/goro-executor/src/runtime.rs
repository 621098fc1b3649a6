//! [`Runtime`], its [`Builder`] and [`Handle`]: start the workers, spawn
//! tasks, block on a future, shut down.

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use async_task::WithInfo;

use crate::context;
use crate::driver::Driver;
use crate::join::JoinHandle;
use crate::machine::{self, ThreadConfig};
use crate::monitor;
use crate::shared::{Config, Shared, StatsHook};
use crate::stats::Stats;
use crate::sync::lock;
use crate::task::{TaskMeta, new_task};

type Callback = Arc<dyn Fn() + Send + Sync>;

/// Configures and starts a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = goro_executor::Runtime::builder()
///     .maxprocs(2)
///     .thread_name(|i| format!("my-worker-{i}"))
///     .build()
///     .unwrap();
/// assert_eq!(rt.maxprocs(), 2);
/// ```
#[must_use = "a Builder does nothing until `build` is called"]
pub struct Builder {
    maxprocs: MaxProcsChoice,
    thread_name: Arc<dyn Fn(usize) -> String + Send + Sync>,
    stack_size: Option<usize>,
    on_thread_start: Option<Callback>,
    on_thread_stop: Option<Callback>,
    panic_aborts: bool,
    driver: Option<Arc<dyn Driver>>,
    retake_after: Option<Duration>,
    schedtrace: Option<Duration>,
    stats_hook: Option<StatsHook>,
}

/// Where [`Builder::build`] gets the worker count.
#[derive(Debug)]
enum MaxProcsChoice {
    /// `goro_procs::MaxProcsWatcher::new()`: `GORO_MAXPROCS`, else the CPU
    /// limit, followed live.
    Detect,
    /// `Builder::maxprocs`.
    Fixed(usize),
    /// `Builder::maxprocs_watcher`.
    Watch(goro_procs::MaxProcsWatcher),
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            maxprocs: MaxProcsChoice::Detect,
            thread_name: Arc::new(|i| format!("goro-worker-{i}")),
            stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            panic_aborts: false,
            driver: None,
            retake_after: None,
            schedtrace: None,
            stats_hook: None,
        }
    }
}

impl Builder {
    /// A builder with the defaults: as many workers as
    /// [`goro_procs::detect`] says, named `goro-worker-N`, panics caught per
    /// task.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of workers (Go's `GOMAXPROCS`): OS threads that run tasks
    /// in parallel. Without this call, [`Builder::build`] asks
    /// [`goro_procs::detect`]: `GORO_MAXPROCS` if set, else the container's
    /// CPU limit and the CPU affinity mask, by Go 1.25's rule.
    ///
    /// An explicit count turns the CPU-limit updates off, as an explicit
    /// `GOMAXPROCS` does; [`Handle::set_default_maxprocs`] turns them on.
    /// Overrides [`maxprocs_watcher`](Self::maxprocs_watcher) (the last of
    /// the two calls wins).
    pub fn maxprocs(mut self, n: usize) -> Self {
        self.maxprocs = MaxProcsChoice::Fixed(n);
        self
    }

    /// Takes the worker count from `watcher` instead of
    /// [`goro_procs::MaxProcsWatcher::new`]: its count at build time, then,
    /// if it is automatic, its refreshes (the monitor calls
    /// [`refresh`](goro_procs::MaxProcsWatcher::refresh) once a second).
    /// For a runtime that should see another filesystem root than `/` (say,
    /// the host's `/proc` and cgroupfs mounted under `/host`), or a fixed
    /// CPU count standing in for the affinity mask. Overrides
    /// [`maxprocs`](Self::maxprocs) (the last of the two calls wins).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use goro_procs::MaxProcsWatcher;
    ///
    /// // The real cgroup limit, as if the machine had 8 CPUs.
    /// let watcher = MaxProcsWatcher::with_root_and_cpus(Path::new("/"), None, 8)?;
    /// let expected = watcher.current().n;
    /// let rt = goro_executor::Runtime::builder().maxprocs_watcher(watcher).build()?;
    /// assert_eq!(rt.maxprocs(), expected);
    /// assert!(rt.handle().maxprocs_is_automatic());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn maxprocs_watcher(mut self, watcher: goro_procs::MaxProcsWatcher) -> Self {
        self.maxprocs = MaxProcsChoice::Watch(watcher);
        self
    }

    /// Names worker threads; `f` gets the worker index.
    pub fn thread_name(mut self, f: impl Fn(usize) -> String + Send + Sync + 'static) -> Self {
        self.thread_name = Arc::new(f);
        self
    }

    /// The stack size of worker threads, in bytes (default: std's).
    pub fn thread_stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs `f` on each worker thread when it starts.
    pub fn on_thread_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each worker thread just before it exits.
    pub fn on_thread_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Makes a panic in any task abort the whole process after printing the
    /// task's id and spawn location, as an unrecovered panic does in Go.
    /// Off by default: a panic is caught, its task ends, and the panic
    /// reaches the task's [`JoinHandle`] as a [`crate::JoinError`].
    pub fn panic_aborts(mut self, yes: bool) -> Self {
        self.panic_aborts = yes;
        self
    }

    /// Plugs in an I/O and timer driver (the `goro` facade passes its
    /// reactor). Idle workers then sleep in it, busy ones poll it now and
    /// then, and a monitor thread polls it when nobody has for 10 ms; see
    /// [`Driver`]. Without one, the runtime runs tasks only.
    pub fn driver(mut self, driver: Arc<dyn Driver>) -> Self {
        self.driver = Some(driver);
        self
    }

    /// How long one poll of a task may hold its worker before the monitor
    /// thread retakes the worker's P (its run queue, `runnext` and timers)
    /// and hands it to another thread, so the other tasks keep running
    /// (Go's sysmon `retake`). The stuck task is reported once, with its
    /// spawn location. At half this time the task is asked to yield at its
    /// next goro I/O or timer operation ([`crate::should_yield`]).
    ///
    /// Default 10 ms (Go's), or `GORO_RETAKE_MS` if set; `Duration::ZERO`
    /// (or `GORO_RETAKE_MS=0`) turns retaking off.
    pub fn retake_after(mut self, after: Duration) -> Self {
        self.retake_after = Some(after);
        self
    }

    /// Makes the monitor thread print one line about the scheduler to
    /// stderr every `every` (Go's `GODEBUG=schedtrace`), in the format of
    /// [`Stats::schedtrace`]:
    ///
    /// `SCHED 1004ms: maxprocs=2 idleprocs=0 threads=6 spinning=0 blockingthreads=1 tasks=10000 runqueue=3 [12 7]`
    ///
    /// Without this call, the environment variable `GORO_SCHEDTRACE` (whole
    /// milliseconds; `0` or unset: off) decides. `Duration::ZERO` turns it
    /// off whatever the environment says.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = goro_executor::Runtime::builder()
    ///     .maxprocs(1)
    ///     .schedtrace(Duration::from_millis(10))
    ///     .build()
    ///     .unwrap();
    /// std::thread::sleep(Duration::from_millis(25)); // two lines on stderr
    /// # drop(rt);
    /// ```
    pub fn schedtrace(mut self, every: Duration) -> Self {
        self.schedtrace = Some(every);
        self
    }

    /// Adds figures the scheduler cannot know to every [`Stats`] snapshot
    /// ([`Handle::stats`], `SCHED` lines): `f` gets the snapshot and fills
    /// in the fields it owns. The `goro` facade uses it for its reactor's
    /// timers and I/O sources and its blocking pool's threads. `f` runs on
    /// whichever thread takes the snapshot, the monitor thread included, so
    /// it should be quick and must not block.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro_executor::Runtime::builder()
    ///     .maxprocs(1)
    ///     .stats_hook(|s| s.blocking_threads = 3)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.handle().stats().blocking_threads, 3);
    /// ```
    pub fn stats_hook(mut self, f: impl Fn(&mut Stats) + Send + Sync + 'static) -> Self {
        self.stats_hook = Some(Arc::new(f));
        self
    }

    /// Starts the workers.
    ///
    /// # Errors
    /// [`BuildError::InvalidEnv`] when `GORO_RETAKE_MS` is not a whole
    /// number of milliseconds up to 60000, or `GORO_SCHEDTRACE` not one
    /// from 0 to 3600000;
    /// [`BuildError::InvalidMaxProcs`] for `maxprocs(0)`;
    /// [`BuildError::MaxProcs`] when `GORO_MAXPROCS` is set to anything but
    /// a whole number from 1 to 65536 (the message names the variable and
    /// the value); [`BuildError::SpawnThread`] when the OS refuses a thread.
    pub fn build(self) -> Result<Runtime, BuildError> {
        let (n, watcher) = match self.maxprocs {
            MaxProcsChoice::Fixed(n) => (n, None),
            MaxProcsChoice::Detect => {
                let watcher = goro_procs::MaxProcsWatcher::new().map_err(BuildError::MaxProcs)?;
                (watcher.current().n, Some(watcher))
            }
            MaxProcsChoice::Watch(watcher) => (watcher.current().n, Some(watcher)),
        };
        if n == 0 || n > MAX_PROCS {
            return Err(BuildError::InvalidMaxProcs(n));
        }
        let retake_after = match self.retake_after {
            Some(d) => d,
            None => retake_from_env()?,
        };
        let schedtrace = match self.schedtrace {
            Some(d) => (!d.is_zero()).then_some(d),
            None => crate::schedtrace::from_env()?,
        };
        let threads = ThreadConfig {
            name: self.thread_name,
            stack_size: self.stack_size,
            on_start: self.on_thread_start,
            on_stop: self.on_thread_stop,
        };
        let (shared, cores) = Shared::new(
            n,
            Config {
                panic_aborts: self.panic_aborts,
                threads,
                driver: self.driver,
                retake_after: (!retake_after.is_zero()).then_some(retake_after),
                schedtrace,
                stats_hook: self.stats_hook,
            },
            watcher,
        );
        let shared = Arc::new(shared);
        shared.set_self();
        crate::dump::note_runtime(&shared);
        // Dropping `rt` on an error stops the workers started so far.
        let rt = Runtime {
            handle: Handle {
                shared: shared.clone(),
            },
            shut_down: false,
        };
        for core in cores {
            machine::start(&shared, core).map_err(|(e, _)| BuildError::SpawnThread(e))?;
        }
        monitor::start(&shared).map_err(BuildError::SpawnThread)?;
        Ok(rt)
    }
}

/// Go's sysmon retakes a P after 10 ms (`forcePreemptNS`).
const DEFAULT_RETAKE: Duration = Duration::from_millis(10);
const RETAKE_ENV: &str = "GORO_RETAKE_MS";

fn retake_from_env() -> Result<Duration, BuildError> {
    let Some(raw) = std::env::var_os(RETAKE_ENV) else {
        return Ok(DEFAULT_RETAKE);
    };
    let value = raw.to_string_lossy().into_owned();
    match value.trim().parse::<u64>() {
        Ok(ms) if ms <= 60_000 => Ok(Duration::from_millis(ms)),
        _ => Err(BuildError::InvalidEnv {
            var: RETAKE_ENV,
            value,
            expected: "a whole number of milliseconds from 0 (off) to 60000",
        }),
    }
}

/// The most workers a runtime accepts.
pub const MAX_PROCS: usize = 1 << 16;

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("maxprocs", &self.maxprocs)
            .field("stack_size", &self.stack_size)
            .field("panic_aborts", &self.panic_aborts)
            .field("driver", &self.driver.is_some())
            .field("retake_after", &self.retake_after)
            .field("schedtrace", &self.schedtrace)
            .field("stats_hook", &self.stats_hook.is_some())
            .finish_non_exhaustive()
    }
}

/// Why [`Builder::build`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// `maxprocs` was 0 or above [`MAX_PROCS`].
    InvalidMaxProcs(usize),
    /// The OS refused to start a worker thread.
    SpawnThread(io::Error),
    /// The I/O driver could not start (for goro's reactor: the OS refused
    /// to create its poller, typically for lack of file descriptors). Made
    /// by the code that creates the driver, such as `goro`'s `Builder`.
    Driver(io::Error),
    /// `GORO_MAXPROCS` holds a value that is not a worker count.
    MaxProcs(goro_procs::MaxProcsError),
    /// Another `GORO_*` environment variable holds a bad value.
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::InvalidMaxProcs(n) => {
                write!(f, "maxprocs must be from 1 to {MAX_PROCS}, got {n}")
            }
            BuildError::SpawnThread(e) => write!(f, "could not start a worker thread: {e}"),
            BuildError::Driver(e) => write!(f, "could not start the I/O driver: {e}"),
            BuildError::MaxProcs(e) => e.fmt(f),
            BuildError::InvalidEnv {
                var,
                value,
                expected,
            } => write!(f, "{var}={value:?} is invalid: expected {expected}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::SpawnThread(e) | BuildError::Driver(e) => Some(e),
            BuildError::MaxProcs(e) => Some(e),
            BuildError::InvalidMaxProcs(_) | BuildError::InvalidEnv { .. } => None,
        }
    }
}

/// A set of worker threads running tasks M:N, with per-worker run queues
/// and work stealing.
///
/// # Shutdown
///
/// Dropping a `Runtime` stops its workers, drops every task still queued
/// and every parked task (waiting on a waker held elsewhere: the reactor, a
/// channel), and joins every thread of the runtime: the workers, the threads
/// a [`crate::blocking`] call handed a worker to, and the monitor. A worker
/// stops between polls, so **the drop waits for every poll in progress to
/// return**: a task stuck in a blocking call (`thread::sleep`, a blocking
/// read, a `blocking(|| ...)` closure that never returns) makes the drop
/// wait as long. [`Runtime::shutdown_timeout`] bounds that wait and
/// [`Runtime::shutdown_background`] does not wait at all; both leave stuck
/// threads running, detached. Go has no equivalent: a Go program ends with
/// `main`, whatever its goroutines do.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let handles: Vec<_> = (0..10u64).map(|i| goro::spawn(async move { i * i })).collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// ```
pub struct Runtime {
    handle: Handle,
    /// Set once shut down, so that `Drop` after `shutdown_timeout` does
    /// nothing.
    shut_down: bool,
}

impl Runtime {
    /// A runtime with the default settings.
    ///
    /// # Errors
    /// See [`Builder::build`].
    pub fn new() -> Result<Runtime, BuildError> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure a runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A handle that spawns onto this runtime from anywhere.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The number of workers.
    pub fn maxprocs(&self) -> usize {
        self.handle.maxprocs()
    }

    /// Spawns a task (the equivalent of `go f()`); see [`Handle::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn_at(future, Location::caller())
    }

    /// Same as [`Runtime::spawn`], named after Go's `go` statement.
    #[track_caller]
    pub fn go<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn_at(future, Location::caller())
    }

    /// Runs `future` to completion on the calling thread, while the workers
    /// run the tasks it spawns; see [`Handle::block_on`].
    ///
    /// # Panics
    /// When called from a worker thread of any goro runtime: that would
    /// block a worker; `.await` the future instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Shuts the runtime down like dropping it does, but waits at most
    /// `limit` for its threads: tokio's method of the same name.
    ///
    /// The workers stop at their next poll boundary; every task that is not
    /// being polled is dropped (queued and parked tasks alike). A thread
    /// still inside a poll when `limit` is up, such as a task stuck in
    /// `thread::sleep` or in a [`crate::blocking`] closure that never
    /// returns, is left running, detached: when its poll returns it drops
    /// its own queue and exits. The task it was polling, and anything that
    /// task wakes afterwards, is not dropped, and may be leaked. Returns
    /// whether every thread had stopped by then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let rt = goro_executor::Runtime::builder().maxprocs(1).build().unwrap();
    /// let (started_tx, started_rx) = std::sync::mpsc::channel();
    /// rt.spawn(async move {
    ///     started_tx.send(()).unwrap();
    ///     std::thread::sleep(Duration::from_secs(3600)); // stuck for an hour
    /// });
    /// started_rx.recv().unwrap();
    /// let start = Instant::now();
    /// let all_stopped = rt.shutdown_timeout(Duration::from_millis(100));
    /// assert!(!all_stopped);
    /// assert!(start.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn shutdown_timeout(mut self, limit: Duration) -> bool {
        self.shut_down_within(Some(limit))
    }

    /// Shuts the runtime down without waiting for its threads:
    /// [`Runtime::shutdown_timeout`] with a zero limit (as in tokio). Useful
    /// to drop a runtime from a context that must not block, such as inside
    /// another runtime's task.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro_executor::Runtime::builder().maxprocs(1).build().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_background();
    /// assert!(futures_lite::future::block_on(h).unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// Stops the workers, waits for the runtime's threads up to `limit`
    /// (`None`: as long as they take), then drops the tasks left. Returns
    /// whether every thread stopped in time.
    fn shut_down_within(&mut self, limit: Option<Duration>) -> bool {
        if std::mem::replace(&mut self.shut_down, true) {
            return true;
        }
        let shared = &self.handle.shared;
        shared.begin_shutdown();
        let all_stopped = join_threads(shared, limit.map(|d| Instant::now().checked_add(d)));
        shared.finish_shutdown();
        all_stopped
    }
}

/// Joins every thread of `shared`, including threads that a hand-off starts
/// meanwhile, until `deadline` if there is one (`Some(None)`: a limit too
/// far away to represent, so none). Threads still running at the deadline
/// are detached. Returns whether every thread was joined.
fn join_threads(shared: &Shared, deadline: Option<Option<Instant>>) -> bool {
    let me = thread::current().id();
    let mut running: Vec<thread::JoinHandle<()>> = Vec::new();
    let mut nap = Duration::from_micros(100);
    loop {
        running.extend(std::mem::take(&mut *lock(&shared.threads)));
        // A worker cannot join itself (the runtime is dropped inside one of
        // its tasks); it exits after this poll.
        running.retain(|t| t.thread().id() != me);
        let Some(Some(deadline)) = deadline else {
            if running.is_empty() {
                return true;
            }
            for t in running.drain(..) {
                // A worker thread that panicked has nothing left to clean up.
                let _ = t.join();
            }
            continue;
        };
        let (done, still): (Vec<_>, Vec<_>) = running.drain(..).partition(|t| t.is_finished());
        for t in done {
            let _ = t.join();
        }
        running = still;
        if running.is_empty() && lock(&shared.threads).is_empty() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            // Detached: dropping a `JoinHandle` lets the thread run on.
            drop(running);
            drop(std::mem::take(&mut *lock(&shared.threads)));
            return false;
        }
        thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(10));
    }
}

impl Drop for Runtime {
    /// Shuts down and waits for every thread, however long that takes; see
    /// [Shutdown](Runtime#shutdown).
    fn drop(&mut self) {
        self.shut_down_within(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("maxprocs", &self.maxprocs())
            .finish_non_exhaustive()
    }
}

/// A cheap, clonable reference to a runtime, to spawn onto it from anywhere.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let out = std::thread::spawn(move || handle.block_on(handle.spawn(async { 1 + 1 })))
///     .join()
///     .unwrap();
/// assert_eq!(out.unwrap(), 2);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Handle {
    /// The runtime this thread is in (inside a task, or inside `block_on`).
    ///
    /// # Panics
    /// When the thread is in no goro runtime; see [`Handle::try_current`].
    #[track_caller]
    pub fn current() -> Handle {
        Self::try_current().expect("goro: not inside a goro runtime (no block_on or task here)")
    }

    /// The runtime this thread is in, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(goro::Handle::try_current().is_none());
    /// let rt = goro::Runtime::new().unwrap();
    /// rt.block_on(async { assert!(goro::Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::with_handle(|h| h.cloned())
    }

    /// Calls `f` with the current runtime's handle, if any, without cloning
    /// it (cheaper than [`Handle::try_current`] on hot paths).
    pub fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
        context::with_handle(f)
    }

    /// The number of workers: how many tasks run in parallel (Go's
    /// `runtime.GOMAXPROCS(0)`). It changes with [`Handle::set_maxprocs`],
    /// and with the container's CPU limit unless set explicitly.
    pub fn maxprocs(&self) -> usize {
        self.shared.num_procs()
    }

    /// Changes the number of workers while the runtime runs and returns the
    /// previous number, like Go's `runtime.GOMAXPROCS(n)`. `0` changes
    /// nothing (Go's way to ask); values above [`MAX_PROCS`] count as
    /// [`MAX_PROCS`]. An explicit setting turns off the updates that follow
    /// the container's CPU limit; [`Handle::set_default_maxprocs`] turns
    /// them back on.
    ///
    /// Growing starts the new workers before returning. Shrinking is
    /// immediate for the count, and each retired worker stops at its next
    /// scheduling point (at the latest when the task it is running yields):
    /// it moves the tasks queued on it to the global queue, where the
    /// remaining workers take them. Go stops the world for this; goro
    /// does not, so no task waits for the resize.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    /// assert_eq!(rt.handle().set_maxprocs(4), 2);
    /// assert_eq!(rt.maxprocs(), 4);
    /// assert_eq!(rt.handle().set_maxprocs(0), 4, "0 only asks");
    /// assert_eq!(rt.handle().set_maxprocs(1), 4);
    /// assert_eq!(rt.block_on(rt.spawn(async { 6 * 7 })).unwrap(), 42);
    /// ```
    pub fn set_maxprocs(&self, n: usize) -> usize {
        if n == 0 {
            return self.maxprocs();
        }
        self.shared.set_maxprocs(n, true)
    }

    /// Sets the number of workers to the default, as if `GORO_MAXPROCS`
    /// were unset (the container's CPU limit and the affinity mask, by Go
    /// 1.25's rule; see [`goro_procs`]), and turns on the updates that
    /// follow the CPU limit: the runtime re-reads it about once a second.
    /// Returns the new number. Go's `runtime.SetDefaultGOMAXPROCS`. A
    /// runtime built with [`Builder::maxprocs_watcher`] goes back to that
    /// watcher's filesystem root and CPU count.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    /// assert!(!rt.handle().maxprocs_is_automatic());
    /// let n = rt.handle().set_default_maxprocs();
    /// assert_eq!(n, goro_procs::detect_with(std::path::Path::new("/"), None).unwrap().n);
    /// assert!(rt.handle().maxprocs_is_automatic());
    /// ```
    pub fn set_default_maxprocs(&self) -> usize {
        self.shared.set_default_maxprocs()
    }

    /// Whether the number of workers follows the container's CPU limit:
    /// `true` unless it was set explicitly (`GORO_MAXPROCS`,
    /// [`Builder::maxprocs`], [`Handle::set_maxprocs`]).
    pub fn maxprocs_is_automatic(&self) -> bool {
        self.shared.maxprocs_is_automatic()
    }

    /// The number of live tasks: spawned and not yet finished (Go's
    /// `runtime.NumGoroutine`). A snapshot: it can change at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let h = rt.spawn(async move { rx.recv().unwrap() });
    /// assert_eq!(rt.handle().num_tasks(), 1);
    /// tx.send(()).unwrap();
    /// rt.block_on(h).unwrap();
    /// assert_eq!(rt.handle().num_tasks(), 0);
    /// ```
    pub fn num_tasks(&self) -> usize {
        self.shared.registry.len()
    }

    /// Spawns a task onto this runtime. From a worker of this runtime the
    /// task goes to that worker's `runnext` slot and runs as soon as the
    /// current task yields; from elsewhere it goes to the global queue and
    /// wakes an idle worker.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_at(future, Location::caller())
    }

    /// Like [`Handle::spawn`], recording `location` as the spawn site. For
    /// wrappers that capture `Location::caller()` themselves.
    pub fn spawn_at<F>(
        &self,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // The coarse clock is fresh while the monitor runs every
        // millisecond; when every worker has been asleep for a while the
        // monitor naps, so read the real time then (a rare, slow path).
        let born = if self
            .shared
            .monitor_idle
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            crate::clock::refresh()
        } else {
            crate::clock::now_ms()
        };
        let meta = TaskMeta::new(
            location,
            Some(&self.shared.registry),
            self.shared.config.panic_aborts,
            born,
        );
        let shared = self.shared.clone();
        let schedule = WithInfo(move |runnable, info| shared.schedule(runnable, info));
        let (runnable, task) = new_task(future, meta, schedule);
        self.shared.registry.note_spawned();
        if self.shared.is_shutdown() {
            // The runtime has shut down: the task is cancelled unpolled.
            drop(runnable);
        } else {
            runnable.schedule();
        }
        JoinHandle::new(task)
    }

    /// Runs `future` to completion on the calling thread with this runtime
    /// entered, so [`crate::spawn`] inside it spawns here. The calling thread
    /// is not a worker: while the future is pending it sleeps, in the
    /// runtime's driver if no worker is polling it, so I/O the future waits
    /// for makes progress even with every worker busy.
    ///
    /// # Panics
    /// When called from a worker thread of any goro runtime: that would
    /// block a worker; `.await` the future instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !context::is_worker_thread(),
            "goro: block_on called from a worker thread, which would block it; .await instead"
        );
        let _enter = context::enter(self.clone());
        match &self.shared.driver {
            None => futures_lite::future::block_on(future),
            Some(driver) => crate::block_on::block_on(&self.shared, driver, future),
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("maxprocs", &self.maxprocs())
            .finish()
    }
}

/// Spawns a task onto the current runtime (the one whose task or
/// `block_on` this thread is in), like Go's `go` statement.
///
/// The `goro` facade's `goro::go` also works outside any runtime, by
/// starting a global one; this function requires a current runtime.
///
/// # Panics
/// When this thread is in no goro runtime.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::new().unwrap();
/// let v = rt.block_on(async { goro::spawn(async { "hi" }).await.unwrap() });
/// assert_eq!(v, "hi");
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    context::with_handle(|h| match h {
        Some(h) => h.spawn_at(future, location),
        None => panic!("goro: spawn called outside a goro runtime (at {location})"),
    })
}

/// Creates a task whose runnable goes to `schedule` instead of a runtime's
/// queues, for executors built on goro's tasks (the blocking pool runs such
/// tasks on its own threads). The task is not scheduled yet: call
/// [`async_task::Runnable::schedule`] or `run` on the returned runnable.
/// The [`JoinHandle`] behaves as for any task: panics reach it, dropping it
/// detaches. [`JoinHandle::abort`] only stops a task that has not started.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
/// let (tx, rx) = mpsc::channel();
/// let (runnable, handle) = goro_executor::spawn_unscheduled(
///     async { 6 * 7 },
///     std::panic::Location::caller(),
///     move |r| tx.send(r).unwrap(),
/// );
/// runnable.schedule();
/// rx.recv().unwrap().run(); // "the pool thread" runs it
/// assert_eq!(futures_lite::future::block_on(handle).unwrap(), 42);
/// ```
pub fn spawn_unscheduled<F, S>(
    future: F,
    location: &'static Location<'static>,
    schedule: S,
) -> (async_task::Runnable<TaskMeta>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Fn(async_task::Runnable<TaskMeta>) + Send + Sync + 'static,
{
    let meta = TaskMeta::new(location, None, false, crate::clock::now_ms());
    let (runnable, task) = new_task(future, meta, schedule);
    (runnable, JoinHandle::new(task))
}
