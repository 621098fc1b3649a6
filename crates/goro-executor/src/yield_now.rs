//! [`yield_now`]: let other tasks run.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the scheduler once: the task goes to the back of its worker's
/// run queue (never to `runnext`), so every other queued task on that worker
/// runs first. Go's `runtime.Gosched` puts the goroutine on the *global*
/// queue instead; the local tail keeps the task's cache warm and costs no
/// shared-queue traffic, and stealing still balances it.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::new().unwrap();
/// rt.block_on(async {
///     for _ in 0..3 {
///         goro::yield_now().await;
///     }
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Woken while running: async-task reschedules with
        // `woken_while_running`, which the scheduler sends to the tail.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
