//! # goro
//!
//! Go's runtime for Rust: spawn a task as cheaply as `go f()`, and run it
//! M:N on a few OS threads with per-worker run queues and work stealing.
//!
//! ```
//! let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
//! goro::block_on(async {
//!     let handles: Vec<_> = (0..1000)
//!         .map(|_| {
//!             let counter = counter.clone();
//!             goro::go(async move {
//!                 counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!             })
//!         })
//!         .collect();
//!     for h in handles {
//!         h.await.unwrap();
//!     }
//! });
//! assert_eq!(counter.load(std::sync::atomic::Ordering::Relaxed), 1000);
//! ```
//!
//! Blocking work (file I/O, FFI, slow syscalls) goes to a bounded thread
//! pool with [`unblock`]; [`fs`] is `std::fs` on that pool.
//!
//! I/O parks the task, not the thread: [`net`] has TCP, UDP and Unix
//! sockets, [`time`] has `sleep`, `timeout` and `interval`, and [`Async`]
//! wraps any descriptor. Idle workers sleep in the reactor, as Go's sleep in
//! its netpoller; there is no reactor thread. [`io`] has the read, write
//! and buf-read extension traits with `BufReader`, `BufWriter`, `copy` and
//! `split`, [`stream`] the `Stream` trait, and [`prelude`] both for a glob
//! import. `signal` (Unix) has `ctrl_c()` and `shutdown()` for a graceful
//! stop; `process` (Unix) runs child programs, their exits awaited through
//! the reactor.
//!
//! Observability is on by default and cheap: [`stats`] (Go's
//! `NumGoroutine`, thread and queue counts, scheduling latency),
//! `GORO_SCHEDTRACE=<ms>` (Go's `schedtrace`), [`dump_tasks`] (what each
//! task is doing, grouped by spawn location), [`install_dump_signal`] and
//! [`metrics::prometheus`].
//!
//! Other ecosystems, behind cargo features: `http` (hyper, axum and tonic
//! on goro, `goro::http`) and `tokio-io` (`goro::compat`: tokio's I/O
//! traits on goro's sockets, for tokio-postgres with `postgres`, redis
//! with `redis`, and tokio-rustls), with no tokio runtime.
//!
//! Crates behind the facade: `goro-executor` (the scheduler), `goro-reactor`
//! (I/O and timers), `goro-blocking` (the blocking pool), `goro-procs` (how
//! many workers). `src/runtime.rs` wires the first two together.

use std::future::Future;
use std::panic::Location;
use std::sync::OnceLock;

pub use goro_blocking::{Unblock, fs, spawn_blocking, unblock};
#[cfg(feature = "tokio-io")]
#[doc(inline)]
pub use goro_compat as compat;
pub use goro_executor::{
    BuildError, Handle, JoinError, JoinHandle, LatencyHistogram, SpawnSite, Stats, TaskDump,
    TaskId, TaskInfo, TaskState, WaitReason, YieldNow, blocking, note_wait, should_yield,
    yield_now,
};
#[cfg(feature = "http")]
#[doc(inline)]
pub use goro_http as http;
pub use goro_macros::{main, test};
pub use goro_procs as procs;
pub use goro_reactor::{Async, coop, net, time};
pub mod cancel;
#[cfg(all(feature = "dump-signal", unix))]
mod dump_signal;
pub mod metrics;
mod runtime;
#[cfg(unix)]
pub mod signal;
#[cfg(all(feature = "dump-signal", unix))]
pub use dump_signal::{install_dump_signal, install_dump_signal_on};
pub use runtime::{Builder, Runtime};
pub mod chan;
mod group;
pub mod io;
mod join_macro;
mod join_set;
mod pinned;
pub mod prelude;
#[cfg(unix)]
pub mod process;
pub mod select;
pub mod stream;
pub mod sync;
pub mod task;
mod wait;
pub use cancel::CancelToken;
pub use group::TaskGroup;
pub use join_set::JoinSet;
pub use pinned::{LockedThread, PinnedError, PinnedHandle, spawn_pinned};

