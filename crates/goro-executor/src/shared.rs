//! The state all threads of one runtime share, in parts named for what they
//! are for: the Ps ([`Ps`]), the global queues ([`Queues`]), the idle
//! accounting, the threads ([`Threads`]), the monitor's link
//! (`monitor::MonitorLink`), observability ([`Observe`]), the task registry
//! and the build-time settings; and the schedule function every task calls
//! when it is woken.

use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::time::{Duration, Instant};

use async_task::ScheduleInfo;

use crate::driver::Driver;
use crate::idle::Idle;
use crate::injector::Injector;
use crate::latency::WakeSamples;
use crate::machine::ThreadConfig;
use crate::monitor::MonitorLink;
use crate::p_table::PTable;
use crate::padded::Padded;
use crate::processor::{self, Core, Remote};
use crate::registry::Registry;
use crate::resize::Resize;
use crate::stats::Stats;
use crate::sync::{AtomicBool, AtomicUsize, Mutex, fence, lock};
use crate::task::Runnable;
use crate::worker;

/// How soon a timer must fall due for a worker leaving the driver to hand
/// the poller role on at once (`Shared::hand_off_poller_for_timers`): two
/// of the monitor's busy periods, so a later one is still seen by the
/// monitor's next look, which hands the role on in time.
pub(crate) const POLLER_HORIZON: Duration = crate::monitor::BUSY_PERIOD.saturating_mul(2);

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
    /// Blocking jobs idle workers run before they sleep (`help`).
    pub(crate) jobs: crate::help::Jobs,
}

impl Config {
    /// The settings of a runtime built inside the crate's own tests: threads
    /// named `{prefix}-{i}`, no driver, no callbacks.
    #[cfg(test)]
    pub(crate) fn for_tests(prefix: &'static str, retake_after: Option<Duration>) -> Config {
        Config {
            panic_aborts: false,
            threads: ThreadConfig {
                name: Arc::new(move |i| format!("{prefix}-{i}")),
                stack_size: None,
                on_start: None,
                on_stop: None,
            },
            driver: None,
            retake_after,
            schedtrace: None,
            stats_hook: None,
            jobs: None,
        }
    }
}

/// See `Builder::stats_hook`.
pub(crate) type StatsHook = Arc<dyn Fn(&mut Stats) + Send + Sync>;

/// Every P of the runtime and how many of them are active.
pub(crate) struct Ps {
    /// Every P ever created: the active ones are those below `active`.
    table: PTable,
    /// maxprocs: how many Ps run now. Changed only under `resize`; Ps at or
    /// past it retire (`resize`). Read on every scheduling loop, written
    /// almost never: on its own cache line, away from the hot queues.
    active: Padded<AtomicUsize>,
}

impl Ps {
    /// The shared half of P `i` (active or retired).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> &Remote {
        &self.table[i]
    }

    /// The table of every P, for growing it and for looking at all of them.
    pub(crate) fn table(&self) -> &PTable {
        &self.table
    }

    /// maxprocs now: how many Ps are active.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Acquire)
    }

    /// [`Ps::active`] for the sleep protocol's recheck, which orders it
    /// against a resize with `SeqCst` (`Idle::wake_sleeper`).
    pub(crate) fn active_seqcst(&self) -> usize {
        self.active.load(SeqCst)
    }

    /// The shared halves of the active Ps.
    pub(crate) fn active_ps(&self) -> impl Iterator<Item = &Remote> {
        self.table.prefix(self.active())
    }
}

/// The queues no P owns.
pub(crate) struct Queues {
    /// The global run queue (Go's `sched.runq`): tasks spawned or woken
    /// outside any worker, and a full ring's overflow.
    pub(crate) global: Injector,
    /// Tasks that a thread holding no P (a `block_on` thread, the monitor)
    /// woke from the driver, and a driver poll's surplus past a full ring:
    /// they waited for I/O or a timer, so workers take them before their
    /// ring and the global queue (Go puts a goroutine woken by the
    /// netpoller or a timer in `runnext`).
    pub(crate) io_ready: Injector,
}

/// The OS threads of the runtime (Go's Ms).
pub(crate) struct Threads {
    /// Every thread started (workers, the monitor, spares), joined at
    /// shutdown.
    pub(crate) all: Mutex<Vec<crate::sync::thread::JoinHandle<()>>>,
    /// Threads that lost their P to a hand-off, waiting for another one.
    pub(crate) spares: Mutex<Vec<std::sync::mpsc::SyncSender<Box<Core>>>>,
}

/// What observability keeps beside the per-P counters.
pub(crate) struct Observe {
    /// Which wake to time next, and the times of timed wakes. Padded: its
    /// flag is read on every wake, and must not share a line with counters
    /// written often.
    pub(crate) wake_samples: Padded<WakeSamples>,
    /// When the runtime was built (`Stats::uptime`, `SCHED` lines).
    pub(crate) started: Instant,
}

