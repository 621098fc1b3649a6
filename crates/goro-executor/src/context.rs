//! The thread-local context: which runtime `spawn` targets on this thread,
//! and, on a worker thread, the worker whose P (`Core`) this thread runs.

use std::cell::{Cell, RefCell};
use std::ptr;

use crate::runtime::Handle;
use crate::worker::WorkerContext;

struct Context {
    /// The runtime entered on this thread (by `block_on` or a worker).
    handle: RefCell<Option<Handle>>,
}

// Under loom, model threads may share one OS thread: loom's thread-local
// (which takes no `const` initialiser) keeps them apart.
#[cfg(not(loom))]
thread_local! {
    static CONTEXT: Context = const { Context { handle: RefCell::new(None) } };
}
#[cfg(loom)]
loom::thread_local! {
    static CONTEXT: Context = Context { handle: RefCell::new(None) };
}

// The worker this thread runs, set for the lifetime of a worker thread's
// run loop. A thread-local of its own, apart from `CONTEXT`: it needs no
// destructor, so reading it is one load with no lazy-registration check
// (several reads per spawn and per finished task, see `with_worker`).
#[cfg(not(loom))]
thread_local! {
    static WORKER: Cell<*const WorkerContext> = const { Cell::new(ptr::null()) };
}
#[cfg(loom)]
loom::thread_local! {
    static WORKER: Cell<*const WorkerContext> = Cell::new(ptr::null());
}

/// Restores the previously entered runtime when dropped.
pub(crate) struct EnterGuard {
    previous: Option<Handle>,
}

/// Makes `handle` this thread's current runtime until the guard drops.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let previous = CONTEXT.with(|c| c.handle.replace(Some(handle)));
    EnterGuard { previous }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // The thread-local may already be gone during thread teardown.
        let _ = CONTEXT.try_with(|c| c.handle.replace(previous));
    }
}

/// Calls `f` with this thread's current runtime, if any, without cloning it.
#[inline(always)]
pub(crate) fn with_handle<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    let r = CONTEXT.try_with(|c| match c.handle.try_borrow() {
        Ok(h) => (f.take().unwrap())(h.as_ref()),
        Err(_) => (f.take().unwrap())(None),
    });
    match r {
        Ok(r) => r,
        Err(_) => (f.take().unwrap())(None),
    }
}

/// Runs `f` with this thread marked as running worker `ctx`.
pub(crate) fn set_worker<R>(ctx: &WorkerContext, f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = WORKER.try_with(|c| c.set(ptr::null()));
        }
    }
    WORKER.with(|c| c.set(ctx));
    let _reset = Reset;
    f()
}

/// Calls `f` with the worker this thread runs, if it is a worker thread.
#[inline(always)]
pub(crate) fn with_worker<R>(f: impl FnOnce(Option<&WorkerContext>) -> R) -> R {
    let p = WORKER.try_with(Cell::get).unwrap_or(ptr::null());
    // SAFETY: the pointer is set only by `set_worker`, which clears it before
    // the `WorkerContext` it borrows goes away, and only this thread reads it.
    f(unsafe { p.as_ref() })
}

#[cfg(not(loom))]
thread_local! {
    /// Set while a thread that holds no P polls a driver.
    static REMOTE_POLL: Cell<bool> = const { Cell::new(false) };
}
#[cfg(loom)]
loom::thread_local! {
    static REMOTE_POLL: Cell<bool> = Cell::new(false);
}

/// Runs `f`, a driver poll on a thread that holds no P, marking the tasks
/// it wakes as woken from I/O or a timer (see `Shared::woken`).
pub(crate) fn remote_poll<R>(f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = REMOTE_POLL.try_with(|c| c.set(false));
        }
    }
    REMOTE_POLL.with(|c| c.set(true));
    let _reset = Reset;
    f()
}

/// Whether this thread is inside [`remote_poll`].
#[inline]
pub(crate) fn in_remote_poll() -> bool {
    REMOTE_POLL.try_with(Cell::get).unwrap_or(false)
}

#[cfg(not(loom))]
thread_local! {
    /// How many `block_on` calls are running on this thread (nested ones
    /// count too).
    static BLOCK_ON: Cell<u32> = const { Cell::new(0) };
}
#[cfg(loom)]
loom::thread_local! {
    static BLOCK_ON: Cell<u32> = Cell::new(0);
}

/// Marks this thread as running a `block_on` future until the guard drops.
pub(crate) fn mark_block_on() -> BlockOnMark {
    BLOCK_ON.with(|c| c.set(c.get() + 1));
    BlockOnMark(())
}

/// Ends what [`mark_block_on`] began.
pub(crate) struct BlockOnMark(());

impl Drop for BlockOnMark {
    fn drop(&mut self) {
        let _ = BLOCK_ON.try_with(|c| c.set(c.get() - 1));
    }
}

/// Whether this thread is inside a runtime's `block_on`.
#[inline]
pub(crate) fn in_block_on() -> bool {
    BLOCK_ON.try_with(Cell::get).unwrap_or(0) > 0
}

/// Whether this thread is a worker thread of any goro runtime.
pub(crate) fn is_worker_thread() -> bool {
    with_worker(|w| w.is_some())
}

/// Runs `f` as code outside any runtime runs: no current runtime, not a
/// worker (a blocking job that an idle worker runs for the pool, `help`).
/// `block_on` works in it, and the tasks it wakes or spawns go through the
/// queues of a thread without a P.
pub(crate) fn outside_runtime<R>(f: impl FnOnce() -> R) -> R {
    struct RestoreWorker(*const WorkerContext);
    impl Drop for RestoreWorker {
        fn drop(&mut self) {
            let _ = WORKER.try_with(|c| c.set(self.0));
        }
    }
    let _worker = RestoreWorker(WORKER.with(|c| c.replace(ptr::null())));
    // The entered runtime comes back as after any `enter`.
    let _handle = EnterGuard {
        previous: CONTEXT.with(|c| c.handle.replace(None)),
    };
    f()
}
