//! The monitor thread (Go's `sysmon`): one per runtime, not a worker,
//! holding no P. It does the runtime's housekeeping:
//! - **retake**: a P whose thread has been in one task's poll for longer
//!   than the retake threshold (10 ms by default) is taken from that thread
//!   and handed to a spare or new thread, so the tasks queued behind the
//!   stuck one keep running (see `lend` for the protocol). At half the
//!   threshold the task is asked to yield ([`crate::should_yield`]). The
//!   task is reported only if it slept in the kernel or ran on the CPU for
//!   the threshold itself ([`deserves_report`]), not when a loaded host
//!   merely kept it off the CPU;
//! - **network-poll fallback**: if tasks wait on the driver and nobody has
//!   polled it for [`POLL_STALE`], it polls, and the tasks that makes ready
//!   go to the global queue;
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
use std::thread;
use std::time::{Duration, Instant};

use crate::lend::Slot;
use crate::machine;
use crate::schedtrace::Tracer;
use crate::shared::{Retake, Shared};
use crate::sync::lock;
use crate::thread_state::ThreadRef;
use crate::worker::Core;

/// Go's sysmon polls the network if nobody has for 10 ms.
pub(crate) const POLL_STALE: Duration = Duration::from_millis(10);
/// How often the monitor looks while workers are busy.
const BUSY_PERIOD: Duration = Duration::from_millis(1);
/// The longest the monitor sleeps while every worker is idle.
const MAX_PERIOD: Duration = Duration::from_secs(1);

/// Starts the monitor thread of `shared`; it is joined with the workers.
pub(crate) fn start(shared: &Arc<Shared>) -> std::io::Result<()> {
    let shared2 = shared.clone();
    let t = thread::Builder::new()
        .name("goro-monitor".into())
        .spawn(move || Monitor::new(&shared2).run(&shared2))?;
    lock(&shared.threads).push(t);
    Ok(())
}

/// What the monitor remembers about one P between looks.
#[derive(Clone, Copy)]
struct Seen {
    word: u64,
    since: Instant,
    /// From the second look at the same poll: when, and the thread's CPU
    /// time then.
    mark: Option<(Instant, Option<Duration>)>,
}

struct Monitor {
    seen: Vec<Seen>,
    /// Ps taken from stuck threads that no thread could be started for yet
    /// (boxed: a P moves between threads as a `Box`).
    #[allow(clippy::vec_box)]
    orphans: Vec<Box<Core>>,
    /// Set when `GORO_SCHEDTRACE` (or `Builder::schedtrace`) asks for lines.
    trace: Option<Tracer>,
    /// When the CPU limit was last re-read (`resize`).
    last_refresh: Instant,
}

impl Monitor {
    fn new(shared: &Shared) -> Self {
        let now = Instant::now();
        Monitor {
            seen: vec![
                Seen {
                    word: 0,
                    since: now,
                    mark: None,
                };
                shared.num_procs()
            ],
            orphans: Vec::new(),
            trace: shared.config.schedtrace.map(Tracer::new),
            last_refresh: now,
        }
    }

    /// The monitor's loop; it ends when the runtime shuts down (dropping
    /// the `Runtime` unparks it).
    fn run(mut self, shared: &Shared) {
        let mut period = BUSY_PERIOD;
        loop {
            if shared.is_shutdown() {
                return;
            }
            shared.monitor_wakeups.fetch_add(1, Relaxed);
            crate::clock::refresh();
            shared.wake_samples.arm();
            let all_idle = shared.idle.num_sleeping() >= shared.num_procs();
            if all_idle {
                shared.monitor_idle.store(true, SeqCst);
                period = (period * 2).min(MAX_PERIOD);
            } else {
                shared.monitor_idle.store(false, SeqCst);
                period = BUSY_PERIOD;
            }
            if let Some(after) = shared.config.retake_after {
                self.watch(shared, after);
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
                if driver.needs_poll(POLL_STALE) && driver.try_acquire() {
                    crate::context::remote_poll(|| driver.poll(Some(Duration::ZERO)));
                    driver.release();
                }
            }
            let sleep = match &mut self.trace {
                Some(t) => period.min(t.tick(shared)),
                None => period,
            };
            shared.monitor.park_timeout(sleep);
        }
    }