pub(crate) struct Shared {
    pub(crate) ps: Ps,
    pub(crate) queues: Queues,
    /// Padded: its counters change on every sleep and wake, and must not
    /// share a line with fields that are only read.
    pub(crate) idle: Padded<Idle>,
    /// Serialises live resizes, and holds what they need (`resize`).
    pub(crate) resize: Mutex<Resize>,
    pub(crate) threads: Threads,
    pub(crate) monitor: MonitorLink,
    pub(crate) observe: Observe,
    /// Every parked task (for shutdown and the task dump), and task counts.
    pub(crate) registry: Registry,
    pub(crate) config: Config,
    /// The I/O and timer driver, if the runtime has one.
    pub(crate) driver: Option<Arc<dyn Driver>>,
    /// This runtime, for threads that need an `Arc` of it from `&self`.
    this: std::sync::OnceLock<std::sync::Weak<Shared>>,
    shutdown: AtomicBool,
    /// Set by [`Shared::finish_shutdown`] before its final drain: a task
    /// queued after that point is dropped by whoever queued it
    /// ([`Shared::drain_if_finished`]).
    finished: AtomicBool,
}

/// The schedule function of every task of a runtime (`Handle::spawn_at`).
///
/// A plain function, so zero-sized: it finds the runtime in the task's
/// metadata, where the task's strong count of it lives (`TaskMeta`'s
/// `TaskRef`). async-task wraps a call of a schedule function that
/// captures anything in a temporary waker, two atomic read-modify-writes
/// on the task's state per spawn and per wake, so that the task, and what
/// the function captured, outlive the call even if the task is run and
/// freed elsewhere meanwhile. Here that guard is needed only on a thread
/// that is not a worker of the task's runtime: a worker's context holds a
/// strong count of its runtime for as long as the thread runs it, so the
/// runtime outlives the call whatever becomes of the task. Elsewhere the
/// guard is taken here, as async-task would, and dropped after the call,
/// once no reference to the runtime is left.
pub(crate) fn schedule_task(task: Runnable, info: ScheduleInfo) {
    let shared: *const Shared = Arc::as_ptr(
        task.metadata()
            .runtime()
            .expect("goro: a runtime's task without its runtime"),
    );
    // SAFETY: the task holds a strong count of its runtime, so `shared`
    // is alive now; `runs` only compares the address.
    let _guard = (!worker::runs(unsafe { &*shared })).then(|| task.waker());
    // SAFETY: alive for the whole call: on a worker of the runtime, its
    // context holds a strong count (see above); elsewhere `_guard` keeps
    // the task, which holds one, alive until after the call.
    unsafe { &*shared }.schedule(task, info);
}

