//! The state all workers of one runtime share: the stealable half of every
//! P, the parkers, the global queue, the idle accounting, and the schedule
//! function every task calls when it is woken.

use std::collections::{HashMap, HashSet};
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize};
use std::time::{Duration, Instant};

use async_task::ScheduleInfo;

use crate::driver::Driver;
use crate::idle::Idle;
use crate::injector::Injector;
use crate::latency::WakeSamples;
use crate::lend::Slot;
use crate::machine::ThreadConfig;
use crate::park::Parker;
use crate::procs::ProcTable;
use crate::registry::Registry;
use crate::resize::Resize;
use crate::ring::{RunNext, Stealer};
use crate::stats::Stats;
use crate::sync::Mutex;
use crate::task::Runnable;
use crate::worker;

/// Reported task ids kept before the set starts over.
const MAX_REPORTED: usize = 4096;

/// Keeps per-worker data on separate cache lines.
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The parts of a P that other threads touch: stealing, runnext, and the
/// slot and watch through which the monitor retakes it.
pub(crate) struct ProcRemote {
    pub(crate) stealer: Stealer<Runnable>,
    pub(crate) runnext: RunNext<Runnable>,
    /// Where the P waits while its thread polls a task. Its owner writes
    /// it twice per poll; thieves hammer `runnext`: keeping the two on
    /// separate cache lines took chained_spawn from ~190 to ~150 µs.
    pub(crate) slot: Padded<Slot<Box<worker::Core>>>,
    /// After `slot`'s padding: written by the owner per poll, read by the
    /// monitor.
    pub(crate) watch: Watch,
}

/// What the monitor needs to know about the poll a P is lent for.
#[derive(Default)]
pub(crate) struct Watch {
    /// The task being polled, for the retake report.
    pub(crate) task_id: AtomicU64,
    pub(crate) task_location: AtomicPtr<Location<'static>>,
    /// The lend number of a poll asked to yield (`should_yield`).
    pub(crate) preempt: AtomicU64,
    /// The thread running this P (`ThreadRef::to_bits`).
    pub(crate) thread: AtomicU64,
}

/// A retake the monitor made, reported when the stuck poll ends.
pub(crate) struct Retake {
    pub(crate) since: Instant,
    pub(crate) task_id: u64,
    pub(crate) location: Option<&'static Location<'static>>,
    /// What the stuck thread did, to tell a task that held its worker from
    /// one the OS descheduled (`monitor::deserves_report`).
    pub(crate) usage: crate::monitor::Usage,
}

/// Settings fixed at build time.
pub(crate) struct Config {
    pub(crate) panic_aborts: bool,
    pub(crate) threads: ThreadConfig,
    pub(crate) driver: Option<Arc<dyn Driver>>,
    /// How long one poll may hold a P before the monitor retakes it
    /// (`None`: never).
    pub(crate) retake_after: Option<Duration>,
    /// How often the monitor prints a `SCHED` line (`None`: never).
    pub(crate) schedtrace: Option<Duration>,
    /// Adds figures from outside the executor to each [`Stats`].
    pub(crate) stats_hook: Option<StatsHook>,
}

/// See `Builder::stats_hook`.
pub(crate) type StatsHook = Arc<dyn Fn(&mut Stats) + Send + Sync>;

pub(crate) struct Shared {
    /// Every P ever created: the active ones are those below `nprocs`.
    pub(crate) procs: ProcTable,
    /// maxprocs: how many Ps run now. Changed only under `resize`; Ps at or
    /// past it retire (`resize`). Read on every scheduling loop, written
    /// almost never: on its own cache line, away from the hot queues.
    nprocs: Padded<AtomicUsize>,
    /// Serialises live resizes, and holds what they need (`resize`).
    pub(crate) resize: Mutex<Resize>,
    /// Which wake to time next, and the times of timed wakes. Padded: its
    /// flag is read on every wake, and must not share a line with counters
    /// written often.
    pub(crate) wake_samples: Padded<WakeSamples>,
    /// When the runtime was built (`Stats::uptime`, `SCHED` lines).
    pub(crate) started: Instant,
    pub(crate) injector: Injector,
    /// Tasks that a thread holding no P (a `block_on` thread, the monitor)
    /// woke from the driver: they waited for I/O or a timer, so workers
    /// take them before the ring and the global queue (Go puts a goroutine
    /// woken by the netpoller or a timer in `runnext`).
    pub(crate) woken: Injector,
    /// Padded: its counters change on every sleep and wake, and must not
    /// share a line with fields that are only read.
    pub(crate) idle: Padded<Idle>,
    pub(crate) config: Config,
    pub(crate) registry: Registry,
    /// Every worker thread started, joined at shutdown (a hand-off adds one).
    pub(crate) threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Threads that lost their P to a hand-off, waiting for another one.
    pub(crate) spares: Mutex<Vec<std::sync::mpsc::SyncSender<Box<worker::Core>>>>,
    /// The I/O and timer driver, if the runtime has one.
    pub(crate) driver: Option<Arc<dyn Driver>>,
    /// The monitor thread sleeps here.
    pub(crate) monitor: Padded<Parker>,
    /// Whether the monitor sleeps long because every worker is idle.
    pub(crate) monitor_idle: AtomicBool,
    /// Retakes by the monitor, keyed by P index and lend number, until the
    /// stuck poll ends and reports itself.
    pub(crate) retaken: Mutex<HashMap<(usize, u64), Retake>>,
    /// Tasks already reported for a retake (each is reported once).
    reported: Mutex<HashSet<u64>>,
    /// Ps retaken by the monitor.
    pub(crate) retakes: AtomicU64,
    /// Times the monitor woke up.
    pub(crate) monitor_wakeups: AtomicU64,
    /// This runtime, for threads that need an `Arc` of it from `&self`.
    this: std::sync::OnceLock<std::sync::Weak<Shared>>,
    shutdown: AtomicBool,
}

