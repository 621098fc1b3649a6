//! The monitor thread (Go's `sysmon`): one per runtime, not a worker,
//! holding no P. It does the runtime's housekeeping:
//! - **retake** (`retake`): a P whose thread has been in one task's poll for
//!   longer than the retake threshold (10 ms by default) is taken from that
//!   thread and handed to a spare or new thread; if the thread sleeps in the
//!   kernel while the P has tasks queued, after about 1 ms already; a
//!   computing thread keeps it while nothing waits that other Ps cannot take;
//! - **the poller role**: if tasks wait on the driver, nobody has polled it
//!   for a busy period (or a timer falls due before the next look) and a
//!   worker sleeps on its own parker, it wakes that worker to sleep in the
//!   driver instead;
//! - **network-poll fallback**: if tasks wait on the driver and nobody has
//!   polled it for [`POLL_STALE`], it polls, and the tasks that makes ready
//!   go to the queue of tasks woken from I/O (`Queues::io_ready`);
//! - **woken tasks left waiting**: a driver poll's small surplus wakes
//!   nobody at once (`find::SURPLUS_WAKE`); if tasks wait in the queue of
//!   tasks woken from I/O while some P is in the same poll as at its last
//!   look, it wakes a sleeping worker for them;
//! - **maxprocs updates**: unless maxprocs was set explicitly, it re-reads
//!   the container's CPU limit once a second and resizes (`resize`);
//! - **observability**: it keeps the coarse clock that task ages are read
//!   from (`clock`), picks the wakes timed for the latency histogram
//!   (`latency`), and prints `GORO_SCHEDTRACE` lines (`schedtrace`).
//!
//! It looks every [`BUSY_PERIOD`] while any worker is awake: a stuck poll is
//! then noticed within the threshold plus 1 ms (Go's sysmon backs off to
//! 10 ms, which is why Go takes up to 20 ms). While every worker sleeps it
//! backs off to [`MAX_PERIOD`], and the first worker to wake brings it back.

use std::sync::Arc;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::{Duration, Instant};

use crate::padded::Padded;
use crate::park::Parker;
use crate::retake::{RetakeLog, Retaker};
use crate::schedtrace::Tracer;
use crate::shared::Shared;
use crate::sync::{AtomicBool, AtomicU64, lock, thread};

/// Go's sysmon polls the network if nobody has for 10 ms.
pub(crate) const POLL_STALE: Duration = Duration::from_millis(10);
/// How often the monitor looks while workers are busy.
pub(crate) const BUSY_PERIOD: Duration = Duration::from_millis(1);
/// The longest the monitor sleeps while every worker is idle.
const MAX_PERIOD: Duration = Duration::from_secs(1);

/// What the rest of the runtime shares with its monitor.
pub(crate) struct MonitorLink {
    /// The monitor thread sleeps here.
    parker: Padded<Parker>,
    /// Whether the monitor sleeps long because every worker is idle.
    backed_off: AtomicBool,
    /// Times the monitor woke up (`Stats::monitor_wakeups`).
    wakeups: AtomicU64,
    /// The retakes it made.
    pub(crate) retakes: RetakeLog,
}

impl MonitorLink {
    pub(crate) fn new() -> Self {
        MonitorLink {
            parker: Padded(Parker::new()),
            backed_off: AtomicBool::new(false),
            wakeups: AtomicU64::new(0),
            retakes: RetakeLog::new(),
        }
    }

    /// A worker left its sleep: if the monitor backs off because every
    /// worker was idle, bring it back to its short period.
    pub(crate) fn worker_woke(&self) {
        if self.backed_off.load(Relaxed) && self.backed_off.swap(false, SeqCst) {
            self.parker.unpark();
        }
    }

    /// Whether the monitor sleeps long because every worker is idle (so the
    /// coarse clock may be stale).
    #[inline]
    pub(crate) fn is_backed_off(&self) -> bool {
        self.backed_off.load(Relaxed)
    }

    /// Wakes the monitor (at shutdown).
    pub(crate) fn unpark(&self) {
        self.parker.unpark();
    }

