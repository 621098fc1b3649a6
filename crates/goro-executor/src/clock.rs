//! A coarse, process-wide clock in milliseconds, for task ages.
//!
//! Every task records when it was spawned, and reading [`std::time::Instant::now`] on
//! each spawn would cost about as much as a quarter of the spawn itself.
//! Instead the monitor thread of every runtime stores the time here each
//! time it wakes (every millisecond while workers are busy), and a spawn
//! reads one relaxed atomic. While every worker of a runtime sleeps its
//! monitor backs off to a second, so spawns then refresh the clock
//! themselves (see `Handle::spawn_at`).
//!
//! The value is a `u32` of milliseconds since the first use in the process:
//! it wraps after 49.7 days, and ages are computed with a wrapping
//! subtraction, so an age is right for tasks younger than that.
//!
//! On Unix a refresh reads `CLOCK_MONOTONIC` and subtracts an epoch in
//! nanoseconds: `Instant::elapsed` spent about 100 instructions more per
//! read (timespec subtraction with overflow checks, then a `Duration`),
//! which a spawn from outside into an idle runtime pays (the reactor's
//! timers read their clock the same way). Only this module's own values
//! are ever compared, so the source of the time does not matter beyond
//! being monotonic.

use std::sync::OnceLock;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

static NOW_MS: AtomicU32 = AtomicU32::new(0);

/// Nanoseconds on a monotonic clock with an arbitrary origin.
#[cfg(unix)]
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call to fill;
    // CLOCK_MONOTONIC exists on every Unix Rust supports.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Nanoseconds on a monotonic clock with an arbitrary origin.
#[cfg(not(unix))]
fn monotonic_ns() -> u64 {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    ORIGIN
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// [`monotonic_ns`] at the clock's first use in the process.
fn epoch_ns() -> u64 {
    static EPOCH: OnceLock<u64> = OnceLock::new();
    *EPOCH.get_or_init(monotonic_ns)
}

/// The clock as last refreshed (stale by up to a monitor period).
#[inline]
pub(crate) fn now_ms() -> u32 {
    NOW_MS.load(Relaxed)
}

/// Reads the real time into the clock and returns it.
pub(crate) fn refresh() -> u32 {
    // Truncation is the wrap described in the module docs.
    let epoch = epoch_ns();
    let now = (monotonic_ns().saturating_sub(epoch) / 1_000_000) as u32;
    // Several monitors may race; `fetch_max` keeps the clock from going
    // back, except across the wrap, where it catches up at the next store.
    let prev = NOW_MS.fetch_max(now, Relaxed);
    if prev > now && prev - now > u32::MAX / 2 {
        NOW_MS.store(now, Relaxed);
    }
    now
}

/// How long ago `then` (a value of this clock) was, given the clock reads
/// `now`.
pub(crate) fn age(now: u32, then: u32) -> Duration {
    Duration::from_millis(u64::from(now.wrapping_sub(then)))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn refresh_moves_forward_and_ages_wrap() {
        let a = refresh();
        std::thread::sleep(Duration::from_millis(3));
        let b = refresh();
        assert!(b >= a + 2, "{a} {b}");
        assert!(now_ms() >= b);
        assert_eq!(age(5, u32::MAX - 4), Duration::from_millis(10));
    }
}
