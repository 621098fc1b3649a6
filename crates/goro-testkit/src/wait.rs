//! Waiting for something another thread makes true.

use std::time::{Duration, Instant};

/// How long [`wait_until`] waits: only what never happens takes this long,
/// even on a loaded 2-core machine or under valgrind.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `cond` every millisecond until it holds; panics naming `what`
/// after [`PATIENCE`].
#[track_caller]
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
