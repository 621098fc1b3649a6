//! [`Pool`]: the handle to a blocking pool, and the global default pool.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, OnceLock};

use goro_executor::JoinHandle;

use crate::builder::Builder;
use crate::shared::Shared;

/// The pool behind [`Pool::global`].
static GLOBAL: OnceLock<Pool> = OnceLock::new();

/// A set of threads for blocking work: file I/O, FFI, DNS, CPU-heavy
/// closures, anything that would stall an async worker.
///
/// Threads start on demand, up to [`max_threads`](Builder::max_threads);
/// beyond that, work queues. A new thread starts at once while fewer threads
/// than CPUs run; past that only when a running job has held its thread for
/// longer than [`GROW_TICK`](crate::GROW_TICK) asleep in the kernel (it is
/// blocked, as Go judges a syscall) while work waits, or when the queue has
/// not moved for about a millisecond. Idle threads exit after the
/// [`keep_alive`](Builder::keep_alive). Submitting takes no lock unless a
/// sleeping thread must be woken.
///
/// Most programs use the global pool through [`unblock`](crate::unblock);
/// build a `Pool` for separate limits or for tests. Dropping a `Pool` lets
/// its threads finish the queued work and exit; the handles stay valid.
///
/// # Examples
///
/// ```
/// use futures_lite::future::block_on;
///
/// let pool = goro_blocking::Pool::builder().max_threads(4).build();
/// let len = block_on(pool.spawn(|| std::fs::read("Cargo.toml").map(|b| b.len())));
/// assert!(len.unwrap().unwrap() > 0);
/// ```
pub struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    /// A pool with the default settings ([`Builder::new`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::new();
    /// assert_eq!(pool.max_threads(), goro_blocking::DEFAULT_MAX_THREADS);
    /// ```
    pub fn new() -> Self {
        Builder::new().build()
    }

    /// Settings for a new pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::builder().max_threads(64).build();
    /// assert_eq!(pool.max_threads(), 64);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn from_builder(b: Builder) -> Self {
        Pool {
            shared: Arc::new(Shared::new(b)),
        }
    }

    /// The process-wide pool that [`unblock`](crate::unblock) uses, created
    /// on first use from [`Builder::from_env`].
    ///
    /// # Panics
    ///
    /// On first use, when `GORO_MAX_BLOCKING_THREADS` holds an invalid value
    /// (the message says which and why). Call [`Builder::from_env`] early to
    /// report it as an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::global();
    /// assert!(pool.max_threads() >= 1);
    /// ```
    pub fn global() -> &'static Pool {
        GLOBAL.get_or_init(|| match Builder::from_env() {
            Ok(b) => b.build(),
            Err(e) => panic!("goro-blocking: {e}"),
        })
    }

    /// The global pool if something has used it already, without creating
    /// it: for statistics, which should not start a pool (or panic on a bad
    /// `GORO_MAX_BLOCKING_THREADS`) just to report it has no threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let threads = goro_blocking::Pool::try_global().map_or(0, |p| p.num_threads());
    /// let _ = goro_blocking::Pool::global();
    /// assert!(goro_blocking::Pool::try_global().is_some());
    /// # let _ = threads;
    /// ```
    pub fn try_global() -> Option<&'static Pool> {
        GLOBAL.get()
    }

    /// The state the pool's threads share (`help` reads its queue).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `f` on one of the pool's threads. Await the handle for its
    /// result; a panic in `f` reaches the handle as
    /// [`JoinError::is_panic`](goro_executor::JoinError::is_panic). Dropping
    /// the handle does not cancel `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::block_on;
    ///
    /// let pool = goro_blocking::Pool::builder().max_threads(2).build();
    /// assert_eq!(block_on(pool.spawn(|| 6 * 7)).unwrap(), 42);
    ///
    /// let err = block_on(pool.spawn(|| -> () { panic!("disk on fire") })).unwrap_err();
    /// assert_eq!(err.panic_message(), Some("disk on fire"));
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // The future finishes in its first poll and wakes nothing, so the
        // task is never rescheduled: the pool queues the runnable itself
        // (no reference to the pool to clone per job). Were it ever
        // rescheduled, running it in place is correct, if not offloaded.
        let (runnable, handle) = goro_executor::spawn_unscheduled(
            async move { f() },
            Location::caller(),
            |r: goro_executor::Runnable<goro_executor::TaskMeta>| {
                r.run();
            },
        );
        self.shared.submit(runnable);
        handle
    }

    /// The thread cap.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(goro_blocking::Pool::builder().max_threads(3).build().max_threads(), 3);
    /// ```
    pub fn max_threads(&self) -> usize {
        self.shared.config.max_threads
    }

    /// Worker threads alive now (busy or idle), not counting the monitor
    /// thread that runs while work is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::block_on;
    ///
    /// let pool = goro_blocking::Pool::builder().max_threads(4).build();
    /// assert_eq!(pool.num_threads(), 0);
    /// block_on(pool.spawn(|| ())).unwrap();
    /// assert!((1..=4).contains(&pool.num_threads()));
    /// ```
    pub fn num_threads(&self) -> usize {
        self.shared.threads.load(SeqCst)
    }

    /// The most worker threads this pool has had at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::block_on;
    ///
    /// let pool = goro_blocking::Pool::builder().max_threads(4).build();
    /// block_on(pool.spawn(|| ())).unwrap();
    /// assert!(pool.peak_threads() >= 1 && pool.peak_threads() <= 4);
    /// ```
    pub fn peak_threads(&self) -> usize {
        self.shared.peak.load(Relaxed)
    }

    /// Threads waiting for work (searching the queue or asleep). A snapshot:
    /// it may be stale by the time it is read.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::new();
    /// assert_eq!(pool.num_idle(), 0);
    /// ```
    pub fn num_idle(&self) -> usize {
        self.shared.num_idle()
    }

    /// Jobs waiting for a thread. A snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::new();
    /// assert_eq!(pool.queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        self.shared.queue.len()
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, SeqCst);
        self.shared.sleepers.wake_all();
        self.shared.monitor.unpark();
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("max_threads", &self.max_threads())
            .field("num_threads", &self.num_threads())
            .field("num_idle", &self.num_idle())
            .field("queued", &self.queued())
            .finish()
    }
}
