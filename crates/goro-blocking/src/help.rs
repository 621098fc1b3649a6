//! The pool's side of idle runtime workers running its jobs.
//!
//! A runtime worker that finds no task asks for a queued job before it
//! sleeps (`goro_executor::BlockingJobs`, wired up by the `goro` facade for
//! the global pool). With a backlog of short jobs (small file reads, `stat`
//! calls) that saves each job's completion a sleeping worker's wake-up, and
//! adds the workers' threads to the pool's while they have nothing else to
//! do. A job that lasts would hold a worker instead, until the runtime's
//! monitor gives the worker's P to another thread, so the pool hands jobs out
//! only while recent ones were short: [`JobTimes`] keeps a moving average of
//! how long jobs ran, sampled on the pool's threads and timed on the
//! workers, and jobs go to workers only while it is under [`HELP_MAX_JOB`],
//! and only while every pool thread is busy (a backlog, not a hand-off a
//! pool thread is about to make).

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use goro_executor::{BlockingJobs, Runnable, TaskMeta};

use crate::pool::Pool;
use crate::shared::Shared;

/// Idle runtime workers take the pool's queued jobs only while the jobs of
/// late ran shorter than this on average: as long as one tick of the pool's
/// monitor ([`crate::GROW_TICK`]), a few file reads. Jobs that sleep in the
/// kernel (disk waits, network calls, `thread::sleep`) or compute for long
/// stay on the pool's threads.
pub const HELP_MAX_JOB: Duration = Duration::from_micros(50);

/// A pool thread times one job in this many (two clock reads per job would
/// cost a few percent of a 4 KiB read).
pub(crate) const SAMPLE_EVERY: u64 = 8;

/// Nothing measured yet: jobs stay on the pool's threads.
const UNKNOWN: u64 = u64::MAX;

/// How long the pool's jobs ran lately: a moving average in nanoseconds,
/// each new time weighing a quarter, so one long job stops the hand-outs
/// at once and a run of short ones resumes them. Updated without a lock by
/// whoever timed a job; a lost update only delays the average a little.
#[derive(Debug)]
pub(crate) struct JobTimes {
    average_ns: AtomicU64,
}

impl JobTimes {
    pub(crate) fn new() -> Self {
        JobTimes {
            average_ns: AtomicU64::new(UNKNOWN),
        }
    }

    /// Adds one job's run time.
    pub(crate) fn record(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX - 1);
        let old = self.average_ns.load(Relaxed);
        let new = if old == UNKNOWN {
            ns
        } else {
            old - old / 4 + ns / 4
        };
        self.average_ns.store(new.min(UNKNOWN - 1), Relaxed);
    }

    /// Whether recent jobs were short enough for a worker to run one.
    pub(crate) fn short(&self) -> bool {
        self.average_ns.load(Relaxed) < HELP_MAX_JOB.as_nanos() as u64
    }
}

impl Shared {
    /// A queued job for an idle runtime worker, if one waits, recent jobs
    /// were short, and every pool thread is busy. A pool thread that is
    /// searching or asleep takes the job soon enough; a worker popping
    /// beside it only adds to the queue's contention (with no-op jobs from
    /// 64 tasks, iterations of `spawn_blocking` took up to 3 times longer).
    pub(crate) fn take_for_worker(&self) -> Option<Runnable<TaskMeta>> {
        if self.queue.is_empty() || !self.job_times.short() || self.num_idle() > 0 {
            return None;
        }
        self.queue.pop().ok()
    }
}

/// The global pool's queue ([`Pool::global`]), as the idle workers of the
/// `goro` facade's runtimes see it: they run its queued jobs, while every
/// pool thread is busy and recent jobs were shorter than [`HELP_MAX_JOB`],
/// rather than sleep. It does not
/// create the global pool: until something uses the pool, there is nothing
/// to take.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// let rt = goro_executor::Runtime::builder()
///     .maxprocs(1)
///     .help_with(Arc::new(goro_blocking::GlobalPoolJobs))
///     .build()
///     .unwrap();
/// let n = rt.block_on(goro_blocking::unblock(|| 6 * 7)).unwrap();
/// assert_eq!(n, 42);
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct GlobalPoolJobs;

impl BlockingJobs for GlobalPoolJobs {
    fn take(&self) -> Option<Runnable<TaskMeta>> {
        Pool::try_global()?.shared().take_for_worker()
    }

    fn ran(&self, took: Duration) {
        if let Some(pool) = Pool::try_global() {
            pool.shared().job_times.record(took);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_go_to_workers_only_while_recent_ones_were_short() {
        let t = JobTimes::new();
        assert!(!t.short(), "nothing measured yet");
        t.record(Duration::from_micros(5));
        assert!(t.short());
        t.record(Duration::from_millis(1));
        assert!(!t.short(), "one long job stops the hand-outs");
        let mut shorts = 0;
        while !t.short() {
            t.record(Duration::from_micros(5));
            shorts += 1;
            assert!(shorts < 20, "short jobs must resume them");
        }
        assert!(shorts >= 5, "but not at once: {shorts}");
    }

    #[test]
    fn only_a_backlog_behind_busy_threads_goes_to_workers() {
        use std::sync::mpsc;

        use futures_lite::future::block_on;

        let pool = crate::Builder::new().max_threads(1).build();
        let shared = pool.shared().clone();
        // The pool's one thread, busy until released.
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let busy = pool.spawn(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        started_rx.recv().unwrap();
        let queued = pool.spawn(|| 42);
        assert!(shared.take_for_worker().is_none(), "no job time known yet");
        shared.job_times.record(Duration::from_micros(5));
        let job = shared
            .take_for_worker()
            .expect("a backlog behind a busy thread");
        job.run(); // as an idle worker would
        assert_eq!(block_on(queued).unwrap(), 42);
        release_tx.send(()).unwrap();
        block_on(busy).unwrap();

        // Once the thread sleeps, a new job is its own to take: the
        // submission wakes it with the searching token, so it counts as
        // idle until it has taken the job.
        shared.job_times.record(Duration::from_micros(5));
        let asleep = std::time::Instant::now();
        while shared.sleepers.len() == 0 {
            assert!(asleep.elapsed() < Duration::from_secs(60), "never slept");
            std::thread::sleep(Duration::from_millis(1));
        }
        let next = pool.spawn(|| 7);
        assert!(shared.take_for_worker().is_none());
        assert_eq!(block_on(next).unwrap(), 7);
    }

    #[test]
    fn an_endless_job_does_not_overflow_the_average() {
        let t = JobTimes::new();
        t.record(Duration::MAX);
        t.record(Duration::MAX);
        assert!(!t.short());
        for _ in 0..200 {
            t.record(Duration::from_micros(1));
        }
        assert!(t.short());
    }
}
