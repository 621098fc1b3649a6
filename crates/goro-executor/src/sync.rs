//! One place to import synchronisation primitives from, so the scheduler's own
//! code is model-checked by loom (`RUSTFLAGS="--cfg loom"`) and runs on std
//! otherwise. Every atomic, lock and thread the scheduler synchronises
//! through comes from here, so the loom models run the real worker loop
//! (`loom_tests`). Plain std atomics remain only where no scheduling
//! decision reads them: process-wide statics (task ids, the coarse clock),
//! counters (`Stats`), the latency samples, and a task's own metadata.

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, fence,
};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, fence,
};

/// `std::cell::UnsafeCell` with loom's access API, so code written against
/// it is checked by loom and free otherwise.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(t: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(t))
    }

    /// Calls `f` with a pointer to the contents; dereferencing it is the
    /// caller's promise of exclusive access.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Threads: loom's under loom, so that the runtime's own worker threads are
/// model threads there.
pub(crate) mod thread {
    #[cfg(loom)]
    pub(crate) use loom::thread::{Builder, JoinHandle};
    #[cfg(not(loom))]
    pub(crate) use std::thread::{Builder, JoinHandle};
}

/// Locks a mutex, ignoring poisoning: every critical section in the scheduler
/// leaves its data consistent before any call that could panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
