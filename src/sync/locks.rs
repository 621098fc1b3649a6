//! [`Mutex`], [`RwLock`] and [`Semaphore`]: `async-lock`'s, in thin
//! wrappers whose waiting methods tell the task dump that a task waits on
//! a lock (`[lock]`). Every other method is `async-lock`'s, through
//! `Deref`; the guards are `async-lock`'s.
//!
//! Each wrapper is `#[repr(transparent)]` over the `async-lock` type, so an
//! `Arc` of one is an `Arc` of the other: the `*_arc` methods hand
//! `async-lock` the same allocation.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use async_lock::{
    MutexGuard, MutexGuardArc, RwLockReadGuard, RwLockReadGuardArc, RwLockUpgradableReadGuard,
    RwLockUpgradableReadGuardArc, RwLockWriteGuard, RwLockWriteGuardArc, SemaphoreGuard,
    SemaphoreGuardArc,
};

use crate::WaitReason;
use crate::wait::Noting;

/// The same allocation, as an `Arc` of the wrapped type.
macro_rules! inner_arc {
    ($arc:expr, $inner:ty) => {{
        let raw = Arc::into_raw($arc);
        // SAFETY: the wrapper is `#[repr(transparent)]` over `$inner`, so
        // the two have the same size, alignment and pointer metadata, which
        // is what `Arc::from_raw` asks of a pointer from `Arc::into_raw` of
        // another type; the reference count moves over unchanged.
        unsafe { Arc::from_raw(raw as *const $inner) }
    }};
}

/// An async mutex, Go's `sync.Mutex`: `lock().await` suspends the task,
/// not the thread. `async-lock`'s, whose waits show as `[lock]` in the
/// task dump.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// goro::block_on(async {
///     let m = Arc::new(goro::sync::Mutex::new(0));
///     *m.lock().await += 1;
///     *m.lock_arc().await += 1;
///     assert_eq!(*m.lock().await, 2);
/// });
/// ```
#[repr(transparent)]
pub struct Mutex<T: ?Sized>(async_lock::Mutex<T>);

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex(async_lock::Mutex::new(value))
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting while another task holds it.
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T>> {
        Noting::new(WaitReason::Lock, self.0.lock())
    }

    /// The value, through a unique reference (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

impl<T: ?Sized + 'static> Mutex<T> {
    /// Locks the mutex behind an `Arc`, for a guard that owns a reference
    /// (and can move into another task).
    pub fn lock_arc(self: &Arc<Self>) -> impl Future<Output = MutexGuardArc<T>> + 'static {
        let inner = inner_arc!(self.clone(), async_lock::Mutex<T>);
        async move { Noting::new(WaitReason::Lock, inner.lock_arc()).await }
    }

    /// [`lock_arc`](Mutex::lock_arc) without waiting: `None` if held.
    pub fn try_lock_arc(self: &Arc<Self>) -> Option<MutexGuardArc<T>> {
        inner_arc!(self.clone(), async_lock::Mutex<T>).try_lock_arc()
    }

    /// [`lock_arc`](Mutex::lock_arc), blocking the thread: not in a task.
    pub fn lock_arc_blocking(self: &Arc<Self>) -> MutexGuardArc<T> {
        inner_arc!(self.clone(), async_lock::Mutex<T>).lock_arc_blocking()
    }
}

/// An async reader-writer lock, Go's `sync.RWMutex`. `async-lock`'s, whose
/// waits show as `[lock]` in the task dump.
///
/// # Examples
///
/// ```
/// goro::block_on(async {
///     let l = goro::sync::RwLock::new(vec![1]);
///     assert_eq!(l.read().await.len(), 1);
///     l.write().await.push(2);
///     assert_eq!(*l.read().await, [1, 2]);
/// });
/// ```
#[repr(transparent)]
pub struct RwLock<T: ?Sized>(async_lock::RwLock<T>);

impl<T> RwLock<T> {
    /// A new unlocked lock.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock(async_lock::RwLock::new(value))
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Shared access, waiting while a writer holds or waits for the lock.
    pub fn read(&self) -> impl Future<Output = RwLockReadGuard<'_, T>> {
        Noting::new(WaitReason::Lock, self.0.read())
    }

    /// Exclusive access, waiting while anyone holds the lock.
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> {
        Noting::new(WaitReason::Lock, self.0.write())
    }

    /// Shared access that can later become exclusive.
    pub fn upgradable_read(&self) -> impl Future<Output = RwLockUpgradableReadGuard<'_, T>> {
        Noting::new(WaitReason::Lock, self.0.upgradable_read())
    }

    /// The value, through a unique reference (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