/// Support for goro's macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::join_macro::MaybeDone;

    /// `#[goro::main]`'s start: the global runtime, or the error on stderr
    /// and exit status 1 (no panic, no backtrace: a bad `GORO_MAXPROCS` is
    /// the user's input, not a bug).
    pub fn main_global() -> &'static crate::Runtime {
        match crate::try_global() {
            Ok(rt) => rt,
            Err(e) => exit_with(e),
        }
    }

    /// `#[goro::main(maxprocs = N)]`'s start; see [`main_global`].
    pub fn main_runtime(maxprocs: usize) -> crate::Runtime {
        match crate::Runtime::builder().maxprocs(maxprocs).build() {
            Ok(rt) => rt,
            Err(e) => exit_with(&e.to_string()),
        }
    }

    fn exit_with(e: &str) -> ! {
        eprintln!("goro: cannot start the runtime: {e}");
        std::process::exit(1)
    }
}

/// The global runtime that [`go`] and [`block_on`] use outside any runtime,
/// started on first use like Go's; or why it could not start.
fn try_global() -> Result<&'static Runtime, &'static str> {
    static GLOBAL: OnceLock<Result<Runtime, String>> = OnceLock::new();
    let rt = GLOBAL.get_or_init(|| {
        Runtime::builder()
            .thread_name(|i| format!("goro-worker-{i}"))
            .build()
            .map_err(|e| e.to_string())
    });
    rt.as_ref().map_err(String::as_str)
}

/// The global runtime; panics with the reason if it cannot start.
fn global() -> &'static Runtime {
    match try_global() {
        Ok(rt) => rt,
        Err(e) => panic!("goro: cannot start the global runtime: {e}"),
    }
}

/// Spawns a task, like Go's `go` statement, and returns its [`JoinHandle`].
///
/// Inside a task or a `block_on`, the task joins that runtime; anywhere else
/// it goes to a global runtime started on first use. Dropping the handle
/// detaches the task (fire-and-forget).
///
/// It never waits, with one exception where Go would preempt the caller: a
/// loop in `block_on`, or in a task that has held its worker past the
/// retake threshold, that spawns while the runtime's global queue holds
/// more than 2,048 tasks per worker sleeps for short pauses, so that the
/// workers get the CPU to run what it spawned (see the README's scheduler
/// section).
///
/// # Examples
///
/// ```
/// let h = goro::go(async { 40 + 2 });
/// assert_eq!(goro::block_on(h).unwrap(), 42);
/// ```
#[track_caller]
pub fn go<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    Handle::with_current(|h| match h {
        Some(h) => h.spawn_at(future, location),
        None => global().handle().spawn_at(future, location),
    })
}

/// Same as [`go`], under the name tokio users know.
///
/// # Examples
///
/// ```
/// let h = goro::spawn(async { "done" });
/// assert_eq!(goro::block_on(h).unwrap(), "done");
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // `#[track_caller]` passes through: the task records our caller.
    go(future)
}

/// Runs `future` to completion on the calling thread, while the workers run
/// the tasks it spawns. Uses the current runtime inside a `Runtime::block_on`
/// ... (nesting is refused on worker threads), otherwise the global runtime.
///
/// # Panics
/// When called from inside a task (a worker thread): `.await` instead.
///
/// # Examples
///
/// ```
/// let v = goro::block_on(async { goro::go(async { 7 }).await.unwrap() });
/// assert_eq!(v, 7);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    match Handle::try_current() {
        Some(h) => h.block_on(future),
        None => global().block_on(future),
    }
}

/// The runtime this thread is in, else the global one (started if needed).
fn current_or_global<R>(f: impl FnOnce(&Handle) -> R) -> R {
    let mut f = Some(f);
    let r = Handle::with_current(|h| h.map(|h| (f.take().unwrap())(h)));
    match r {
        Some(r) => r,
        None => (f.take().unwrap())(global().handle()),
    }
}

/// The number of workers, tasks that run in parallel, of the current
/// runtime (inside a task or a `block_on`) or else the global one: Go's
/// `runtime.GOMAXPROCS(0)`.
///
/// It starts at `GORO_MAXPROCS` if set, else the container's CPU limit and
/// the CPU affinity mask by Go 1.25's rule ([`procs`]), and changes with
/// [`set_maxprocs`], or by itself when the CPU limit changes (the runtime
/// re-reads it once a second unless maxprocs was set explicitly).
///
/// # Examples
///
/// ```
/// assert!(goro::maxprocs() >= 1);
/// ```
pub fn maxprocs() -> usize {
    current_or_global(Handle::maxprocs)
}

