//! `GORO_SCHEDTRACE=<ms>`: every interval the monitor thread prints one
//! line about the scheduler to stderr, like Go's `GODEBUG=schedtrace=<ms>`
//! (format: [`Stats::schedtrace`](crate::Stats::schedtrace)).
//!
//! The monitor is the runtime's one housekeeping thread, so tracing adds no
//! thread, and it sleeps at most until the next line is due.

use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::runtime::BuildError;
use crate::shared::Shared;

pub(crate) const ENV: &str = "GORO_SCHEDTRACE";
/// The longest interval accepted: an hour.
const MAX_MS: u64 = 3_600_000;

/// The interval from `GORO_SCHEDTRACE`: `None` when unset or `0`.
pub(crate) fn from_env() -> Result<Option<Duration>, BuildError> {
    let Some(raw) = std::env::var_os(ENV) else {
        return Ok(None);
    };
    parse(&raw.to_string_lossy())
}

/// Parses a `GORO_SCHEDTRACE` value: whole milliseconds, `0` for off.
pub(crate) fn parse(value: &str) -> Result<Option<Duration>, BuildError> {
    match value.trim().parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(ms) if ms <= MAX_MS => Ok(Some(Duration::from_millis(ms))),
        _ => Err(BuildError::InvalidEnv {
            var: ENV,
            value: value.to_owned(),
            expected: "a whole number of milliseconds between SCHED lines, from 1 to 3600000 (0 or unset: off)",
        }),
    }
}

/// The monitor's tracing state.
pub(crate) struct Tracer {
    every: Duration,
    next: Instant,
}

impl Tracer {
    pub(crate) fn new(every: Duration) -> Self {
        Tracer {
            every,
            next: Instant::now() + every,
        }
    }

    /// Prints a line if one is due; returns how long until the next one.
    pub(crate) fn tick(&mut self, shared: &Shared) -> Duration {
        let now = Instant::now();
        if now >= self.next {
            let line = crate::stats::snapshot(shared).schedtrace();
            // Not `eprintln!`, which panics when stderr is closed: a trace
            // must not take the monitor down.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
            // Skip missed lines rather than print a burst.
            while self.next <= now {
                self.next += self.every;
            }
        }
        self.next - now
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn parses_milliseconds_and_rejects_the_rest() {
        assert_eq!(parse("1000").unwrap(), Some(Duration::from_secs(1)));
        assert_eq!(parse(" 5 ").unwrap(), Some(Duration::from_millis(5)));
        assert_eq!(parse("0").unwrap(), None);
        for bad in ["", "-1", "1s", "1.5", "abc", "3600001"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("GORO_SCHEDTRACE="), "{e}");
            assert!(e.contains("whole number of milliseconds"), "{e}");
        }
    }
}
