//! [`Builder`]: the settings of a [`Pool`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::env::max_threads_from_env;
use crate::error::MaxThreadsError;
use crate::pool::Pool;

/// The default thread cap of a pool, as in tokio.
///
/// # Examples
///
/// ```
/// assert_eq!(goro_blocking::DEFAULT_MAX_THREADS, 512);
/// ```
pub const DEFAULT_MAX_THREADS: usize = 512;

/// How long an idle pool thread waits for work before it exits, by default.
///
/// # Examples
///
/// ```
/// assert_eq!(goro_blocking::DEFAULT_KEEP_ALIVE.as_secs(), 10);
/// ```
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The settings a [`Pool`] is built from.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let pool = goro_blocking::Pool::builder()
///     .max_threads(8)
///     .keep_alive(Duration::from_millis(500))
///     .thread_name("files")
///     .build();
/// assert_eq!(pool.max_threads(), 8);
/// ```
#[derive(Clone)]
pub struct Builder {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) stack_size: Option<usize>,
    pub(crate) name: Arc<str>,
}

impl Builder {
    /// Defaults: [`DEFAULT_MAX_THREADS`], [`DEFAULT_KEEP_ALIVE`], the standard
    /// library's stack size, threads named `goro-blocking`. The environment is
    /// not read; see [`Builder::from_env`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Builder::new().build();
    /// assert_eq!(pool.max_threads(), goro_blocking::DEFAULT_MAX_THREADS);
    /// ```
    pub fn new() -> Self {
        Builder {
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            stack_size: None,
            name: Arc::from("goro-blocking"),
        }
    }

    /// The defaults of [`Builder::new`], with the cap taken from
    /// `GORO_MAX_BLOCKING_THREADS` when it is set. The global pool is built
    /// this way.
    ///
    /// # Errors
    ///
    /// A [`MaxThreadsError`] when the variable is set to anything but a whole
    /// number from 1 to [`MAX_THREADS_LIMIT`](crate::MAX_THREADS_LIMIT).
    ///
    /// # Examples
    ///
    /// ```
    /// match goro_blocking::Builder::from_env() {
    ///     Ok(b) => drop(b.build()),
    ///     Err(e) => eprintln!("{e}"),
    /// }
    /// ```
    pub fn from_env() -> Result<Self, MaxThreadsError> {
        let mut b = Builder::new();
        if let Some(n) = max_threads_from_env()? {
            b.max_threads = n;
        }
        Ok(b)
    }

    /// The most threads the pool runs at once; further work queues.
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::builder().max_threads(2).build();
    /// assert_eq!(pool.max_threads(), 2);
    /// ```
    pub fn max_threads(mut self, n: usize) -> Self {
        assert!(n > 0, "goro-blocking: max_threads must be at least 1");
        self.max_threads = n;
        self
    }

    /// How long an idle thread waits for work before it exits.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::builder()
    ///     .keep_alive(std::time::Duration::from_millis(100))
    ///     .build();
    /// # drop(pool);
    /// ```
    pub fn keep_alive(mut self, d: Duration) -> Self {
        self.keep_alive = d;
        self
    }

    /// The stack size of the pool's threads, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::builder().stack_size(256 * 1024).build();
    /// # drop(pool);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// The name of the pool's threads (the monitor thread adds `-monitor`).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::builder().thread_name("dns").build();
    /// let name = futures_lite::future::block_on(
    ///     pool.spawn(|| std::thread::current().name().map(String::from)),
    /// );
    /// assert_eq!(name.unwrap().as_deref(), Some("dns"));
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.name = Arc::from(name.into());
        self
    }

    /// Creates the pool. No thread starts until work arrives.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = goro_blocking::Pool::builder().build();
    /// assert_eq!(pool.num_threads(), 0);
    /// ```
    pub fn build(self) -> Pool {
        Pool::from_builder(self)
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("stack_size", &self.stack_size)
            .field("name", &self.name)
            .finish()
    }
}
