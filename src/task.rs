//! Tasks under the names tokio users type: `goro::task::spawn`,
//! `goro::task::spawn_blocking`, `goro::task::yield_now`,
//! `goro::task::JoinSet`. Everything here is also at the crate root, where
//! Go's names are: [`crate::go`] is `spawn`, [`unblock`](crate::unblock)
//! is `spawn_blocking`, [`blocking`](crate::blocking) is `block_in_place`.
//!
//! | tokio | goro |
//! |---|---|
//! | `tokio::spawn` / `task::spawn` | [`spawn`] (= [`crate::go`]) |
//! | `task::spawn_blocking(f)` | [`spawn_blocking`] (= [`unblock`](crate::unblock)): `f` on the bounded blocking pool |
//! | `task::block_in_place(f)` | [`block_in_place`] (= [`blocking`](crate::blocking)): `f` on this thread, the worker's queue handed to another thread |
//! | `task::yield_now` | [`yield_now`] |
//! | `task::JoinSet` | [`JoinSet`] |
//! | `tokio::join!`, `tokio::try_join!` | [`goro::join!`](crate::join), [`goro::try_join!`](crate::try_join) |
//! | `task::spawn_local`, `LocalSet` | [`spawn_pinned`](crate::spawn_pinned): a task that stays on one thread |
//! | `task::consume_budget` | [`coop`](crate::coop), or [`should_yield`] and [`yield_now`] |
//!
//! # Examples
//!
//! ```
//! use goro::task;
//!
//! goro::block_on(async {
//!     let sum = task::spawn_blocking(|| (1..=100u64).sum::<u64>());
//!     let h = task::spawn(async { "async" });
//!     task::yield_now().await;
//!     assert_eq!(sum.await.unwrap(), 5050);
//!     assert_eq!(h.await.unwrap(), "async");
//! });
//! ```

pub use crate::{
    JoinError, JoinHandle, JoinSet, TaskId, go, should_yield, spawn, spawn_blocking, yield_now,
};

/// Runs `f`, a call that blocks its thread, on this thread while the
/// worker's queued tasks move to another: tokio's `block_in_place`, goro's
/// [`blocking`](crate::blocking) (Go's `entersyscallblock`).
///
/// # Examples
///
/// ```
/// goro::block_on(goro::go(async {
///     let n = goro::task::block_in_place(|| {
///         std::thread::sleep(std::time::Duration::from_millis(5));
///         42
///     });
///     assert_eq!(n, 42);
/// }))
/// .unwrap();
/// ```
pub fn block_in_place<R>(f: impl FnOnce() -> R) -> R {
    crate::blocking(f)
}
