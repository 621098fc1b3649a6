//! [`Stats`]: a snapshot of a runtime's counters, cheap to take.

use std::sync::atomic::Ordering::Relaxed;

use crate::runtime::Handle;

/// A snapshot of a runtime's state and counters; see [`Handle::stats`].
///
/// # Examples
///
/// ```
/// let rt = goro_executor::Runtime::builder().maxprocs(2).build().unwrap();
/// let s = rt.handle().stats();
/// assert_eq!(s.maxprocs, 2);
/// assert_eq!(s.retakes, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Workers (Go's `GOMAXPROCS`).
    pub maxprocs: usize,
    /// Live tasks: spawned and not finished (Go's `NumGoroutine`).
    pub tasks: usize,
    /// Workers asleep.
    pub idle_workers: usize,
    /// Workers searching for work.
    pub spinning_workers: usize,
    /// Tasks in the global queue.
    pub global_queue: usize,
    /// Ps the monitor took from threads stuck in one poll.
    pub retakes: u64,
    /// Times the monitor thread woke up.
    pub monitor_wakeups: u64,
}

impl Handle {
    /// A snapshot of this runtime's counters.
    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        Stats {
            maxprocs: s.num_procs(),
            tasks: s.registry.len(),
            idle_workers: s.idle.num_sleeping(),
            spinning_workers: s.idle.num_spinning(),
            global_queue: s.injector.len(),
            retakes: s.retakes.load(Relaxed),
            monitor_wakeups: s.monitor_wakeups.load(Relaxed),
        }
    }
}
