//! Locking a [`std::sync::Mutex`] while ignoring poisoning: the one copy of
//! this helper that goro's crates share (the executor keeps its own in
//! `goro_executor::sync`, which works on loom's `Mutex` under `cfg(loom)`).
//!
//! A mutex is poisoned when a thread panics while holding it. goro's
//! critical sections leave their data consistent before anything that could
//! panic, and a runtime must not turn one task's panic into a panic of every
//! later caller, so the poison flag carries no information here. This is an
//! internal crate of goro; it has no other use and no stability promise.
//!
//! Its only dependents are goro's crates and tests; it depends on nothing,
//! so every crate can use it without bending the dependency graph.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, taking the guard even if another thread panicked while
/// holding it.
///
/// # Example
/// ```
/// use std::sync::Mutex;
///
/// let m = Mutex::new(1);
/// // Poison it: a thread panics while holding the lock.
/// let _ = std::thread::scope(|s| {
///     s.spawn(|| {
///         let _g = m.lock().unwrap();
///         panic!("poisoning");
///     })
///     .join()
/// });
/// assert!(m.is_poisoned());
/// *goro_lock::lock(&m) += 1;
/// assert_eq!(*goro_lock::lock(&m), 2);
/// ```
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
