//! Idle workers run a blocking pool's queued jobs instead of sleeping
//! (`help`), through a [`BlockingJobs`] source: each job runs once, outside
//! the runtime's context, timed for the source, and a job that blocks loses
//! its worker the P like any stuck poll, without the stuck-task warning.
//! Also runs under valgrind (`.ci/valgrind`): a job's run is a task poll
//! with the P lent.

use std::collections::VecDeque;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use goro_executor::{BlockingJobs, JoinHandle, Runnable, Runtime, TaskMeta, spawn_unscheduled};
use goro_testkit::wait_until;

/// A pool's queue, as the workers see it.
#[derive(Default)]
struct Queue {
    jobs: Mutex<VecDeque<Runnable<TaskMeta>>>,
    times: Mutex<Vec<Duration>>,
}

impl BlockingJobs for Queue {
    fn take(&self) -> Option<Runnable<TaskMeta>> {
        self.jobs.lock().unwrap().pop_front()
    }

    fn ran(&self, took: Duration) {
        self.times.lock().unwrap().push(took);
    }
}

impl Queue {
    /// Queues `f` as a job that only a worker of a runtime helping this
    /// queue can run.
    #[track_caller]
    fn push<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
        let (job, handle) = spawn_unscheduled(async move { f() }, Location::caller(), |_| {
            panic!("a job finishes in its one poll and is never rescheduled")
        });
        self.jobs.lock().unwrap().push_back(job);
        handle
    }
}

fn runtime(procs: usize, queue: &Arc<Queue>) -> Runtime {
    Runtime::builder()
        .maxprocs(procs)
        .thread_name(|i| format!("help-worker-{i}"))
        // Explicit: `.ci/valgrind` turns the default off (GORO_RETAKE_MS=0).
        .retake_after(Duration::from_millis(10))
        .help_with(queue.clone())
        .build()
        .unwrap()
}

/// Wakes the workers, which then find the queue's jobs before sleeping.
fn nudge(rt: &Runtime) {
    rt.block_on(rt.spawn(async {})).unwrap();
}

#[test]
fn idle_workers_run_each_queued_job_once_and_report_its_time() {
    let queue = Arc::new(Queue::default());
    let handles: Vec<_> = (0..100)
        .map(|i| queue.push(move || (i, std::thread::current().name().map(str::to_owned))))
        .collect();
    let rt = runtime(2, &queue);
    for (i, h) in handles.into_iter().enumerate() {
        let (n, thread) = rt.block_on(h).unwrap();
        assert_eq!(n, i);
        let thread = thread.unwrap_or_default();
        assert!(thread.starts_with("help-worker-"), "ran on {thread:?}");
    }
    assert!(queue.jobs.lock().unwrap().is_empty());
    assert_eq!(queue.times.lock().unwrap().len(), 100);
    assert_eq!(rt.handle().stats().blocking_jobs_helped, 100);
}

#[test]
fn a_job_runs_outside_the_runtime_where_block_on_works() {
    let queue = Arc::new(Queue::default());
    let rt = runtime(1, &queue);
    let handle = rt.handle().clone();
    let job = queue.push(move || {
        // On a worker this would panic ("block_on called from a worker
        // thread"); a job runs as on a pool thread.
        let n = handle.block_on(async { 7 });
        (n, goro_executor::current_proc())
    });
    nudge(&rt);
    assert_eq!(rt.block_on(job).unwrap(), (7, None));
    assert_eq!(rt.handle().stats().blocking_jobs_helped, 1);
}

#[test]
fn a_panicking_job_reports_through_its_handle_and_the_worker_goes_on() {
    let queue = Arc::new(Queue::default());
    let rt = runtime(1, &queue);
    let job = queue.push(|| -> u8 { panic!("disk on fire") });
    nudge(&rt);
    let err = rt.block_on(job).unwrap_err();
    assert_eq!(err.panic_message(), Some("disk on fire"));
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
    assert_eq!(queue.times.lock().unwrap().len(), 1);
}

/// Warnings the runtime logs (the stuck-task report goes through `log`
/// when a logger is installed).
fn warnings() -> &'static Mutex<Vec<String>> {
    static WARNINGS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    struct Capture;
    impl log::Log for Capture {
        fn enabled(&self, m: &log::Metadata<'_>) -> bool {
            m.level() <= log::Level::Warn
        }
        fn log(&self, r: &log::Record<'_>) {
            if self.enabled(r.metadata()) {
                warnings().lock().unwrap().push(r.args().to_string());
            }
        }
        fn flush(&self) {}
    }
    static INSTALL: OnceLock<()> = OnceLock::new();
    INSTALL.get_or_init(|| {
        log::set_logger(&Capture).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Warn);
    });
    WARNINGS.get_or_init(|| Mutex::new(Vec::new()))
}

#[test]
fn a_job_that_blocks_loses_the_p_to_waiting_work_and_is_not_reported() {
    let warnings = warnings();
    let queue = Arc::new(Queue::default());
    // One worker: only a retake can run a task while it is in the job.
    let rt = runtime(1, &queue);
    let blocking = Arc::new(AtomicBool::new(false));
    let b = blocking.clone();
    let job = queue.push(move || {
        b.store(true, SeqCst);
        std::thread::sleep(Duration::from_millis(1500));
        b.store(false, SeqCst);
    });
    nudge(&rt);
    wait_until("the worker runs the job", || blocking.load(SeqCst));
    let b = blocking.clone();
    let ran_while_blocked = rt
        .block_on(rt.spawn(async move { b.load(SeqCst) }))
        .unwrap();
    assert!(ran_while_blocked, "the task waited for the job");
    assert!(rt.handle().stats().retakes >= 1);
    rt.block_on(job).unwrap();
    // The job's worker comes back; what it lost it does not report.
    let blocked = |w: &Vec<String>| w.iter().any(|m| m.contains("blocked worker"));
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
    assert!(
        !blocked(&warnings.lock().unwrap()),
        "{:?}",
        warnings.lock().unwrap()
    );

    // A task that blocks the same way is reported: the capture works.
    let task = rt.spawn(async { std::thread::sleep(Duration::from_millis(300)) });
    let queued = rt.spawn(async {});
    rt.block_on(queued).unwrap();
    rt.block_on(task).unwrap();
    wait_until("the stuck task is reported", || {
        blocked(&warnings.lock().unwrap())
    });
}
