//! Retake (Go's `retake` in sysmon): the monitor takes a P away from a
//! thread that has been in one task's poll for too long, so the tasks queued
//! behind the stuck one keep running on another thread.
//!
//! The pieces, all here but the protocol on the slot itself (`lend`):
//! - [`Retaker`], the monitor's side: it watches every P's lend word, asks a
//!   poll that has run for half the threshold to yield
//!   ([`crate::should_yield`]), and takes the P of one that has run for the
//!   whole threshold, unless the OS merely kept that thread off the CPU
//!   ([`stuck`]). A thread asleep in the kernel while its P has tasks
//!   queued loses the P much sooner, after [`BLOCKED_AFTER`] (about one
//!   monitor period; Go retakes a P in a syscall at the next sysmon tick if
//!   it has work); one that computes keeps the whole threshold, and keeps
//!   its P past it while the move would help nobody ([`Room`]). It gives
//!   each taken P a thread (`machine::start`).
//! - [`RetakeLog`], shared by the runtime: the retakes made and not yet
//!   reported, looked up by the stuck thread as soon as its poll returns
//!   ([`RetakeLog::report`]), and the retake count (`Stats::retakes`).
//!
//! A task is reported once, and only if it slept in the kernel or ran on
//! the CPU for the threshold itself ([`deserves_report`]), not when a
//! loaded host merely kept it off the CPU.
//!
//! Where goro differs from Go: Go preempts a goroutine that has run for
//! 10 ms, and its thread goes on running the P's other goroutines. goro
//! cannot preempt a poll; taking the P to a new thread leaves one more
//! thread computing than there are Ps, and on a machine with as many CPUs
//! as Ps the kernel then shares the CPUs between all of them in slices of
//! milliseconds, which every other task feels (issue 18: a ticker's p99
//! lateness 0.6-1.4 ms with the move, 0.3-0.4 ms without). So a computing
//! poll keeps its P past the threshold while its P has nothing queued and
//! another P has room: it slept within the threshold or sleeps now, so the
//! shared queues reach a worker anyway. It is still reported when it ends.
//! Where the OS does not say whether a thread sleeps (Windows), the P moves
//! at the threshold as before.

use std::collections::{HashMap, HashSet};
use std::panic::Location;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::lend::LendWord;
use crate::machine;
use crate::monitor::BUSY_PERIOD;
use crate::processor::{Core, Remote};
use crate::shared::Shared;
use crate::sync::{AtomicU64, Mutex, lock};
use crate::thread_state::ThreadRef;

/// Reported task ids kept before the set starts over.
const MAX_REPORTED: usize = 4096;

/// How long a poll whose thread sleeps in the kernel may keep a P that has
/// tasks queued (the retake threshold if that is shorter): about one monitor
/// period, so the queue moves within about a millisecond. The monitor
/// retakes at the first look that finds the poll seen at least half of this
/// before, which absorbs the jitter of its own period.
pub(crate) const BLOCKED_AFTER: Duration = Duration::from_millis(1);

/// What the monitor remembers about one P between looks.
#[derive(Clone, Copy)]
struct Seen {
    word: LendWord,
    since: Instant,
    /// From the second look at the same poll: when, and the thread's CPU
    /// time then.
    mark: Option<(Instant, Option<Duration>)>,
    /// From the first look that found work waiting for this P: when, and
    /// the thread's CPU time then ([`asleep_with_work`]).
    work_mark: Option<(Instant, Option<Duration>)>,
    /// A computing poll past the threshold that kept its P ([`Room`]):
    /// reported when it ends.
    kept: Option<Kept>,
}

/// A poll that ran past the threshold without losing its P, to report when
/// it ends.
#[derive(Clone, Copy)]
struct Kept {
    task_id: u64,
    location: Option<&'static Location<'static>>,
    /// What the monitor saw of the thread, as for a retake.
    usage: Usage,
    /// The thread's CPU time at the latest look during the poll.
    cpu_last: Option<Duration>,
}

impl Seen {
    fn new(word: LendWord, now: Instant) -> Self {
        Seen {
            word,
            since: now,
            mark: None,
            work_mark: None,
            kept: None,
        }
    }
}

/// Whether the active Ps other than a stuck one have room for the shared
/// queues' work: one that sleeps now, or went to sleep within the retake
/// threshold and is not itself in a long poll, will take what is queued
/// there, so moving the stuck P to a new thread would only add a thread
/// competing for the CPUs.
#[derive(Default)]
struct Room {
    ps: Vec<Peer>,
}

/// What the monitor saw of one active P, for [`Room`].
#[derive(Clone, Copy, Default)]
struct Peer {
    /// Its sleep count (`Parker::parks`) at the last look.
    parks: u64,
    /// The last look that found it asleep or its sleep count changed.
    slept_at: Option<Instant>,
    /// Whether it was in the same poll as at the look before.
    in_long_poll: bool,
}