impl Shared {
    /// A runtime of `n` Ps; returns it with their cores, to be started.
    /// `watcher`, if any, lets the monitor follow the CPU limit.
    #[allow(clippy::vec_box)] // a P moves between threads as a `Box`
    pub(crate) fn new(
        n: usize,
        config: Config,
        watcher: Option<goro_procs::MaxProcsWatcher>,
    ) -> (Self, Vec<Box<worker::Core>>) {
        let driver = config.driver.clone();
        let (cores, procs): (Vec<_>, Vec<_>) =
            (0..n).map(|i| worker::new_proc(i, driver.clone())).unzip();
        let shared = Shared {
            procs: ProcTable::new(procs),
            nprocs: Padded(AtomicUsize::new(n)),
            resize: Mutex::new(Resize::new(n, watcher)),
            wake_samples: Padded(WakeSamples::new()),
            started: Instant::now(),
            monitor: Padded(Parker::new()),
            monitor_idle: AtomicBool::new(false),
            retaken: Mutex::new(HashMap::new()),
            reported: Mutex::new(HashSet::new()),
            retakes: AtomicU64::new(0),
            monitor_wakeups: AtomicU64::new(0),
            this: std::sync::OnceLock::new(),
            driver,
            injector: Injector::new(),
            woken: Injector::new(),
            idle: Padded(Idle::new(n)),
            registry: Registry::new(n),
            threads: Mutex::new(Vec::new()),
            spares: Mutex::new(Vec::new()),
            config,
            shutdown: AtomicBool::new(false),
        };
        (shared, cores)
    }

    /// Records the `Arc` this runtime lives in (once, at build).
    pub(crate) fn set_self(self: &Arc<Self>) {
        let _ = self.this.set(Arc::downgrade(self));
    }

    /// The `Arc` this runtime lives in.
    pub(crate) fn self_arc(&self) -> Option<Arc<Shared>> {
        self.this.get()?.upgrade()
    }

    /// maxprocs now: how many Ps are active.
    pub(crate) fn num_procs(&self) -> usize {
        self.nprocs.load(Acquire)
    }

    /// [`Shared::num_procs`] for the sleep protocol's recheck, which orders
    /// it against a resize with `SeqCst` (`Idle::wake_sleeper`).
    pub(crate) fn num_procs_seqcst(&self) -> usize {
        self.nprocs.load(SeqCst)
    }

