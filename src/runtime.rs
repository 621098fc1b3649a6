//! The facade's [`Runtime`] and [`Builder`]: `goro-executor`'s scheduler
//! wired to `goro-reactor`'s I/O and timers. This file is where the two
//! crates meet; neither knows the other.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use goro_executor::{BuildError, Driver, Handle, JoinHandle, Stats};
use goro_reactor::Reactor;

/// The reactor as the scheduler sees it.
struct ReactorDriver(&'static Reactor);

impl Driver for ReactorDriver {
    fn try_acquire(&self) -> bool {
        self.0.try_acquire()
    }

    fn release(&self) {
        self.0.release();
    }

    fn is_polling(&self) -> bool {
        self.0.is_polling()
    }

    fn poll(&self, timeout: Option<Duration>) {
        self.0.poll(timeout);
    }

    fn notify(&self) {
        self.0.notify();
    }

    #[inline]
    fn tick(&self, proc: usize) {
        self.0.tick(proc);
    }

    fn has_waiters(&self) -> bool {
        self.0.has_waiters()
    }

    fn needs_poll(&self, stale: Duration) -> bool {
        self.0.needs_poll(stale)
    }

    fn timer_due_within(&self, horizon: Duration) -> bool {
        self.0.timer_due_within(horizon)
    }
}

/// The driver every goro runtime of this process shares: there is one
/// reactor, like Go's one netpoller.
pub(crate) fn driver() -> Result<Arc<dyn Driver>, BuildError> {
    goro_reactor::time::set_proc_hint(goro_executor::current_proc);
    goro_reactor::coop::set_yield_hook(goro_executor::should_yield);
    goro_reactor::wait::set_wait_hook(note_reactor_wait);
    let reactor = Reactor::try_get().map_err(BuildError::Driver)?;
    Ok(Arc::new(ReactorDriver(reactor)))
}

/// A reactor wait, as the task dump's wait reason.
fn note_reactor_wait(w: goro_reactor::wait::Wait) {
    use goro_reactor::wait::Wait;
    goro_executor::note_wait(match w {
        Wait::Timer => goro_executor::WaitReason::Sleep,
        _ => goro_executor::WaitReason::Io,
    });
}

/// Adds what the scheduler does not know to its stats: the reactor's timers
/// and sources (process-wide, as the reactor is) and the global blocking
/// pool's threads, without starting that pool if nothing has used it.
fn fill_stats(s: &mut Stats) {
    let reactor = Reactor::get();
    s.timers = reactor.num_timers();
    s.io_sources = reactor.num_sources();
    s.blocking_threads = goro_blocking::Pool::try_global().map_or(0, |p| p.num_threads());
}

/// Configures and starts a [`Runtime`]: the scheduler plus I/O and timers.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::builder()
///     .maxprocs(2)
///     .thread_name(|i| format!("app-worker-{i}"))
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     goro::time::sleep(std::time::Duration::from_millis(1)).await;
/// });
/// assert_eq!(rt.maxprocs(), 2);
/// ```
#[must_use = "a Builder does nothing until `build` is called"]
pub struct Builder {
    inner: goro_executor::Builder,
    help_blocking_pool: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            inner: goro_executor::Builder::new(),
            help_blocking_pool: true,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("inner", &self.inner)
            .field("help_blocking_pool", &self.help_blocking_pool)
            .finish()
    }
}

impl Builder {
    /// Applies one setting of the executor's builder, keeping the facade's
    /// own.
    fn with_inner(self, f: impl FnOnce(goro_executor::Builder) -> goro_executor::Builder) -> Self {
        Builder {
            inner: f(self.inner),
            ..self
        }
    }

    /// A builder with the defaults: as many workers as
    /// [`goro::procs::detect`](crate::procs::detect) says, named
    /// `goro-worker-N`, panics caught per task.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of workers (Go's `GOMAXPROCS`); see
    /// [`goro_executor::Builder::maxprocs`].
    pub fn maxprocs(self, n: usize) -> Self {
        self.with_inner(|b| b.maxprocs(n))
    }

