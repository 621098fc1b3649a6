//! [`Stats`]: a snapshot of a runtime's counters, cheap to take, and the
//! per-P counters behind it.
//!
//! Nothing here adds work to the poll path. Polls are counted for free: a
//! P numbers its polls for the monitor's watch (`lend`), and the numbers
//! are summed. Other per-P counters live in each P's own cache line
//! ([`ProcStats`]), written only by the thread holding that P with a plain
//! load and store (no read-modify-write, nothing shared with other
//! workers); [`Handle::stats`] sums them when asked, reading racily, so a
//! snapshot is exact only once the runtime is quiet. Live and total task
//! counts come from the registry's per-thread counters, worker states from
//! the idle accounting, queue lengths from the queues themselves.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::latency::{LatencyHistogram, Recorder};
use crate::runtime::Handle;
use crate::shared::Shared;
use crate::task::TaskMeta;

/// A snapshot of a runtime's state and counters; see [`Handle::stats`]
/// (and `goro::stats()` in the facade, which adds the reactor's and the
/// blocking pool's figures).
///
/// Fields that the executor cannot know by itself (`timers`, `io_sources`,
/// `blocking_threads`) are zero unless the runtime was built with a
/// [`Builder::stats_hook`](crate::Builder::stats_hook) that fills them, as
/// the `goro` facade's runtimes are.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
/// rt.block_on(async {
///     for _ in 0..100 {
///         goro::spawn(async {}).await.unwrap();
///     }
/// });
/// let s = rt.handle().stats();
/// assert_eq!(s.maxprocs, 2);
/// assert_eq!(s.tasks, 0);
/// assert_eq!(s.tasks_spawned, 100);
/// assert_eq!(s.tasks_finished, 100);
/// assert!(s.polls >= 100);
/// assert_eq!(s.local_queues.len(), 2);
/// println!("{}", s.schedtrace());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Workers (Go's `GOMAXPROCS`).
    pub maxprocs: usize,
    /// Workers running or about to run a task: neither asleep nor
    /// searching.
    pub running_workers: usize,
    /// Workers asleep (Go's `idleprocs`).
    pub idle_workers: usize,
    /// Workers searching other queues for work (Go's spinning Ms).
    pub spinning_workers: usize,
    /// OS threads of the whole process (Linux: `/proc/self/stat`; macOS:
    /// `proc_pidinfo`; FreeBSD: `sysctl` `kern.proc.pid`; 0 where the OS does
    /// not say, as on Windows).
    pub threads: usize,
    /// Threads of the blocking pool (zero without a stats hook).
    pub blocking_threads: usize,
    /// Threads this runtime started and has not joined yet: its workers,
    /// threads in a [`crate::blocking`] call or waiting as spares for a
    /// worker to run, and the monitor. A spare that exits after its 10 s
    /// keep-alive is joined within about a second.
    pub runtime_threads: usize,
    /// Live tasks: spawned and not finished (Go's `NumGoroutine`).
    ///
    /// A task counts as live until its future has been dropped, after its
    /// last poll. What the task does in that poll (a `WaitGroup::done`, a
    /// channel send) can wake a waiter that reads the stats before the
    /// count drops: right after `WaitGroup::wait`, `tasks` may still count
    /// tasks that are about to end, as Go's `NumGoroutine` after
    /// `wg.Wait()` may. Awaiting a task's `JoinHandle` is exact: the count
    /// has dropped before the handle resolves.
    pub tasks: usize,
    /// Tasks spawned since the runtime started.
    pub tasks_spawned: u64,
    /// Tasks finished (completed, panicked or cancelled) since the runtime
    /// started.
    pub tasks_finished: u64,
    /// Tasks in the global queues (Go's `sched.runq`): spawned or woken
    /// outside the workers, or overflowed from a worker's ring.
    pub global_queue: usize,
    /// Tasks in each worker's run queue, `runnext` included, by worker.
    pub local_queues: Vec<usize>,
    /// Steals that took work from another worker.
    pub steals: u64,
    /// Times a worker went to sleep for lack of work.
    pub parks: u64,
    /// Task polls.
    pub polls: u64,
    /// Blocking-pool jobs that idle workers ran instead of sleeping (see
    /// [`Builder::help_with`](crate::Builder::help_with)); they count as
    /// polls too.
    pub blocking_jobs_helped: u64,
    /// Ps the monitor took from threads stuck in one poll.
    pub retakes: u64,
    /// Times the monitor thread woke up.
    pub monitor_wakeups: u64,
    /// Pending timers (process-wide: one reactor serves every runtime;
    /// zero without a stats hook).
    pub timers: usize,
    /// Registered I/O sources (process-wide; zero without a stats hook).
    pub io_sources: usize,
    /// Scheduling latency, wake to first poll, sampled (Go's
    /// `/sched/latencies:seconds`).
    pub sched_latency: LatencyHistogram,
    /// Time since the runtime started.
    pub uptime: Duration,
}