impl Shared {
    /// A runtime of `n` Ps; returns it with their cores, to be started.
    /// `watcher`, if any, lets the monitor follow the CPU limit.
    #[allow(clippy::vec_box)] // a P moves between threads as a `Box`
    pub(crate) fn new(
        n: usize,
        config: Config,
        watcher: Option<goro_procs::MaxProcsWatcher>,
    ) -> (Self, Vec<Box<Core>>) {
        let driver = config.driver.clone();
        let (cores, remotes): (Vec<_>, Vec<_>) =
            (0..n).map(|i| processor::new(i, driver.clone())).unzip();
        let shared = Shared {
            ps: Ps {
                table: PTable::new(remotes),
                active: Padded(AtomicUsize::new(n)),
            },
            queues: Queues {
                global: Injector::new(),
                io_ready: Injector::new(),
            },
            idle: Padded(Idle::new(n)),
            resize: Mutex::new(Resize::new(n, watcher)),
            threads: Threads {
                all: Mutex::new(Vec::new()),
                spares: Mutex::new(Vec::new()),
            },
            monitor: MonitorLink::new(),
            observe: Observe {
                wake_samples: Padded(WakeSamples::new()),
                started: Instant::now(),
            },
            registry: Registry::new(n),
            this: std::sync::OnceLock::new(),
            driver,
            config,
            shutdown: AtomicBool::new(false),
            finished: AtomicBool::new(false),
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
        self.ps.active()
    }

    /// Sets maxprocs; only `resize`, under the resize lock.
    pub(crate) fn store_num_procs(&self, n: usize) {
        self.idle.set_num_workers(n);
        self.ps.active.store(n, SeqCst);
    }

    #[inline]
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Queues a task of this runtime that was spawned or woken: the body of
    /// [`schedule_task`], which makes sure `self` outlives the call.
    pub(crate) fn schedule(&self, task: Runnable, info: ScheduleInfo) {
        let meta = task.metadata();
        meta.mark_queued();
        if self.observe.wake_samples.is_armed() {
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
            // Woken from a driver call on a thread without a P of this
            // runtime: the monitor, a `block_on` thread, or a worker of
            // another runtime firing the timers it shares with this one.
            if crate::context::in_remote_poll() || worker::in_driver_call() {
                self.queues.io_ready.push(task);
                self.notify();
            } else {
                self.schedule_remote(task);
                self.pace_producer();
            }
            self.drain_if_finished();
        }
    }

    /// After a push from a thread without a P: if the runtime's final drain
    /// has run already (a wake from another thread, or a spawn through a
    /// handle, racing the runtime's drop), nobody will ever pop the task,
    /// and it and this state would keep each other alive. Drop it here.
    /// The fences pair with [`Shared::finish_shutdown`]'s: either its drain
    /// sees the push, or this sees its flag.
    #[inline]
    fn drain_if_finished(&self) {
        fence(SeqCst);
        if self.finished.load(Relaxed) {
            self.drain_queues();
        }
    }

    /// Times this wake for the latency histogram if no other wake took the
    /// monitor's flag first (`latency`).
    #[cold]
    #[inline(never)]
    fn time_wake(&self, meta: &crate::task::TaskMeta) {
        if self.observe.wake_samples.claim() {
            meta.mark_sampled();
            self.observe.wake_samples.woken(meta.id().as_u64());
        }
    }

    /// Queues a task from a thread that holds no P of this runtime.
    ///
    /// During shutdown too: the task then waits in the global queue for
    /// shutdown's final drain. Dropping it here instead would run its
    /// future's destructor inside `wake`, often under the waker owner's lock.
    pub(crate) fn schedule_remote(&self, task: Runnable) {
        self.queues.global.push(task);
        self.notify();
    }

    /// Go's `wakep`: work became visible; make sure a worker will look.
    #[inline]
    pub(crate) fn notify(&self) {
        self.idle
            .notify(|| self.has_work(), |i| self.ps.get(i).unpark());
    }

    /// Called by a thread whose P was taken during the poll numbered `seq`
    /// of P `index`: reports the retake, if the monitor made one
    /// (`RetakeLog::report`).
    pub(crate) fn report_retake(&self, index: usize, seq: u64) {
        let after = self.config.retake_after.unwrap_or_default();
        self.monitor.retakes.report(index, seq, after);
    }

    /// A worker left its sleep in the driver to run a task, which may block
    /// its thread: if a timer falls due within [`POLLER_HORIZON`], hand the
    /// poller role on now ([`Shared::hand_off_poller`]), so the timer fires
    /// on time. Otherwise the monitor hands it on if nobody has polled for a
    /// millisecond by its next look (`monitor`), and busy workers poll
    /// between tasks anyway: handing it on at every departure woke a
    /// sleeping worker for nothing thousands of times a second under
    /// network load (issue 15: about 15 % of an HTTP server's CPU per
    /// request in one measurement).
    pub(crate) fn hand_off_poller_for_timers(&self) {
        if self
            .driver
            .as_deref()
            .is_some_and(|d| d.timer_due_within(POLLER_HORIZON))
        {
            self.hand_off_poller();
        }
    }

    /// A thread stopped polling the driver (a `block_on` thread, or a worker
    /// leaving its sleep in the driver to run a task): if tasks still wait on
    /// it, nobody polls and workers sleep, wake one so that it takes over the
    /// poller role.
    pub(crate) fn hand_off_poller(&self) {
        if self
            .driver
            .as_deref()
            .is_some_and(|d| d.has_waiters() && !d.is_polling())
        {
            self.idle.notify(|| false, |i| self.ps.get(i).unpark());
        }
    }

    /// Whether any queue holds a task (racy; used for the final recheck
    /// before sleeping).
    pub(crate) fn has_work(&self) -> bool {
        !self.queues.global.is_empty()
            || !self.queues.io_ready.is_empty()
            || self.ps.active_ps().any(|p| !p.is_idle())
    }

    /// Stops the workers; tasks left in their queues are dropped by their
    /// workers, everything else by [`Shared::finish_shutdown`].
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        // Dropping their senders wakes the spare threads, which then exit.
        lock(&self.threads.spares).clear();
        for (_, p) in self.ps.table().iter() {
            p.unpark();
        }
        self.monitor.unpark();
    }

    fn drain_queues(&self) {
        while let Some(task) = self.queues.global.pop() {
            drop(task);
        }
        while let Some(task) = self.queues.io_ready.pop() {
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
        for (_, p) in self.ps.table().iter() {
            drop(p.runnext().take());
        }
        self.finished.store(true, Relaxed);
        fence(SeqCst);
        self.drain_queues();
    }
}