impl Room {
    /// Notes what each active P did since the last look (before `seen` is
    /// updated for this one).
    fn look(&mut self, shared: &Shared, seen: &[Seen], now: Instant) {
        self.ps.resize(shared.ps.active(), Peer::default());
        for ((i, p), peer) in shared.ps.active_ps().enumerate().zip(&mut self.ps) {
            let parker = p.parker();
            let parks = parker.parks();
            if parks != peer.parks || parker.is_parked() {
                peer.parks = parks;
                peer.slept_at = Some(now);
            }
            let word = p.lend().observe();
            peer.in_long_poll = word.is_lent() && seen.get(i).is_some_and(|s| s.word == word);
        }
    }

    /// Whether a P other than `index` has room (see the type).
    fn elsewhere(&self, index: usize, after: Duration, now: Instant) -> bool {
        self.ps.iter().enumerate().any(|(i, peer)| {
            i != index && !peer.in_long_poll && peer.slept_at.is_some_and(|t| now - t < after)
        })
    }
}

/// The monitor's side of retake; see the module docs.
pub(crate) struct Retaker {
    seen: Vec<Seen>,
    room: Room,
    /// Ps taken from stuck threads that no thread could be started for yet
    /// (boxed: a P moves between threads as a `Box`).
    #[allow(clippy::vec_box)]
    orphans: Vec<Box<Core>>,
}

impl Retaker {
    pub(crate) fn new() -> Self {
        Retaker {
            seen: Vec::new(),
            room: Room::default(),
            orphans: Vec::new(),
        }
    }

    /// Looks at every P: asks a poll that has run for half of `after` to
    /// yield, and retakes the P of one that has run for `after`. Returns
    /// how many Ps were found in the same poll as at the last look.
    pub(crate) fn watch(&mut self, shared: &Shared, after: Duration) -> usize {
        let now = Instant::now();
        let mut long_polls = 0;
        self.room.look(shared, &self.seen, now);
        let log = &shared.monitor.retakes;
        // Every P, retired ones too: one may still be in a long poll.
        for (index, p) in shared.ps.table().iter() {
            let word = p.lend().observe();
            if index >= self.seen.len() {
                self.seen
                    .resize(index + 1, Seen::new(LendWord::default(), now));
            }
            let seen = &mut self.seen[index];
            if word != seen.word || !word.is_lent() {
                if let Some(kept) = seen.kept {
                    log.report_kept(index, &kept, seen.since, after);
                }
                *seen = Seen::new(word, now);
                continue;
            }
            long_polls += 1;
            let thread = p.thread();
            let ran = now - seen.since;
            // A thread asleep in the kernel while its P has tasks queued
            // loses the P after [`BLOCKED_AFTER`] (Go retakes a P in a
            // syscall at the next sysmon tick if it has work); one that
            // computes keeps the full threshold.
            let (mark_at, mark_cpu, blocked) =
                if ran < after && asleep_with_work(shared, p, thread, seen, now) {
                    let (at, cpu) = seen.mark.unwrap_or((now, None));
                    (at, cpu, Some(true))
                } else {
                    let Some((mark_at, mark_cpu)) = seen.mark else {
                        // The poll outlived one look: note the thread's CPU time,
                        // to tell later whether it ran or waited.
                        seen.mark = Some((now, thread.cpu_time()));
                        continue;
                    };
                    if ran >= after / 2 {
                        p.request_preempt(word);
                    }
                    if ran < after {
                        continue;
                    }
                    if !stuck(thread, now - mark_at, mark_cpu) {
                        // Runnable but not running: the OS gave its CPU to
                        // another thread. Retaking would not make anything run
                        // sooner.
                        *seen = Seen::new(word, now);
                        continue;
                    }
                    // Read before taking the lock: `is_blocked` may read a file.
                    let blocked = thread.is_blocked();
                    // Under loom, where the clocks cannot decide: the move.
                    if !cfg!(loom)
                        && blocked == Some(false)
                        && p.queue_len() == 0
                        && self.room.elsewhere(index, after, now)
                    {
                        // Computing, nothing queued here, room elsewhere:
                        // keep the P; report the poll when it ends.
                        let cpu_last = thread.cpu_time();
                        let kept = seen.kept.get_or_insert_with(|| {
                            let (task_id, location) = p.polled_task();
                            Kept {
                                task_id,
                                location,
                                usage: Usage::new(seen.since, mark_at, mark_cpu, blocked),
                                cpu_last,
                            }
                        });
                        kept.cpu_last = cpu_last;
                        continue;
                    }
                    (mark_at, mark_cpu, blocked)
                };
            // Record before taking: the stuck thread looks the record up as
            // soon as its poll returns and finds the P gone.
            let key = (index, word.seq());
            let (task_id, location) = p.polled_task();
            let usage = Usage::new(seen.since, mark_at, mark_cpu, blocked);
            log.record(
                key,
                Retake {
                    since: seen.since,
                    task_id,
                    location,
                    usage,
                },
            );
            match p.lend().take(word) {
                Some(core) => {
                    log.count.fetch_add(1, Relaxed);
                    self.orphans.push(core);
                }
                // The poll ended just now; nothing to report.
                None => log.forget(key),
            }
            *seen = Seen::new(LendWord::default(), now);
        }
        self.place_orphans(shared);
        long_polls
    }

