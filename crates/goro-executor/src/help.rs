//! Blocking jobs that an idle worker runs instead of going to sleep.
//!
//! goro hands blocking closures to a pool of threads (`goro-blocking`), so a
//! worker never waits in one. When the pool has a backlog of short jobs and
//! the workers have nothing to do, that split costs more than the jobs:
//! every finished job wakes a sleeping worker to run the task that waited
//! for it, and the worker sleeps again a few microseconds later (a futex
//! wake, two context switches and a park per job, more kernel time than a
//! 4 KiB file read takes). Go has no such hand-off: a goroutine makes its
//! blocking call on its own thread and keeps its P unless the call lasts.
//!
//! So a worker that finds no task anywhere (its queues, the global queues,
//! the driver, other workers) asks the pool, through [`BlockingJobs`], for
//! one of its queued jobs before it sleeps. The pool hands one out only
//! while recent jobs were short. The job runs like a task poll, with the
//! P lent to its slot (`lend`), so the monitor's retake rules apply to it
//! as to any poll: if the job sleeps in the kernel while work waits for the
//! P, another thread takes the P within a millisecond; if it computes, after
//! the retake threshold. The job's closure runs as it would on a pool
//! thread: outside the runtime's context, so `block_on` works in it and the
//! tasks it wakes go through the global queue.
//!
//! The workers of the `goro` facade's runtimes help its global pool
//! (`goro::Builder::help_blocking_pool`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::context;
use crate::task::Runnable;

/// A source of blocking jobs that idle workers may run: a blocking pool's
/// queue. The `goro` facade plugs in its global pool
/// ([`crate::Builder::help_with`]).
///
/// # Examples
///
/// A source that hands out jobs from a plain queue, and a runtime whose
/// idle worker runs one:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use goro_executor::{BlockingJobs, Runnable, TaskMeta};
///
/// #[derive(Default)]
/// struct Queue(Mutex<Vec<Runnable<TaskMeta>>>);
///
/// impl BlockingJobs for Queue {
///     fn take(&self) -> Option<Runnable<TaskMeta>> {
///         self.0.lock().unwrap().pop()
///     }
///     fn ran(&self, _took: Duration) {}
/// }
///
/// // A queued job that no thread of the queue's own will ever run.
/// let jobs = Arc::new(Queue::default());
/// let (job, handle) = goro_executor::spawn_unscheduled(
///     async { 6 * 7 },
///     std::panic::Location::caller(),
///     |_| unreachable!("a finished job is never rescheduled"),
/// );
/// jobs.0.lock().unwrap().push(job);
/// let rt = goro_executor::Runtime::builder()
///     .maxprocs(1)
///     .help_with(jobs.clone())
///     .build()
///     .unwrap();
/// // The worker finds no task and runs the job before it sleeps.
/// assert_eq!(rt.block_on(handle).unwrap(), 42);
/// ```
pub trait BlockingJobs: Send + Sync + 'static {
    /// A queued job for an idle worker to run now, or `None` if there is
    /// none or the jobs lately took too long to run on a worker. Called by
    /// a worker about to sleep, so it must be cheap when the queue is empty.
    fn take(&self) -> Option<Runnable>;

    /// Reports how long a job from [`BlockingJobs::take`] ran.
    fn ran(&self, took: Duration);
}

/// What a P's poll watch holds as the task id while a job runs: no task
/// has it (ids start at 1), so the monitor's reports and the task dump
/// leave jobs out. A job that lasts is retaken like a stuck poll, but it
/// is not reported: it was offloaded as it should be.
pub(crate) const JOB_ID: u64 = 0;

/// The jobs source of a runtime, if it has one.
pub(crate) type Jobs = Option<Arc<dyn BlockingJobs>>;

/// Runs `job`, which came from `jobs`, as a pool thread would: outside the
/// runtime's context, timed for the source.
pub(crate) fn run_job(jobs: &dyn BlockingJobs, job: Runnable) {
    let start = Instant::now();
    context::outside_runtime(|| job.run());
    jobs.ran(start.elapsed());
}