impl Stats {
    /// The `GORO_SCHEDTRACE` line for this snapshot, in the format of Go's
    /// `GODEBUG=schedtrace`:
    ///
    /// `SCHED 1004ms: maxprocs=2 idleprocs=0 threads=6 spinning=0 blockingthreads=1 tasks=10000 runqueue=3 [12 7]`
    ///
    /// `SCHED` is followed by the runtime's uptime; `runqueue` is the
    /// global queue and the bracket each worker's queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    /// let line = rt.handle().stats().schedtrace();
    /// assert!(line.starts_with("SCHED "));
    /// assert!(line.contains(" maxprocs=2 "));
    /// assert!(line.ends_with(" [0 0]"));
    /// ```
    pub fn schedtrace(&self) -> String {
        let mut s = format!(
            "SCHED {}ms: maxprocs={} idleprocs={} threads={} spinning={} blockingthreads={} tasks={} runqueue={} [",
            self.uptime.as_millis(),
            self.maxprocs,
            self.idle_workers,
            self.threads,
            self.spinning_workers,
            self.blocking_threads,
            self.tasks,
            self.global_queue,
        );
        for (i, n) in self.local_queues.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let _ = write!(s, "{sep}{n}");
        }
        s.push(']');
        s
    }
}

/// A counter with one writer, the thread that holds the P: a plain load
/// and store, which compile to an ordinary increment (a `lock`ed add would
/// cost several times more on the poll path).
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn incr(&self) {
        self.0.store(self.0.load(Relaxed) + 1, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// One P's counters, in a cache line of its own (`shared::Padded`), written
/// only by the thread holding the P.
pub(crate) struct ProcStats {
    pub(crate) steals: Counter,
    /// Blocking jobs this P's workers ran instead of sleeping (`help`).
    pub(crate) jobs: Counter,
    /// Scheduling latencies of the timed wakes this P polled.
    pub(crate) latency: Recorder,
}

impl ProcStats {
    pub(crate) fn new() -> Self {
        ProcStats {
            steals: Counter::default(),
            jobs: Counter::default(),
            latency: Recorder::new(),
        }
    }
}

/// The task of `meta`, whose wake was timed, starts a poll on this
/// thread: records its scheduling latency in the histogram of the P this
/// worker runs. At most one poll per monitor tick comes here, so it can
/// afford to look the worker up.
#[cold]
#[inline(never)]
pub(crate) fn record_wake_latency(meta: &TaskMeta) {
    crate::context::with_worker(|w| {
        let (Some(w), Some(index)) = (w, crate::worker::current_proc()) else {
            return; // not polled by a worker (shutdown): no P to charge
        };
        let shared = w.shared();
        if let Some(d) = shared.observe.wake_samples.polled(meta.id().as_u64()) {
            shared.ps.get(index).stats().latency.record(d);
        }
    });
}

/// Takes a snapshot of `shared`'s counters.
pub(crate) fn snapshot(shared: &Shared) -> Stats {
    let s = shared;
    let maxprocs = s.num_procs();
    let idle_workers = s.idle.num_sleeping();
    let spinning_workers = s.idle.num_spinning();
    let (tasks_spawned, tasks_finished) = s.registry.totals();
    let mut sched_latency = LatencyHistogram::default();
    let mut steals = 0;
    let mut blocking_jobs_helped = 0;
    let mut polls = 0;
    let mut parks = 0;
    for (_, p) in s.ps.table().iter() {
        steals += p.stats().steals.get();
        blocking_jobs_helped += p.stats().jobs.get();
        p.stats().latency.add_to(&mut sched_latency);
        polls += p.polls();
        parks += p.parker().parks();
    }
    let mut stats = Stats {
        maxprocs,
        running_workers: maxprocs.saturating_sub(idle_workers + spinning_workers),
        idle_workers,
        spinning_workers,
        threads: process_threads().unwrap_or(0),
        blocking_threads: 0,
        runtime_threads: crate::sync::lock(&s.threads.all).len(),
        tasks: s.registry.len(),
        tasks_spawned,
        tasks_finished,
        // Both global queues: the run queue and the tasks woken from the
        // driver by threads without a P.
        global_queue: s.queues.global.len() + s.queues.io_ready.len(),
        local_queues: s
            .ps
            .table()
            .prefix(maxprocs)
            .map(|p| p.queue_len())
            .collect(),
        steals,
        parks,
        polls,
        blocking_jobs_helped,
        retakes: s.monitor.retakes.count(),
        monitor_wakeups: s.monitor.wakeups(),
        timers: 0,
        io_sources: 0,
        sched_latency,
        uptime: s.observe.started.elapsed(),
    };
    if let Some(hook) = &s.config.stats_hook {
        hook(&mut stats);
    }
    stats
}

impl Handle {
    /// A snapshot of this runtime's counters; see [`Stats`].
    ///
    /// Cheap enough to call every second: it sums a few counters per
    /// worker, reads `/proc/self/stat` for the thread count, and calls the
    /// runtime's stats hook (the `goro` facade's counts the timers, which
    /// takes each timer shard's lock briefly).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    /// let s = rt.handle().stats();
    /// assert_eq!(s.maxprocs, 2);
    /// assert_eq!(s.retakes, 0);
    /// ```
    pub fn stats(&self) -> Stats {
        snapshot(&self.shared)
    }
}

/// The number of threads of this process, where the OS tells cheaply;
/// `None` elsewhere, never a guess.
fn process_threads() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // Field 20 of /proc/self/stat, counted after the command name,
        // which ends at the last ')' and may itself hold spaces.
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        rest.split_whitespace().nth(17)?.parse().ok()
    }
    #[cfg(target_vendor = "apple")]
    {
        // SAFETY: all-zero is a valid `proc_taskinfo` (plain integers).
        let mut info: libc::proc_taskinfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::proc_taskinfo>() as libc::c_int;
        // SAFETY: `info` is a writable buffer of `size` bytes, which is what
        // PROC_PIDTASKINFO fills; the call returns the bytes it wrote.
        let n = unsafe {
            libc::proc_pidinfo(
                libc::getpid(),
                libc::PROC_PIDTASKINFO,
                0,
                (&raw mut info).cast(),
                size,
            )
        };
        (n == size).then(|| usize::try_from(info.pti_threadnum).ok())?
    }
    #[cfg(target_os = "freebsd")]
    {
        // SAFETY: all-zero is a valid `kinfo_proc` (integers, arrays and
        // pointers that are only read back as numbers).
        let mut info: libc::kinfo_proc = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::kinfo_proc>();
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid];
        // SAFETY: `mib` names 4 integers; `info` is a writable buffer of
        // `len` bytes and `len` is updated to the bytes written.
        let rc = unsafe {
            libc::sysctl(
                mib.as_ptr(),
                4,
                (&raw mut info).cast(),
                &mut len,
                std::ptr::null(),
                0,
            )
        };
        // A kernel whose `kinfo_proc` differs from libc's gives another
        // size: then the layout is not trusted.
        (rc == 0 && len == std::mem::size_of::<libc::kinfo_proc>())
            .then(|| usize::try_from(info.ki_numthreads).ok())?
    }
    #[cfg(not(any(target_os = "linux", target_vendor = "apple", target_os = "freebsd")))]
    {
        None
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn counter_counts() {
        let c = Counter::default();
        c.incr();
        c.incr();
        assert_eq!(c.get(), 2);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_threads_sees_this_thread_and_another() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || rx.recv());
        assert!(process_threads().unwrap() >= 2);
        drop(tx);
        let _ = t.join();
    }

    #[test]
    fn schedtrace_format() {
        let s = Stats {
            maxprocs: 2,
            threads: 6,
            blocking_threads: 1,
            tasks: 10_000,
            global_queue: 3,
            local_queues: vec![12, 7],
            uptime: Duration::from_millis(1004),
            ..Stats::default()
        };
        assert_eq!(
            s.schedtrace(),
            "SCHED 1004ms: maxprocs=2 idleprocs=0 threads=6 spinning=0 blockingthreads=1 tasks=10000 runqueue=3 [12 7]"
        );
    }
}
