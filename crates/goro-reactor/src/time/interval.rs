use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::{Sleep, sleep_until};

/// What an [`Interval`] does when ticks were missed (the task was late to
/// call [`Interval::tick`] by more than a period).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Drop the missed ticks and keep the original schedule: the next tick
    /// is the next multiple of the period after now. Go's `time.Ticker`
    /// does this (its channel holds one tick), so it is goro's default;
    /// tokio defaults to `Burst`.
    #[default]
    Skip,
    /// Fire the missed ticks at once, one per `tick` call, to catch up.
    Burst,
    /// Restart the schedule from now: the next tick is a full period after
    /// the late one.
    Delay,
}

/// Ticks every `period`, the first tick at once (Go's `time.NewTicker`,
/// whose first tick comes after one period, differs here; use
/// [`interval_at`] for that).
///
/// # Panics
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// # goro::block_on(async {
/// let start = Instant::now();
/// let mut every = goro::time::interval(Duration::from_millis(10));
/// for _ in 0..3 {
///     every.tick().await;
/// }
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// # });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "goro: interval period must be non-zero");
    Interval {
        next: start,
        period,
        behavior: MissedTickBehavior::default(),
        sleep: sleep_until(start),
    }
}

/// A periodic timer; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    next: Instant,
    period: Duration,
    behavior: MissedTickBehavior,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled time.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let now = Instant::now();
        let tick = self.next;
        self.next = match self.behavior {
            MissedTickBehavior::Burst => tick + self.period,
            MissedTickBehavior::Delay if now > tick + self.period => now + self.period,
            MissedTickBehavior::Delay => tick + self.period,
            MissedTickBehavior::Skip => {
                let mut next = tick + self.period;
                if next <= now {
                    let behind = now.duration_since(tick).as_nanos();
                    let periods = behind / self.period.as_nanos() + 1;
                    next = tick + self.period * u32::try_from(periods).unwrap_or(u32::MAX);
                }
                next
            }
        };
        self.sleep.reset(self.next);
        Poll::Ready(tick)
    }

    /// Sets what happens after missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.behavior = behavior;
    }

    /// The current missed-tick behaviour.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.behavior
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is a period from now.
    pub fn reset(&mut self) {
        self.next = Instant::now() + self.period;
        self.sleep.reset(self.next);
    }
}
