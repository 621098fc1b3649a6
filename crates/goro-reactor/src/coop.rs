//! The cooperative budget: a task that keeps finding its sockets ready
//! would otherwise never return `Pending`, and every other task queued on
//! its worker would wait. After [`BUDGET`] ready operations in a row on one
//! thread, the next one yields once (wakes itself and returns `Pending`).
//!
//! tokio keeps the budget per task and resets it when the executor polls a
//! task; goro keeps it per thread and resets it whenever an operation
//! really waits, which needs no hook into the scheduler. The effect is the
//! same for the case it exists for: one hot connection yields at least
//! every 128 operations.

use std::cell::Cell;
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// Ready operations allowed in a row (tokio's value).
pub const BUDGET: u32 = 128;

thread_local! {
    static LEFT: Cell<u32> = const { Cell::new(BUDGET) };
}

static YIELD_HOOK: OnceLock<fn() -> bool> = OnceLock::new();

/// Tells the reactor how to ask the scheduler whether the running task
/// should yield now (its poll has run long; see
/// `goro_executor::should_yield`). The `goro` facade sets it; only the first
/// call counts.
pub fn set_yield_hook(f: fn() -> bool) {
    let _ = YIELD_HOOK.set(f);
}

/// Whether the scheduler asks the running task to yield.
pub(crate) fn should_yield() -> bool {
    YIELD_HOOK.get().is_some_and(|f| f())
}

/// Called before an operation: `Pending` (with the task woken) when the
/// thread's budget is spent or the scheduler asks the task to yield.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let left = LEFT.try_with(Cell::get).unwrap_or(BUDGET);
    if left == 0 || should_yield() {
        reset();
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(())
}

/// An operation completed without waiting.
pub(crate) fn spend() {
    let _ = LEFT.try_with(|l| l.set(l.get().saturating_sub(1)));
}

/// An operation is about to wait: the task yields anyway.
pub(crate) fn reset() {
    let _ = LEFT.try_with(|l| l.set(BUDGET));
}
