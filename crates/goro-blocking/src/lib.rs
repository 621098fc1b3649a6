//! goro's blocking pool: run blocking code (file I/O, FFI, DNS, heavy
//! computation) on a bounded set of threads and await the result, so async
//! workers never stall.
//!
//! - [`unblock`] (alias [`spawn_blocking`]) runs a closure on the global
//!   [`Pool`] and returns a [`JoinHandle`].
//! - [`Unblock`] turns a blocking `Read`/`Write`/`Seek` value into
//!   `AsyncRead`/`AsyncWrite`/`AsyncSeek`, and an `Iterator` into a `Stream`.
//! - [`fs`] mirrors `std::fs` with async functions whose errors name the path.
//!
//! The pool keeps its thread count bounded under any load: it grows past
//! one thread per CPU only for jobs that stay blocked (see [`GROW_TICK`]),
//! never past its cap (512 unless `GORO_MAX_BLOCKING_THREADS` says
//! otherwise), and shrinks back after the keep-alive.
//!
//! The `goro` facade's runtime workers, when they have nothing else to do,
//! run some of the global pool's queued jobs themselves while every pool
//! thread is busy and recent jobs were short ([`GlobalPoolJobs`],
//! [`HELP_MAX_JOB`]).
//!
//! # Examples
//!
//! ```
//! use goro::block_on;
//!
//! let n = block_on(goro::unblock(|| (1..=10u64).product::<u64>()));
//! assert_eq!(n.unwrap(), 3_628_800);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod builder;
mod env;
mod error;
pub mod fs;
mod help;
mod monitor;
mod pool;
mod shared;
mod sleepers;
mod stream;
mod unblock;
mod worker;

pub use builder::{Builder, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS};
pub use env::{ENV_VAR, MAX_THREADS_LIMIT, max_threads_from_env, parse_max_threads};
pub use error::{InvalidValue, MaxThreadsError};
pub use goro_executor::{JoinError, JoinHandle};
pub use help::{GlobalPoolJobs, HELP_MAX_JOB};
pub use monitor::GROW_TICK;
pub use pool::Pool;
pub use unblock::{DEFAULT_CAPACITY, Unblock};

/// Runs `f` on the global blocking pool ([`Pool::global`]) and returns a
/// handle to await its result. A panic in `f` reaches the handle as
/// [`JoinError::is_panic`]; dropping the handle does not cancel `f`.
///
/// # Panics
///
/// On first use, when `GORO_MAX_BLOCKING_THREADS` holds an invalid value.
///
/// # Examples
///
/// ```
/// use goro::block_on;
///
/// let text = block_on(goro::unblock(|| std::fs::read_to_string("Cargo.toml")));
/// assert!(text.unwrap().unwrap().contains("goro-blocking"));
/// ```
#[track_caller]
pub fn unblock<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Pool::global().spawn(f)
}

/// The same as [`unblock`], under tokio's name.
///
/// # Examples
///
/// ```
/// let h = goro::spawn_blocking(|| "done");
/// assert_eq!(goro::block_on(h).unwrap(), "done");
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Pool::global().spawn(f)
}