/// Changes the number of workers of the current (else the global) runtime
/// while it runs, and returns the previous number: Go's
/// `runtime.GOMAXPROCS(n)`. `0` changes nothing. Workers are added at once;
/// a retired worker stops at its next scheduling point and its queued tasks
/// move to the global queue, where the remaining workers take them. Setting
/// it turns off the automatic updates from the CPU limit;
/// [`set_default_maxprocs`] turns them back on. See
/// [`Handle::set_maxprocs`].
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
/// rt.block_on(async {
///     assert_eq!(goro::set_maxprocs(3), 2);
///     assert_eq!(goro::maxprocs(), 3);
///     assert_eq!(goro::set_maxprocs(0), 3, "0 only asks");
/// });
/// ```
pub fn set_maxprocs(n: usize) -> usize {
    current_or_global(|h| h.set_maxprocs(n))
}

/// Sets the number of workers of the current (else the global) runtime to
/// the default, as if `GORO_MAXPROCS` were unset, turns the automatic
/// updates from the CPU limit back on, and returns the new number: Go's
/// `runtime.SetDefaultGOMAXPROCS`.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
/// let n = rt.block_on(async { goro::set_default_maxprocs() });
/// assert_eq!(n, goro::procs::detect_with(std::path::Path::new("/"), None).unwrap().n);
/// assert!(rt.handle().maxprocs_is_automatic());
/// ```
pub fn set_default_maxprocs() -> usize {
    current_or_global(Handle::set_default_maxprocs)
}

/// A snapshot of the scheduler's counters: workers running, idle and
/// searching, OS threads of the process and of the blocking pool, live
/// tasks (Go's `runtime.NumGoroutine()`) and totals, queue lengths, steals,
/// parks, polls, retakes, blocking-pool jobs the workers ran, pending
/// timers, I/O sources and the scheduling latency histogram. See [`Stats`].
///
/// Of the runtime this thread is in (inside a task or a `block_on`), else
/// of the global runtime, which this starts if nothing has yet. For another
/// runtime, use [`Runtime::handle`]`().stats()`.
///
/// A task is live until its future is dropped: right after a
/// [`WaitGroup::wait`](sync::WaitGroup::wait), `tasks` may still count
/// tasks that called `done` and are ending; after awaiting their
/// [`JoinHandle`]s it is exact (see [`Stats::tasks`]).
///
/// Counters are kept per worker and summed here, so counting costs the
/// workers no shared atomic; a snapshot takes some tens of microseconds
/// (it reads `/proc/self/stat` and counts the timers).
///
/// # Examples
///
/// ```
/// goro::block_on(async {
///     let (tx, rx) = goro::chan::bounded::<()>(1);
///     let before = goro::stats().tasks;
///     let waiters: Vec<_> = (0..10)
///         .map(|_| {
///             let rx = rx.clone();
///             goro::go(async move { rx.recv().await.ok() })
///         })
///         .collect();
///     assert_eq!(goro::stats().tasks, before + 10);
///     drop(tx);
///     for w in waiters {
///         w.await.unwrap();
///     }
///     let s = goro::stats();
///     assert_eq!(s.tasks, before);
///     println!("{} workers, {} threads, p99 scheduling latency {:?}",
///         s.maxprocs, s.threads, s.sched_latency.p99());
/// });
/// ```
pub fn stats() -> Stats {
    current_or_global(Handle::stats)
}

/// Lists the live tasks with their id, spawn location, state (running,
/// queued, waiting), age and poll count, grouped by spawn location with
/// counts, like Go's `pprof goroutine` profile. Its `Display` is a report
/// for humans; the fields are there for programs. See
/// [`Handle::dump_tasks`] for what is listed and how exact it is.
///
/// Of the runtime this thread is in, else of the global runtime.
///
/// # Examples
///
/// ```
/// goro::block_on(async {
///     let (tx, rx) = goro::chan::bounded::<()>(1);
///     let waiter = goro::go(async move { rx.recv().await.ok() });
///     goro::time::sleep(std::time::Duration::from_millis(10)).await;
///     let dump = goro::dump_tasks();
///     let t = dump.tasks().find(|t| t.id == waiter.id()).unwrap();
///     assert_eq!(t.state, goro::TaskState::Waiting);
///     assert_eq!(t.location.file(), file!());
///     eprintln!("{dump}");
///     drop(tx);
/// });
/// ```
pub fn dump_tasks() -> TaskDump {
    current_or_global(Handle::dump_tasks)
}