    /// Times the monitor woke up.
    pub(crate) fn wakeups(&self) -> u64 {
        self.wakeups.load(Relaxed)
    }
}

/// Starts the monitor thread of `shared`; it is joined with the workers.
pub(crate) fn start(shared: &Arc<Shared>) -> std::io::Result<()> {
    let shared2 = shared.clone();
    let t = thread::Builder::new()
        .name("goro-monitor".into())
        .spawn(move || Monitor::new(&shared2).run(&shared2))?;
    lock(&shared.threads.all).push(t);
    Ok(())
}

struct Monitor {
    retaker: Retaker,
    /// Set when `GORO_SCHEDTRACE` (or `Builder::schedtrace`) asks for lines.
    trace: Option<Tracer>,
    /// When the CPU limit was last re-read (`resize`).
    last_refresh: Instant,
}

impl Monitor {
    fn new(shared: &Shared) -> Self {
        Monitor {
            retaker: Retaker::new(),
            trace: shared.config.schedtrace.map(Tracer::new),
            last_refresh: Instant::now(),
        }
    }

    /// The monitor's loop; it ends when the runtime shuts down (dropping
    /// the `Runtime` unparks it).
    fn run(mut self, shared: &Shared) {
        let link = &shared.monitor;
        let mut period = BUSY_PERIOD;
        loop {
            if shared.is_shutdown() {
                if let Some(after) = shared.config.retake_after {
                    self.retaker.report_kept_polls(shared, after);
                }
                return;
            }
            link.wakeups.fetch_add(1, Relaxed);
            crate::clock::refresh();
            shared.observe.wake_samples.arm();
            let all_idle = shared.idle.num_sleeping() >= shared.ps.active();
            link.backed_off.store(all_idle, SeqCst);
            // With every worker asleep, one of them normally sleeps in the
            // driver. If none does while tasks wait on it (the role was
            // held elsewhere, by a `block_on` thread or this monitor's own
            // poll, when they went to sleep), keep looking every busy
            // period, so that the hand-off below brings one in within a
            // millisecond, not after a backed-off nap of up to a second.
            let unpolled = shared
                .driver
                .as_deref()
                .is_some_and(|d| d.has_waiters() && !d.is_polling());
            period = if all_idle && !unpolled {
                (period * 2).min(MAX_PERIOD)
            } else {
                BUSY_PERIOD
            };
            // With retake off nothing tells a long poll apart: count every P.
            let long_polls = match shared.config.retake_after {
                Some(after) => self.retaker.watch(shared, after),
                None => usize::MAX,
            };
            // A driver poll's small surplus waits on the shared queue of
            // woken tasks without a wake (`find::SURPLUS_WAKE`), for the
            // polling worker to take between its tasks. If a P is in the
            // same poll as at the last look, that worker may be the one
            // stuck in it: wake a sleeping worker for the surplus.
            if long_polls > 0 && !shared.queues.io_ready.is_empty() {
                shared.notify();
            }
            let now = Instant::now();
            if now.duration_since(self.last_refresh) >= crate::resize::REFRESH_EVERY {
                self.last_refresh = now;
                if let Some(shared) = shared.self_arc() {
                    shared.refresh_maxprocs();
                }
                crate::machine::reap_threads(shared);
            }
            if let Some(driver) = shared.driver.as_deref() {
                // Nobody has polled for a busy period, or a timer falls due
                // before the next look: a sleeping worker takes the poller
                // role (a worker leaving the driver hands it on itself only
                // for a timer due soon: `Shared::hand_off_poller_for_timers`).
                if driver.needs_poll(BUSY_PERIOD)
                    || driver.timer_due_within(crate::shared::POLLER_HORIZON)
                {
                    shared.hand_off_poller();
                }
                if driver.needs_poll(POLL_STALE) && driver.try_acquire() {
                    crate::context::remote_poll(|| driver.poll(Some(Duration::ZERO)));
                    driver.release();
                }
            }
            let sleep = match &mut self.trace {
                Some(t) => period.min(t.tick(shared)),
                None => period,
            };
            link.parker.park_timeout(sleep);
        }
    }
}
