//! [`Epoch`]: the timers' clock, nanoseconds since a fixed instant, read
//! on every scheduling tick that has a timer pending.
//!
//! `Instant::elapsed` costs about 150 instructions there (the subtraction
//! of two `timespec`s with overflow checks, then a `Duration`); on Linux,
//! where `Instant` is `CLOCK_MONOTONIC`, reading that clock and
//! subtracting two integers gives the same time for a third of that. An
//! HTTP server with a header timer per connection ticks once per request,
//! so this is about 1 % of its instructions.

use std::time::Instant;

/// A fixed instant, and the time since it in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epoch {
    at: Instant,
    /// `CLOCK_MONOTONIC` in ns, read just after `at`: never before it, so
    /// [`Epoch::now_ns`] can only run behind `at.elapsed()` (by the few
    /// nanoseconds between the two reads), and a timer never fires early.
    #[cfg(target_os = "linux")]
    raw: u64,
}

impl Epoch {
    /// Now.
    pub(crate) fn new() -> Epoch {
        let at = Instant::now();
        Epoch {
            at,
            #[cfg(target_os = "linux")]
            raw: monotonic_ns(),
        }
    }

    /// The instant itself.
    pub(crate) fn instant(&self) -> Instant {
        self.at
    }

    /// Nanoseconds since the epoch, never more than `self.instant().elapsed()`.
    #[cfg(target_os = "linux")]
    pub(crate) fn now_ns(&self) -> u64 {
        monotonic_ns().saturating_sub(self.raw)
    }

    /// Nanoseconds since the epoch.
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn now_ns(&self) -> u64 {
        self.at.elapsed().as_nanos() as u64
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock `Instant` reads on Linux.
#[cfg(target_os = "linux")]
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call to fill;
    // CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_runs_ahead_of_instant() {
        let e = Epoch::new();
        for _ in 0..100_000 {
            let fast = e.now_ns();
            let slow = e.instant().elapsed().as_nanos() as u64;
            assert!(fast <= slow, "{fast} ns > {slow} ns");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let fast = e.now_ns();
        let slow = e.instant().elapsed().as_nanos() as u64;
        assert!(slow - fast < 1_000_000, "{fast} ns is far behind {slow} ns");
        assert!(fast >= 20_000_000);
    }
}
