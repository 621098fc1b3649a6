//! [`Runtime`] and [`Handle`]: spawn tasks, block on a future, shut down.
//! Starting one is in `builder`.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_task::WithInfo;

use crate::context;
use crate::join::JoinHandle;
use crate::shared::Shared;
use crate::sync::lock;
use crate::task::{TaskMeta, new_task};

pub use crate::builder::{BuildError, Builder, MAX_PROCS};

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
    pub(crate) handle: Handle,
    /// Set once shut down, so that `Drop` after `shutdown_timeout` does
    /// nothing.
    pub(crate) shut_down: bool,
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
#[cfg(not(loom))]
fn join_threads(shared: &Shared, deadline: Option<Option<Instant>>) -> bool {
    let me = std::thread::current().id();
    let mut running: Vec<std::thread::JoinHandle<()>> = Vec::new();
    let mut nap = Duration::from_micros(100);
    loop {
        running.extend(std::mem::take(&mut *lock(&shared.threads.all)));
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
        if running.is_empty() && lock(&shared.threads.all).is_empty() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            // Detached: dropping a `JoinHandle` lets the thread run on.
            drop(running);
            drop(std::mem::take(&mut *lock(&shared.threads.all)));
            return false;
        }
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(10));
    }
}

/// Under loom: joins every thread (loom's handles cannot tell whether a
/// thread has finished, so there is no deadline).
#[cfg(loom)]
fn join_threads(shared: &Shared, _deadline: Option<Option<Instant>>) -> bool {
    loop {
        let running = std::mem::take(&mut *lock(&shared.threads.all));
        if running.is_empty() {
            return true;
        }
        for t in running {
            let _ = t.join();
        }
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
    /// wakes an idle worker. From `block_on`, or from a task whose worker's
    /// P was retaken during its poll, it sleeps for short pauses while the
    /// global queue holds more than 2,048 tasks per worker (Go would
    /// preempt such a spawning loop; goro paces it).
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
        let born = if self.shared.monitor.is_backed_off() {
            crate::clock::refresh()
        } else {
            crate::clock::now_ms()
        };
        // No `Arc` clone: a `TaskRef` usually takes its count from this
        // worker's stock instead of the shared counter (`task_ref`). On a
        // worker of this runtime it also counts the spawn.
        let (task_ref, counted) = crate::task_ref::TaskRef::for_spawn(&self.shared);
        if !counted {
            self.shared.registry.note_spawned();
        }
        let meta = TaskMeta::new(
            location,
            Some(task_ref),
            self.shared.config.panic_aborts,
            born,
        );
        // Zero-sized: the runtime is in the metadata (`schedule_task`).
        let schedule = WithInfo(crate::shared::schedule_task);
        let (runnable, task) = new_task(future, meta, schedule);
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
        let _mark = context::mark_block_on();
        match &self.shared.driver {
            // Under loom a std park would block the model: park on the
            // runtime's own (loom-checked) parker instead.
            #[cfg(loom)]
            None => crate::block_on::block_on_parker(future),
            #[cfg(not(loom))]
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
