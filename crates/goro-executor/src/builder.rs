//! [`Builder`]: the settings a [`Runtime`] starts with, read from the
//! builder's calls and the environment (`GORO_MAXPROCS`, `GORO_RETAKE_MS`,
//! `GORO_SCHEDTRACE`), and [`BuildError`].

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::driver::Driver;
use crate::machine::{self, ThreadConfig};
use crate::monitor;
use crate::runtime::{Handle, Runtime};
use crate::shared::{Config, Shared, StatsHook};
use crate::stats::Stats;

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
    jobs: crate::help::Jobs,
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
            jobs: None,
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
    /// reaches the task's [`JoinHandle`](crate::JoinHandle) as a [`crate::JoinError`].
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
    /// A poll that computes (rather than sleeping in the kernel) keeps its P
    /// past this time while the P has nothing queued and another worker
    /// slept within it: that worker takes the shared queues' work, and a new
    /// thread for the P would only compete with it for the CPUs. Such a poll
    /// is still reported when it ends.
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

    /// Lets a worker that finds no task anywhere run one of `jobs`' queued
    /// blocking jobs before it sleeps, instead of leaving every job to the
    /// pool's threads (see [`BlockingJobs`](crate::BlockingJobs)). The job
    /// runs like a task poll, so a job that lasts loses the worker its P as
    /// a stuck poll does ([`Builder::retake_after`]). The `goro` facade
    /// passes its global blocking pool. Without this call, workers only run
    /// tasks.
    pub fn help_with(mut self, jobs: Arc<dyn crate::BlockingJobs>) -> Self {
        self.jobs = Some(jobs);
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
                jobs: self.jobs,
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

/// The real runtime for loom models (`loom_tests`): `n` workers started as
/// model threads, no driver, no monitor (a model calls the monitor's
/// retake pass itself), and `retake_after` as given.
#[cfg(all(test, loom))]
pub(crate) fn loom_runtime(n: usize, retake_after: Option<Duration>) -> Runtime {
    let config = Config::for_tests("goro-loom", retake_after);
    crate::block_on::prepare_parker();
    let (shared, cores) = Shared::new(n, config, None);
    let shared = Arc::new(shared);
    shared.set_self();
    for core in cores {
        if machine::start(&shared, core).is_err() {
            unreachable!("a loom thread always starts");
        }
    }
    Runtime {
        handle: Handle { shared },
        shut_down: false,
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
            .field("help_with", &self.jobs.is_some())
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