impl<T: 'static> RwLock<T> {
    /// [`read`](RwLock::read) behind an `Arc`, for an owning guard.
    pub fn read_arc(self: &Arc<Self>) -> impl Future<Output = RwLockReadGuardArc<T>> + 'static {
        let inner = inner_arc!(self.clone(), async_lock::RwLock<T>);
        async move { Noting::new(WaitReason::Lock, inner.read_arc()).await }
    }

    /// [`write`](RwLock::write) behind an `Arc`, for an owning guard.
    pub fn write_arc(self: &Arc<Self>) -> impl Future<Output = RwLockWriteGuardArc<T>> + 'static {
        let inner = inner_arc!(self.clone(), async_lock::RwLock<T>);
        async move { Noting::new(WaitReason::Lock, inner.write_arc()).await }
    }

    /// [`upgradable_read`](RwLock::upgradable_read) behind an `Arc`.
    pub fn upgradable_read_arc(
        self: &Arc<Self>,
    ) -> impl Future<Output = RwLockUpgradableReadGuardArc<T>> + 'static {
        let inner = inner_arc!(self.clone(), async_lock::RwLock<T>);
        async move { Noting::new(WaitReason::Lock, inner.upgradable_read_arc()).await }
    }

    /// [`read_arc`](RwLock::read_arc) without waiting.
    pub fn try_read_arc(self: &Arc<Self>) -> Option<RwLockReadGuardArc<T>> {
        inner_arc!(self.clone(), async_lock::RwLock<T>).try_read_arc()
    }

    /// [`write_arc`](RwLock::write_arc) without waiting.
    pub fn try_write_arc(self: &Arc<Self>) -> Option<RwLockWriteGuardArc<T>> {
        inner_arc!(self.clone(), async_lock::RwLock<T>).try_write_arc()
    }

    /// [`upgradable_read_arc`](RwLock::upgradable_read_arc) without waiting.
    pub fn try_upgradable_read_arc(self: &Arc<Self>) -> Option<RwLockUpgradableReadGuardArc<T>> {
        inner_arc!(self.clone(), async_lock::RwLock<T>).try_upgradable_read_arc()
    }
}

/// A counting semaphore: at most `n` holders of a permit at once (Go's
/// buffered channel used as one). `async-lock`'s, whose waits show as
/// `[lock]` in the task dump.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// goro::block_on(async {
///     let s = Arc::new(goro::sync::Semaphore::new(2));
///     let a = s.acquire().await;
///     let b = s.acquire_arc().await;
///     assert!(s.try_acquire().is_none());
///     drop((a, b));
///     assert_eq!(s.available_permits(), 2);
/// });
/// ```
#[repr(transparent)]
pub struct Semaphore(async_lock::Semaphore);

impl Semaphore {
    /// A semaphore with `n` permits.
    pub const fn new(n: usize) -> Semaphore {
        Semaphore(async_lock::Semaphore::new(n))
    }

    /// Takes a permit, waiting while there is none.
    pub fn acquire(&self) -> impl Future<Output = SemaphoreGuard<'_>> {
        Noting::new(WaitReason::Lock, self.0.acquire())
    }

    /// [`acquire`](Semaphore::acquire) behind an `Arc`, for a permit that
    /// owns a reference (and can move into another task).
    pub fn acquire_arc(self: &Arc<Self>) -> impl Future<Output = SemaphoreGuardArc> + 'static {
        let inner = inner_arc!(self.clone(), async_lock::Semaphore);
        async move { Noting::new(WaitReason::Lock, inner.acquire_arc()).await }
    }

    /// [`acquire_arc`](Semaphore::acquire_arc) without waiting.
    pub fn try_acquire_arc(self: &Arc<Self>) -> Option<SemaphoreGuardArc> {
        inner_arc!(self.clone(), async_lock::Semaphore).try_acquire_arc()
    }

    /// [`acquire_arc`](Semaphore::acquire_arc), blocking the thread.
    pub fn acquire_arc_blocking(self: &Arc<Self>) -> SemaphoreGuardArc {
        inner_arc!(self.clone(), async_lock::Semaphore).acquire_arc_blocking()
    }
}

macro_rules! wrapper_impls {
    ($name:ident<$t:ident>, $inner:ty) => {
        impl<$t: ?Sized> Deref for $name<$t> {
            type Target = $inner;

            fn deref(&self) -> &$inner {
                &self.0
            }
        }

        impl<$t: ?Sized + fmt::Debug> fmt::Debug for $name<$t> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl<$t> From<$t> for $name<$t> {
            fn from(value: $t) -> Self {
                $name::new(value)
            }
        }

        impl<$t: Default> Default for $name<$t> {
            fn default() -> Self {
                $name::new($t::default())
            }
        }
    };
}

wrapper_impls!(Mutex<T>, async_lock::Mutex<T>);
wrapper_impls!(RwLock<T>, async_lock::RwLock<T>);

impl Deref for Semaphore {
    type Target = async_lock::Semaphore;

    fn deref(&self) -> &async_lock::Semaphore {
        &self.0
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
