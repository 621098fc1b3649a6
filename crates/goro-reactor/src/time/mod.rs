//! Timers: [`sleep`], [`sleep_until`], [`timeout`] and [`interval`].
//!
//! A timer never fires early, and fires at its exact deadline when a thread
//! waits in the reactor for it: the reactor sleeps until the nearest
//! deadline to the nanosecond (on Linux with `epoll_pwait2`, 5.11+, and
//! with kqueue; older Linux kernels and Windows round the wait up to a
//! millisecond, and Windows wakes at its timer's resolution). Timers are
//! stored per worker (no global lock) and fired by their worker's
//! scheduling loop or by whichever thread polls the reactor, so a sleeping
//! worker's timers still fire on time.
//!
//! Go's `time.Sleep`, `context.WithTimeout` and `time.Ticker` map to
//! [`sleep`], [`timeout`] and [`interval`].

mod interval;
mod mono;
pub(crate) mod shards;
mod sleep;
mod timeout;
mod wheel;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use shards::set_proc_hint;
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