    /// Sets maxprocs; only `resize`, under the resize lock.
    pub(crate) fn store_num_procs(&self, n: usize) {
        self.idle.set_num_workers(n);
        self.nprocs.store(n, SeqCst);
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// The schedule function of every task of this runtime.
    pub(crate) fn schedule(self: &Arc<Self>, task: Runnable, info: ScheduleInfo) {
        let meta = task.metadata();
        meta.mark_queued();
        if self.wake_samples.is_armed() {
            self.time_wake(meta);
        }
        // A task that woke itself during its poll (a yield) is queued when
        // the poll ends, on the reclaimed P.
        let task = if info.woken_while_running {
            match worker::defer_yield(self, task) {
                None => return,
                Some(task) => task,
            }
        } else {
            task
        };
        let task = worker::with_local_core(self, task, |core, task| {
            core.schedule_local(self, task, info.woken_while_running);
        });
        if let Some(task) = task {
            if crate::context::in_remote_poll() {
                self.woken.push(task);
                self.notify();
            } else {
                self.schedule_remote(task);
            }
        }
    }

    /// Times this wake for the latency histogram if no other wake took the
    /// monitor's flag first (`latency`).
    #[cold]
    #[inline(never)]
    fn time_wake(&self, meta: &crate::task::TaskMeta) {
        if self.wake_samples.claim() {
            meta.mark_sampled();
            self.wake_samples.woken(meta.id().as_u64());
        }
    }

    /// Queues a task from a thread that holds no P of this runtime.
    ///
    /// During shutdown too: the task then waits in the global queue for
    /// shutdown's final drain. Dropping it here instead would run its
    /// future's destructor inside `wake`, often under the waker owner's lock.
    pub(crate) fn schedule_remote(&self, task: Runnable) {
        self.injector.push(task);
        self.notify();
    }

    /// Go's `wakep`: work became visible; make sure a worker will look.
    pub(crate) fn notify(&self) {
        self.idle
            .notify(|| self.has_work(), |i| self.procs[i].parker.unpark());
    }

    /// A worker left its sleep: if the monitor backs off because every
    /// worker was idle, bring it back to its short period.
    pub(crate) fn monitor_wake(&self) {
        if self.monitor_idle.load(Relaxed) && self.monitor_idle.swap(false, SeqCst) {
            self.monitor.unpark();
        }
    }

    /// Called by a thread whose P was taken during the poll numbered `seq`
    /// of P `index`: if the monitor took it, warn about the task, once per
    /// task, unless the task neither ran past the threshold nor slept in the
    /// kernel (the OS took its CPU away). A hand-off by `goro::blocking` is
    /// not reported.
    pub(crate) fn report_retake(&self, index: usize, seq: u64) {
        let Some(r) = crate::sync::lock(&self.retaken).remove(&(index, seq)) else {
            return;
        };
        let after = self.config.retake_after.unwrap_or_default();
        if !crate::monitor::deserves_report(&r.usage, after) {
            return;
        }
        {
            let mut reported = crate::sync::lock(&self.reported);
            if reported.len() >= MAX_REPORTED {
                reported.clear();
            }
            if !reported.insert(r.task_id) {
                return;
            }
        }
        let location = r
            .location
            .map_or_else(|| "an unknown location".to_string(), |l| l.to_string());
        let msg = format!(
            "goro: task {} spawned at {location} blocked worker {index} for {} ms; \
             its queue moved to another thread (use goro::unblock or goro::blocking \
             for blocking calls)",
            r.task_id,
            r.since.elapsed().as_millis()
        );
        // Through `log` when the program installed a logger, else stderr:
        // a silent retake would hide what the user needs to fix.
        if log::max_level() >= log::LevelFilter::Warn {
            log::warn!("{msg}");
        } else {
            eprintln!("{msg}");
        }
    }

    /// A thread that is not a worker stopped polling the driver: if tasks
    /// still wait on it and workers sleep, wake one so that it takes over
    /// the poller role.
    pub(crate) fn hand_off_poller(&self) {
        if self.driver.as_deref().is_some_and(|d| d.has_waiters()) {
            self.idle
                .notify(|| false, |i| self.procs[i].parker.unpark());
        }
    }

    /// Whether any queue holds a task (racy; used for the final recheck
    /// before sleeping).
    pub(crate) fn has_work(&self) -> bool {
        !self.injector.is_empty()
            || !self.woken.is_empty()
            || self
                .procs
                .prefix(self.num_procs())
                .any(|p| !p.remote.stealer.is_empty() || p.remote.runnext.is_occupied())
    }

    /// Stops the workers; tasks left in their queues are dropped by their
    /// workers, everything else by [`Shared::finish_shutdown`].
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        // Dropping their senders wakes the spare threads, which then exit.
        crate::sync::lock(&self.spares).clear();
        for (_, p) in self.procs.iter() {
            p.parker.unpark();
        }
        self.monitor.unpark();
    }

    fn drain_injector(&self) {
        while let Some(task) = self.injector.pop() {
            drop(task);
        }
        while let Some(task) = self.woken.pop() {
            drop(task);
        }
    }

    /// Once every worker has stopped: schedules every task still alive one
    /// last time, then drops every queued task, which drops its future.
    /// This breaks the cycle task → schedule function → `Shared` → queue
    /// (or a waker in the reactor) → task. Tasks closed this way never call
    /// the schedule function again.
    pub(crate) fn finish_shutdown(&self) {
        for waker in self.registry.close() {
            waker.wake();
        }
        for (_, p) in self.procs.iter() {
            drop(p.remote.runnext.take());
        }
        self.drain_injector();
    }
}
