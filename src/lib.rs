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
//! its netpoller; there is no reactor thread.
//!
//! Crates behind the facade: `goro-executor` (the scheduler), `goro-reactor`
//! (I/O and timers), `goro-blocking` (the blocking pool), `goro-procs` (how
//! many workers). `src/runtime.rs` wires the first two together.

use std::future::Future;
use std::panic::Location;
use std::sync::OnceLock;

pub use goro_blocking::{Unblock, fs, spawn_blocking, unblock};
pub use goro_executor::{
    BuildError, Handle, JoinError, JoinHandle, Stats, TaskId, YieldNow, blocking, should_yield,
    yield_now,
};
pub use goro_macros::{main, test};
pub use goro_procs as procs;
pub use goro_reactor::{Async, coop, net, time};
pub mod cancel;
mod runtime;
pub use runtime::{Builder, Runtime};
pub mod chan;
mod group;
mod pinned;
pub mod select;
pub mod sync;
pub use cancel::CancelToken;
pub use group::TaskGroup;
pub use pinned::{LockedThread, PinnedError, PinnedHandle, spawn_pinned};

/// The global runtime that [`go`] and [`block_on`] use outside any runtime,
/// started on first use like Go's.
fn global() -> &'static Runtime {
    static GLOBAL: OnceLock<Runtime> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        match Runtime::builder()
            .thread_name(|i| format!("goro-{i}"))
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("goro: cannot start the global runtime: {e}"),
        }
    })
}

/// Spawns a task, like Go's `go` statement, and returns its [`JoinHandle`].
///
/// Inside a task or a `block_on`, the task joins that runtime; anywhere else
/// it goes to a global runtime started on first use. Dropping the handle
/// detaches the task (fire-and-forget).
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
