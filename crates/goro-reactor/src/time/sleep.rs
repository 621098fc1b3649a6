use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::Reactor;
use crate::time::shards::TimerRef;

/// Waits until `duration` has passed (Go's `time.Sleep`).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// # goro::block_on(async {
/// let start = Instant::now();
/// goro::time::sleep(Duration::from_millis(20)).await;
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// # });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    // A duration too long to add is as good as forever.
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(far_future);
    sleep_until(deadline)
}

/// Waits until `deadline`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// # goro::block_on(async {
/// let at = Instant::now() + Duration::from_millis(5);
/// goro::time::sleep_until(at).await;
/// assert!(Instant::now() >= at);
/// # });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// About 30 years from now: "never" for a timer.
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// The future of [`sleep`] and [`sleep_until`]. Cancel it by dropping it.
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    timer: Option<TimerRef>,
}

impl Sleep {
    /// When the sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (earlier or later), as if newly created.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some(t) = self.timer.take() {
            Reactor::get().timers.cancel(t);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_sleep(cx, true)
    }
}

impl Sleep {
    /// The poll of the future; `note` says whether a wait records itself
    /// as a timer wait (not under a `timeout`, whose future's reason is
    /// the one to show).
    pub(crate) fn poll_sleep(&mut self, cx: &mut Context<'_>, note: bool) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel();
            // A task that ran long yields once here, even with the timer due.
            if crate::coop::should_yield() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            return Poll::Ready(());
        }
        let reactor = Reactor::get();
        if let Some(t) = self.timer {
            if reactor.timers.update(t, cx.waker()) {
                if note {
                    crate::wait::note(crate::wait::Wait::Timer);
                }
                return Poll::Pending;
            }
            // Fired a hair before our clock read said it was due; retry.
        }
        self.timer = reactor.insert_timer(self.deadline, cx.waker());
        if self.timer.is_none() {
            return Poll::Ready(());
        }
        if note {
            crate::wait::note(crate::wait::Wait::Timer);
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