    /// Reports every computing poll that kept its P past the threshold and
    /// has not been reported yet (called once, at shutdown: the monitor
    /// will not look again to see them end).
    pub(crate) fn report_kept_polls(&mut self, shared: &Shared, after: Duration) {
        for (index, seen) in self.seen.iter_mut().enumerate() {
            if let Some(kept) = seen.kept.take() {
                shared
                    .monitor
                    .retakes
                    .report_kept(index, &kept, seen.since, after);
            }
        }
    }

    /// Gives each retaken P a thread; keeps the ones the OS refuses a thread
    /// for, to try again next time.
    fn place_orphans(&mut self, shared: &Shared) {
        if self.orphans.is_empty() {
            return;
        }
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

/// Whether a thread that has been in one poll for a while is stuck there:
/// it used at least an eighth of `wall` in CPU (a long loop), or it sleeps in
/// the kernel (a blocking call); an eighth, because a long loop sharing a
/// core with other busy threads gets only part of it. A thread that is
/// runnable but got almost no CPU is only waiting for one. Unknown (no CPU
/// clock, no `/proc`): stuck.
fn stuck(thread: ThreadRef, wall: Duration, cpu_then: Option<Duration>) -> bool {
    // Under loom, whose models must run the same way each time they replay
    // a schedule, the clocks cannot decide: every long poll is stuck.
    if cfg!(loom) {
        return true;
    }
    if let (Some(then), Some(now)) = (cpu_then, thread.cpu_time()) {
        if now.saturating_sub(then) * 8 >= wall {
            return true;
        }
    }
    thread.is_blocked().unwrap_or(true)
}

/// Whether P `p`'s thread sleeps in the kernel while work waits that this P
/// could run: tasks in its own ring or `runnext`, or in the global queues
/// while no worker sleeps (an idle worker would take those itself), for at
/// least half of [`BLOCKED_AFTER`] (from the first look that saw the work,
/// `seen.work_mark`, to this one) with little CPU time meanwhile (less than
/// an eighth of it, as in [`stuck`]: a thread that computes but is seen
/// between two slices asleep, as under valgrind's one-thread-at-a-time
/// lock, keeps its P). Reads the thread's clock and state (a `/proc` file
/// on Linux) only when work waits, so an idle or computing runtime pays
/// nothing. Where the state is unknown (Windows), and under loom: `false`,
/// the threshold rule alone.
fn asleep_with_work(
    shared: &Shared,
    p: &Remote,
    thread: ThreadRef,
    seen: &mut Seen,
    now: Instant,
) -> bool {
    if cfg!(loom) {
        return false;
    }
    let waiting = p.queue_len() != 0
        || (shared.idle.num_sleeping() == 0
            && (!shared.queues.global.is_empty() || !shared.queues.io_ready.is_empty()));
    if !waiting {
        return false;
    }
    let Some((at, cpu_then)) = seen.work_mark else {
        seen.work_mark = Some((now, thread.cpu_time()));
        return false;
    };
    let wall = now - at;
    if wall < BLOCKED_AFTER / 2 {
        return false;
    }
    if let (Some(then), Some(cpu)) = (cpu_then, thread.cpu_time()) {
        if cpu.saturating_sub(then) * 8 >= wall {
            return false;
        }
    }
    thread.is_blocked() == Some(true)
}

/// A retake the monitor made, reported when the stuck poll ends.
pub(crate) struct Retake {
    since: Instant,
    task_id: u64,
    location: Option<&'static Location<'static>>,
    /// What the stuck thread did, to tell a task that held its worker from
    /// one the OS descheduled ([`deserves_report`]).
    usage: Usage,
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

impl Usage {
    /// For a poll seen first at `since` and marked at `mark_at`, when its
    /// thread's CPU time was `mark_cpu`.
    fn new(
        since: Instant,
        mark_at: Instant,
        mark_cpu: Option<Duration>,
        blocked: Option<bool>,
    ) -> Usage {
        Usage {
            cpu_at_mark: mark_cpu,
            unmeasured: (mark_at - since).min(BUSY_PERIOD),
            blocked,
        }
    }
}

/// Whether a retaken poll, now ended, is worth a warning: its task slept in
/// the kernel when the P was taken (a blocking call), or used at least the
/// retake threshold `after` in CPU time (a long loop). A poll that lasted
/// long only because the OS ran other threads (a loaded host) did neither:
/// the retake helped its queue, but the task did nothing wrong. Called on
/// the retaken thread itself, right after the poll. Where the CPU time or
/// the state is unknown: reported (the wall-clock rule).
pub(crate) fn deserves_report(usage: &Usage, after: Duration) -> bool {
    // Under loom: never (the clocks cannot decide, see `stuck`).
    if cfg!(loom) {
        return false;
    }
    if usage.blocked != Some(false) {
        return true;
    }
    ran_past(usage, ThreadRef::current().cpu_time(), after)
}

/// Whether the thread of `usage`, whose CPU time is `cpu_now`, ran on the
/// CPU for `after` since the poll began (unknown: yes).
fn ran_past(usage: &Usage, cpu_now: Option<Duration>, after: Duration) -> bool {
    match (usage.cpu_at_mark, cpu_now) {
        // The unmeasured start counts as if the task ran all of it.
        (Some(then), Some(now)) => now.saturating_sub(then) + usage.unmeasured >= after,
        _ => true,
    }
}

/// The retakes of one runtime; see the module docs.
pub(crate) struct RetakeLog {
    /// Retakes keyed by P index and lend number, until the stuck poll ends
    /// and reports itself.
    pending: Mutex<HashMap<(usize, u64), Retake>>,
    /// Tasks already reported (each is reported once).
    reported: Mutex<HashSet<u64>>,
    /// Ps retaken so far (`Stats::retakes`).
    pub(crate) count: AtomicU64,
}

impl RetakeLog {
    pub(crate) fn new() -> Self {
        RetakeLog {
            pending: Mutex::new(HashMap::new()),
            reported: Mutex::new(HashSet::new()),
            count: AtomicU64::new(0),
        }
    }

    fn record(&self, key: (usize, u64), retake: Retake) {
        lock(&self.pending).insert(key, retake);
    }

    fn forget(&self, key: (usize, u64)) {
        lock(&self.pending).remove(&key);
    }

    /// Ps retaken so far.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Called by a thread whose P was taken during the poll numbered `seq`
    /// of P `index`: if the monitor took it, warn about the task, once per
    /// task, unless the task neither ran past the threshold `after` nor
    /// slept in the kernel (the OS took its CPU away). A hand-off by
    /// `goro::blocking` is not in the log and is not reported.
    pub(crate) fn report(&self, index: usize, seq: u64, after: Duration) {
        let Some(r) = lock(&self.pending).remove(&(index, seq)) else {
            return;
        };
        // A P taken early from a thread asleep in the kernel ([`BLOCKED_AFTER`])
        // is worth a warning only if the poll went on past the threshold: a
        // short blocking call is what the early retake is for.
        if r.since.elapsed() < after || !deserves_report(&r.usage, after) {
            return;
        }
        self.warn(
            index,
            r.task_id,
            r.location,
            r.since,
            "its queue moved to another thread",
        );
    }

    /// Called by the monitor when a computing poll that kept its P past the
    /// threshold (other Ps had room) has ended, or at shutdown: reports it
    /// like a retaken one, if it ran on the CPU for the threshold. `since`:
    /// when the monitor first saw the poll.
    fn report_kept(&self, index: usize, kept: &Kept, since: Instant, after: Duration) {
        if ran_past(&kept.usage, kept.cpu_last, after) {
            let why = "other workers ran the rest";
            self.warn(index, kept.task_id, kept.location, since, why);
        }
    }

    /// Warns about task `task_id`, once per task: it held worker `index`
    /// in one poll since `since`; `then` says what goro did about it.
    fn warn(
        &self,
        index: usize,
        task_id: u64,
        location: Option<&'static Location<'static>>,
        since: Instant,
        then: &str,
    ) {
        if task_id == crate::help::JOB_ID {
            // A blocking job an idle worker ran for the pool (`help`): it
            // was offloaded as it should be, and lost the P as designed.
            return;
        }
        {
            let mut reported = lock(&self.reported);
            if reported.len() >= MAX_REPORTED {
                reported.clear();
            }
            if !reported.insert(task_id) {
                return;
            }
        }
        let location =
            location.map_or_else(|| "an unknown location".to_string(), |l| l.to_string());
        let msg = format!(
            "goro: task {task_id} spawned at {location} blocked worker {index} for {} ms; \
             {then} (use goro::unblock or goro::blocking for blocking calls)",
            since.elapsed().as_millis()
        );
        // Through `log` when the program installed a logger, else stderr:
        // a silent retake would hide what the user needs to fix.
        if log::max_level() >= log::LevelFilter::Warn {
            log::warn!("{msg}");
        } else {
            eprintln!("{msg}");
        }
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
