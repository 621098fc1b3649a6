//! Synchronization for tasks, Go's `sync` package: [`WaitGroup`], and the
//! async locks of [`async-lock`](async_lock): [`Mutex`], [`RwLock`] and
//! [`Semaphore`] in thin wrappers whose waits show as `[lock]` in the task
//! dump, the rest re-exported.
//!
//! | Go | goro |
//! |---|---|
//! | `sync.WaitGroup` | [`WaitGroup`] |
//! | `sync.Mutex` | [`Mutex`] (`lock().await`; the guard unlocks on drop) |
//! | `sync.RWMutex` | [`RwLock`] |
//! | `sync.Once` / `sync.OnceValue` | [`OnceCell`] |
//! | a buffered channel used as a semaphore | [`Semaphore`] |
//! | (`x/sync/semaphore.Weighted`) | [`Semaphore`] (one permit at a time) |
//! | a barrier built from a `WaitGroup` | [`Barrier`] |
//! | `make(chan T, 1)` for one reply | [`oneshot::channel`] |
//!
//! These locks suspend the task instead of blocking its worker thread, so
//! holding one across an `.await` is fine. For short critical sections that
//! never `.await`, `std::sync::Mutex` is cheaper and also fine.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use goro::sync::{Mutex, WaitGroup};
//!
//! goro::block_on(async {
//!     let total = Arc::new(Mutex::new(0));
//!     let wg = WaitGroup::new();
//!     for i in 1..=10 {
//!         let total = total.clone();
//!         wg.go(async move { *total.lock().await += i });
//!     }
//!     wg.wait().await;
//!     assert_eq!(*total.lock().await, 55);
//! });
//! ```

mod locks;
pub mod oneshot;
mod wait_group;

pub use async_lock::{
    Barrier, BarrierWaitResult, MutexGuard, MutexGuardArc, OnceCell, RwLockReadGuard,
    RwLockReadGuardArc, RwLockUpgradableReadGuard, RwLockUpgradableReadGuardArc, RwLockWriteGuard,
    RwLockWriteGuardArc, SemaphoreGuard, SemaphoreGuardArc,
};
pub use locks::{Mutex, RwLock, Semaphore};
pub use wait_group::WaitGroup;
