//! Timers: [`sleep`], [`sleep_until`], [`timeout`] and [`interval`].
//!
//! Resolution is 1 ms and a timer never fires early: deadlines round up to
//! the next millisecond. Timers are stored per worker (no global lock) and
//! fired by their worker's scheduling loop or by whichever thread polls the
//! reactor, so a sleeping worker's timers still fire on time.
//!
//! Go's `time.Sleep`, `context.WithTimeout` and `time.Ticker` map to
//! [`sleep`], [`timeout`] and [`interval`].

mod interval;
pub(crate) mod shards;
mod sleep;
mod timeout;
mod wheel;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use shards::set_proc_hint;
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
