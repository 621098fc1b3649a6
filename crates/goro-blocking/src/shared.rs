//! The state a pool's handle, workers and monitor share, and the two
//! decisions every submission makes: whom to wake, and whether to grow.
//!
//! # The wakeup protocol
//!
//! A submission pushes onto a lock-free queue, then (after a `SeqCst` fence)
//! looks at two counters; it never takes a lock unless it must wake a
//! sleeping thread:
//!
//! 1. `searching > 0`: some thread is awake and looking at the queue; it will
//!    find the job. Done.
//! 2. Else, if a thread sleeps, take the single searching token (CAS `0 → 1`)
//!    and hand it to one sleeper, which wakes up as the searcher. Losing the
//!    CAS means another thread is searching: done.
//! 3. Else no thread is idle: start a thread at once if fewer than
//!    [`Shared::eager`] run, otherwise arm the monitor, which starts threads
//!    only for workers that stay blocked (see `monitor.rs`).
//!
//! A thread gives up searching (decrements `searching`), registers as a
//! sleeper, fences, and looks at the queue once more before it parks. The
//! fences make this a store-buffer pattern: the submitter writes the queue
//! and reads the counters, the thread writes the counters and reads the
//! queue, so at least one of them sees the other. Either the thread sees the
//! job and cancels its sleep, or the submitter sees the sleeper and wakes it.
//! A searcher that finds a job passes the role on (Go's `resetspinning`): if
//! it was the last searcher and more work is queued, it runs step 2/3 itself,
//! because submitters that saw it searching relied on it.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize, fence};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use concurrent_queue::ConcurrentQueue;
use goro_executor::{Runnable, TaskMeta};

use crate::builder::Builder;
use crate::monitor::Monitor;
use crate::sleepers::Sleepers;
use crate::worker::{self, WorkerSlot};

/// A job: a goro task whose future runs one blocking closure.
pub(crate) type Job = Runnable<TaskMeta>;

pub(crate) struct Shared {
    pub(crate) queue: ConcurrentQueue<Job>,
    /// Worker threads alive or reserved (started soon).
    pub(crate) threads: AtomicUsize,
    /// High-water mark of `threads`.
    pub(crate) peak: AtomicUsize,
    /// Threads awake and looking at the queue.
    pub(crate) searching: AtomicUsize,
    pub(crate) sleepers: Sleepers,
    pub(crate) monitor: Monitor,
    /// Every worker's progress counter, for the monitor.
    pub(crate) registry: Mutex<Vec<Arc<WorkerSlot>>>,
    /// The `Pool` handle is gone: idle threads exit instead of sleeping.
    pub(crate) shutdown: AtomicBool,
    pub(crate) config: Builder,
    /// Threads started without waiting for the monitor: the machine's
    /// parallelism (capped by `max_threads`), so CPU-bound closures use
    /// every core at once.
    pub(crate) eager: usize,
    /// How long jobs ran lately, for idle runtime workers (`help`).
    pub(crate) job_times: crate::help::JobTimes,
}

impl Shared {
    pub(crate) fn new(config: Builder) -> Self {
        let cpus = thread::available_parallelism().map_or(1, |n| n.get());
        Shared {
            queue: ConcurrentQueue::unbounded(),
            threads: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            searching: AtomicUsize::new(0),
            sleepers: Sleepers::new(),
            monitor: Monitor::new(),
            registry: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            eager: cpus.min(config.max_threads),
            job_times: crate::help::JobTimes::new(),
            config,
        }
    }

    /// Queues a job and makes sure some thread will run it.
    pub(crate) fn submit(self: &Arc<Self>, job: Job) {
        if let Err(e) = self.queue.push(job) {
            // The queue is unbounded and never closed.
            unreachable!("goro-blocking: the job queue refused a job: {e}");
        }
        self.notify();
    }

    /// Steps 1-3 of the protocol in the module docs.
    pub(crate) fn notify(self: &Arc<Self>) {
        fence(SeqCst);
        if self.searching.load(SeqCst) > 0 {
            return;
        }
        if self.sleepers.len() > 0 {
            if self
                .searching
                .compare_exchange(0, 1, SeqCst, SeqCst)
                .is_err()
            {
                return;
            }
            if self.sleepers.wake_one() {
                return; // the woken thread now owns the searching token
            }
            // Every sleeper left meanwhile. Submitters that saw our token
            // returned, so their jobs are ours to look after: grow.
            self.searching.fetch_sub(1, SeqCst);
        }
        self.grow();
    }

    /// No thread is idle: start one now while fewer than `eager` run,
    /// otherwise let the monitor decide.
    fn grow(self: &Arc<Self>) {
        if self.threads.load(SeqCst) < self.eager && self.try_spawn_worker() {
            return;
        }
        self.monitor.arm(self);
    }

    /// Reserves a place under the cap. Returns false at the cap.
    pub(crate) fn reserve_thread(&self) -> bool {
        let max = self.config.max_threads;
        let reserved = self
            .threads
            .fetch_update(SeqCst, SeqCst, |n| (n < max).then_some(n + 1));
        match reserved {
            Ok(n) => {
                self.peak.fetch_max(n + 1, Relaxed);
                true
            }
            Err(_) => false,
        }
    }

    /// Starts a worker thread if the cap allows. Returns whether one started.
    pub(crate) fn try_spawn_worker(self: &Arc<Self>) -> bool {
        if !self.reserve_thread() {
            return false;
        }
        let slot = Arc::new(WorkerSlot::default());
        self.registry().push(Arc::clone(&slot));
        let mut builder = thread::Builder::new().name(self.config.name.to_string());
        if let Some(size) = self.config.stack_size {
            builder = builder.stack_size(size);
        }
        let shared = Arc::clone(self);
        let worker_slot = Arc::clone(&slot);
        match builder.spawn(move || worker::run(shared, worker_slot)) {
            Ok(_) => true,
            Err(e) => {
                // Keep the work queued: a later submission or monitor tick
                // tries again, and running threads keep draining the queue.
                self.unregister(&slot);
                self.threads.fetch_sub(1, SeqCst);
                eprintln!("goro-blocking: could not start a pool thread: {e}");
                false
            }
        }
    }

    pub(crate) fn registry(&self) -> MutexGuard<'_, Vec<Arc<WorkerSlot>>> {
        goro_lock::lock(&self.registry)
    }

    pub(crate) fn unregister(&self, slot: &Arc<WorkerSlot>) {
        let mut reg = self.registry();
        if let Some(i) = reg.iter().position(|s| Arc::ptr_eq(s, slot)) {
            reg.swap_remove(i);
        }
    }

    /// Threads that are searching or asleep.
    pub(crate) fn num_idle(&self) -> usize {
        self.searching.load(Relaxed) + self.sleepers.len()
    }
}