    /// Looks at every P: asks a poll that has run for half of `after` to
    /// yield, and retakes the P of one that has run for `after`.
    fn watch(&mut self, shared: &Shared, after: Duration) {
        let now = Instant::now();
        // Every P, retired ones too: one may still be in a long poll.
        for (index, p) in shared.procs.iter() {
            let p = &p.remote;
            let word = p.slot.observe();
            if index >= self.seen.len() {
                self.seen.resize(
                    index + 1,
                    Seen {
                        word: 0,
                        since: now,
                        mark: None,
                    },
                );
            }
            let seen = &mut self.seen[index];
            if word != seen.word || !Slot::<Box<Core>>::is_lent(word) {
                *seen = Seen {
                    word,
                    since: now,
                    mark: None,
                };
                continue;
            }
            let thread = ThreadRef::from_bits(p.watch.thread.load(Relaxed));
            let Some((mark_at, mark_cpu)) = seen.mark else {
                // The poll outlived one look: note the thread's CPU time, to
                // tell later whether it ran or waited.
                seen.mark = Some((now, thread.cpu_time()));
                continue;
            };
            let ran = now - seen.since;
            if ran >= after / 2 {
                p.watch
                    .preempt
                    .store(Slot::<Box<Core>>::seq_of(word), Relaxed);
            }
            if ran < after {
                continue;
            }
            if !stuck(thread, now - mark_at, mark_cpu) {
                // Runnable but not running: the OS gave its CPU to another
                // thread. Retaking would not make anything run sooner.
                seen.since = now;
                seen.mark = None;
                continue;
            }
            // Record before taking: the stuck thread looks the record up as
            // soon as its poll returns and finds the P gone.
            let key = (index, Slot::<Box<Core>>::seq_of(word));
            let location = p.watch.task_location.load(Relaxed);
            // Read before taking the lock: `is_blocked` may read a file.
            let usage = Usage {
                cpu_at_mark: mark_cpu,
                unmeasured: (mark_at - seen.since).min(BUSY_PERIOD),
                blocked: thread.is_blocked(),
            };
            lock(&shared.retaken).insert(
                key,
                Retake {
                    since: seen.since,
                    task_id: p.watch.task_id.load(Relaxed),
                    // SAFETY: the pointer was made from a
                    // `&'static Location<'static>` (or is null).
                    location: unsafe { location.as_ref() },
                    usage,
                },
            );
            match p.slot.take(word) {
                Some(core) => {
                    shared.retakes.fetch_add(1, Relaxed);
                    self.orphans.push(core);
                }
                None => {
                    // The poll ended just now; nothing to report.
                    lock(&shared.retaken).remove(&key);
                }
            }
            *seen = Seen {
                word: 0,
                since: now,
                mark: None,
            };
        }
        self.place_orphans(shared);
    }
}

/// Whether a thread that has been in one poll for a while is stuck there:
/// it used at least an eighth of `wall` in CPU (a long loop), or it sleeps in
/// the kernel (a blocking call); an eighth, because a long loop sharing a
/// core with other busy threads gets only part of it. A thread that is
/// runnable but got almost no CPU is only waiting for one. Unknown (no CPU clock, no `/proc`): stuck.
fn stuck(thread: ThreadRef, wall: Duration, cpu_then: Option<Duration>) -> bool {
    if let (Some(then), Some(now)) = (cpu_then, thread.cpu_time()) {
        if now.saturating_sub(then) * 8 >= wall {
            return true;
        }
    }
    thread.is_blocked().unwrap_or(true)
}

/// What the monitor saw of a thread whose P it retook, for the report.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Usage {
    /// The thread's CPU time at the second look at the poll.
    cpu_at_mark: Option<Duration>,
    /// The poll's wall time before that look, when its CPU time was not
    /// measured, capped at one monitor period: a monitor that a loaded host
    /// delayed must not count its own delay as the task's CPU time.
    unmeasured: Duration,
    /// Whether the thread slept in the kernel when its P was taken.
    blocked: Option<bool>,
}

/// Whether a retaken poll, now ended, is worth a warning: its task slept in
/// the kernel when the P was taken (a blocking call), or used at least the
/// retake threshold `after` in CPU time (a long loop). A poll that lasted
/// long only because the OS ran other threads (a loaded host) did neither:
/// the retake helped its queue, but the task did nothing wrong. Called on
/// the retaken thread itself, right after the poll. Where the CPU time or
/// the state is unknown: reported (the wall-clock rule).
pub(crate) fn deserves_report(usage: &Usage, after: Duration) -> bool {
    if usage.blocked != Some(false) {
        return true;
    }
    match (usage.cpu_at_mark, ThreadRef::current().cpu_time()) {
        // The unmeasured start counts as if the task ran all of it.
        (Some(then), Some(now)) => now.saturating_sub(then) + usage.unmeasured >= after,
        _ => true,
    }
}

impl Monitor {
    /// Gives each retaken P a thread; keeps the ones the OS refuses a thread
    /// for, to try again next time.
    fn place_orphans(&mut self, shared: &Shared) {
        let Some(shared) = shared.self_arc() else {
            return;
        };
        let mut left = Vec::new();
        for core in self.orphans.drain(..) {
            if let Err((_, core)) = machine::start(&shared, core) {
                left.push(core);
            }
        }
        self.orphans = left;
    }
}

#[cfg(all(
    test,
    not(loom),
    any(target_os = "linux", target_os = "freebsd", target_vendor = "apple")
))]
mod tests {
    use super::*;

    #[test]
    fn reports_only_what_slept_or_ran() {
        let after = Duration::from_millis(10);
        let now = ThreadRef::current().cpu_time();
        let usage = |blocked, unmeasured| Usage {
            cpu_at_mark: now,
            unmeasured,
            blocked,
        };
        // Runnable, barely ran since the mark: the OS kept it waiting.
        assert!(!deserves_report(&usage(Some(false), Duration::ZERO), after));
        // Asleep in the kernel: a blocking call.
        assert!(deserves_report(&usage(Some(true), Duration::ZERO), after));
        // Unknown state: the wall-clock rule.
        assert!(deserves_report(&usage(None, Duration::ZERO), after));
        // The unmeasured start counts as CPU time.
        assert!(deserves_report(&usage(Some(false), after), after));
        // Unknown CPU time: reported.
        let blind = Usage {
            cpu_at_mark: None,
            ..usage(Some(false), Duration::ZERO)
        };
        assert!(deserves_report(&blind, after));
    }
}