    /// Takes the worker count from `watcher` (and follows it, if it is
    /// automatic) instead of detecting it from `/`; see
    /// [`goro_executor::Builder::maxprocs_watcher`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use goro::procs::MaxProcsWatcher;
    ///
    /// // Whatever the cgroup limit, a machine of 1 CPU gets 1 worker.
    /// let watcher = MaxProcsWatcher::with_root_and_cpus(Path::new("/"), None, 1)?;
    /// let rt = goro::Runtime::builder().maxprocs_watcher(watcher).build()?;
    /// assert_eq!(rt.maxprocs(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn maxprocs_watcher(self, watcher: crate::procs::MaxProcsWatcher) -> Self {
        self.with_inner(|b| b.maxprocs_watcher(watcher))
    }

    /// Names worker threads; `f` gets the index of the worker (Go's P)
    /// that the thread starts with. The default is `goro-worker-N`, in
    /// every runtime, the global one included. A thread that takes a
    /// worker over when another blocks (see [`blocking`](crate::blocking))
    /// is named after that worker, so two threads can share a name, as
    /// all of tokio's workers do; Go numbers its threads (`M`s) instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder()
    ///     .maxprocs(1)
    ///     .thread_name(|i| format!("api-{i}"))
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(rt.spawn(async {
    ///     std::thread::current().name().unwrap().to_owned()
    /// }));
    /// assert_eq!(name.unwrap(), "api-0");
    /// ```
    pub fn thread_name(self, f: impl Fn(usize) -> String + Send + Sync + 'static) -> Self {
        self.with_inner(|b| b.thread_name(f))
    }

    /// The stack size of worker threads, in bytes.
    pub fn thread_stack_size(self, bytes: usize) -> Self {
        self.with_inner(|b| b.thread_stack_size(bytes))
    }

    /// Runs `f` on each worker thread when it starts.
    pub fn on_thread_start(self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.with_inner(|b| b.on_thread_start(f))
    }

    /// Runs `f` on each worker thread just before it exits.
    pub fn on_thread_stop(self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.with_inner(|b| b.on_thread_stop(f))
    }

    /// Makes a panic in any task abort the process; see
    /// [`goro_executor::Builder::panic_aborts`].
    pub fn panic_aborts(self, yes: bool) -> Self {
        self.with_inner(|b| b.panic_aborts(yes))
    }

    /// How long one poll may hold a worker before the monitor retakes its
    /// P; see [`goro_executor::Builder::retake_after`].
    pub fn retake_after(self, after: Duration) -> Self {
        self.with_inner(|b| b.retake_after(after))
    }

    /// Makes the monitor thread print a `SCHED` line to stderr every
    /// `every` (Go's `GODEBUG=schedtrace`); without this call
    /// `GORO_SCHEDTRACE=<ms>` decides. See
    /// [`goro_executor::Builder::schedtrace`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder()
    ///     .schedtrace(std::time::Duration::from_secs(1))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn schedtrace(self, every: Duration) -> Self {
        self.with_inner(|b| b.schedtrace(every))
    }

    /// Whether a worker with nothing to do runs a queued job of the global
    /// blocking pool ([`unblock`](crate::unblock), [`goro::fs`](crate::fs),
    /// [`Unblock`](crate::Unblock)) rather than sleep. On by default.
    ///
    /// When many short jobs queue up (file reads, `stat` calls), letting
    /// idle workers run some of them saves each one a sleeping worker's
    /// wake-up to run the task that awaits it: 100,000 reads of a 4 KiB
    /// file from 1,000 tasks went from about 200,000 to 280,000 a second
    /// on 2 cores (`benches/README.md`, "Blocking offload"). Workers take
    /// jobs only while every pool thread is busy and the pool's recent jobs
    /// ran shorter than [`goro_blocking::HELP_MAX_JOB`] (50 µs); a job that
    /// lasts anyway loses its worker the P as any long poll does (see
    /// [`Builder::retake_after`]), so the other tasks keep running. A job
    /// runs as it would on a pool thread: outside the runtime, where
    /// [`block_on`](crate::block_on) works. Turn it off to keep every job
    /// on the pool's threads, for example when jobs may block forever
    /// (reading a terminal) and a worker's thread should never be the one.
    ///
    /// Go has no pool: a goroutine makes its blocking call on its own
    /// thread, which keeps its P unless the call lasts (`entersyscall`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder()
    ///     .maxprocs(1)
    ///     .help_blocking_pool(false)
    ///     .build()
    ///     .unwrap();
    /// let n = rt.block_on(async { goro::unblock(|| 6 * 7).await.unwrap() });
    /// assert_eq!(n, 42);
    /// assert_eq!(rt.handle().stats().blocking_jobs_helped, 0);
    /// ```
    pub fn help_blocking_pool(self, yes: bool) -> Self {
        Builder {
            help_blocking_pool: yes,
            ..self
        }
    }

    /// Starts the workers and the monitor thread.
    ///
    /// # Errors
    /// See [`goro_executor::Builder::build`].
    pub fn build(self) -> Result<Runtime, BuildError> {
        let mut inner = self.inner.driver(driver()?).stats_hook(fill_stats);
        if self.help_blocking_pool {
            inner = inner.help_with(Arc::new(goro_blocking::GlobalPoolJobs));
        }
        Ok(Runtime {
            inner: inner.build()?,
        })
    }
}

/// Worker threads running tasks M:N, with I/O and timers: the scheduler of
/// `goro-executor` driving the reactor of `goro-reactor`.
///
/// Dropping it stops the workers, drops every task and waits for every
/// poll in progress to return, however long that takes (a task stuck in a
/// blocking call makes it wait as long); [`Runtime::shutdown_timeout`] and
/// [`Runtime::shutdown_background`] bound that wait. See
/// [`goro_executor::Runtime`]'s Shutdown section.
///
/// # Examples
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
///
/// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
/// let echoed = rt.block_on(async {
///     let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     goro::go(async move {
///         let (mut s, _) = listener.accept().await?;
///         let mut buf = [0; 4];
///         s.read_exact(&mut buf).await?;
///         s.write_all(&buf).await?;
///         std::io::Result::Ok(())
///     });
///     let mut c = goro::net::TcpStream::connect(addr).await?;
///     c.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     c.read_exact(&mut buf).await?;
///     std::io::Result::Ok(buf)
/// });
/// assert_eq!(&echoed.unwrap(), b"ping");
/// ```
pub struct Runtime {
    inner: goro_executor::Runtime,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
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
        self.inner.handle()
    }

    /// The number of workers.
    pub fn maxprocs(&self) -> usize {
        self.inner.maxprocs()
    }

    /// Spawns a task (the equivalent of `go f()`).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.handle().spawn_at(future, Location::caller())
    }

    /// Same as [`Runtime::spawn`], named after Go's `go` statement.
    #[track_caller]
    pub fn go<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.handle().spawn_at(future, Location::caller())
    }

    /// Runs `future` to completion on the calling thread, which polls the
    /// reactor while it waits if no worker does.
    ///
    /// # Panics
    /// When called from a worker thread of any goro runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner.block_on(future)
    }

    /// Shuts down like a drop, but waits at most `limit` for the runtime's
    /// threads, leaving a thread stuck in a poll running, detached; returns
    /// whether every thread stopped. See
    /// [`goro_executor::Runtime::shutdown_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    /// rt.spawn(goro::time::sleep(std::time::Duration::from_secs(3600)));
    /// assert!(rt.shutdown_timeout(std::time::Duration::from_secs(10)));
    /// ```
    pub fn shutdown_timeout(self, limit: Duration) -> bool {
        self.inner.shutdown_timeout(limit)
    }

    /// Shuts down without waiting for the runtime's threads; see
    /// [`goro_executor::Runtime::shutdown_background`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    /// rt.shutdown_background();
    /// ```
    pub fn shutdown_background(self) {
        self.inner.shutdown_background();
    }
}
