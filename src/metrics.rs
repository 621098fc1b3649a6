//! The scheduler's [`Stats`] in Prometheus' text exposition format, for a
//! service to serve on its own `/metrics` endpoint: goro has no HTTP server
//! and picks no metrics library.
//!
//! Every metric is prefixed `goro_`. Counters end in `_total`; the
//! scheduling latency is a summary (`quantile="0.5"` and `"0.99"`, `_sum`,
//! `_count`, where the count is of timed wakes, up to about a thousand a
//! second; see [`LatencyHistogram`](crate::LatencyHistogram)) plus its
//! exact maximum as a gauge.
//!
//! # Examples
//!
//! ```
//! let text = goro::block_on(async { goro::metrics::prometheus() });
//! assert!(text.contains("# TYPE goro_tasks gauge\n"));
//! assert!(text.contains("\ngoro_maxprocs "));
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use crate::Stats;

/// The current runtime's [`stats`](crate::stats) (or the global
/// runtime's) in Prometheus' text format (version 0.0.4); serve it with
/// `Content-Type: text/plain; version=0.0.4`.
///
/// # Examples
///
/// ```
/// let text = goro::block_on(async { goro::metrics::prometheus() });
/// for line in text.lines().filter(|l| !l.starts_with('#')) {
///     let (_name, value) = line.rsplit_once(' ').unwrap();
///     value.parse::<f64>().unwrap();
/// }
/// ```
pub fn prometheus() -> String {
    render(&crate::stats())
}

/// `stats` (of any runtime: `rt.handle().stats()`) in Prometheus' text
/// format; see [`prometheus`].
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
/// let text = goro::metrics::render(&rt.handle().stats());
/// assert!(text.contains("\ngoro_maxprocs 2\n"));
/// assert!(text.contains("goro_local_queue_length{worker=\"1\"} "));
/// ```
pub fn render(stats: &Stats) -> String {
    let mut m = Metrics(String::with_capacity(4096));
    let s = stats;
    m.gauge("goro_maxprocs", "Workers (GOMAXPROCS).", s.maxprocs);
    m.head("goro_workers", "gauge", "Workers by state.");
    m.sample("goro_workers{state=\"running\"}", s.running_workers);
    m.sample("goro_workers{state=\"idle\"}", s.idle_workers);
    m.sample("goro_workers{state=\"spinning\"}", s.spinning_workers);
    m.gauge("goro_threads", "OS threads of the process.", s.threads);
    m.gauge(
        "goro_blocking_threads",
        "Threads of the blocking pool.",
        s.blocking_threads,
    );
    m.gauge(
        "goro_tasks",
        "Live tasks, spawned and not finished (NumGoroutine).",
        s.tasks,
    );
    m.counter(
        "goro_tasks_spawned_total",
        "Tasks spawned.",
        s.tasks_spawned,
    );
    m.counter(
        "goro_tasks_finished_total",
        "Tasks finished: completed, panicked or cancelled.",
        s.tasks_finished,
    );
    m.gauge(
        "goro_global_queue_length",
        "Tasks in the global run queue.",
        s.global_queue,
    );
    m.head(
        "goro_local_queue_length",
        "gauge",
        "Tasks in each worker's run queue, runnext included.",
    );
    for (i, n) in s.local_queues.iter().enumerate() {
        m.sample(&format!("goro_local_queue_length{{worker=\"{i}\"}}"), n);
    }
    m.counter(
        "goro_steals_total",
        "Steals that took work from another worker.",
        s.steals,
    );
    m.counter(
        "goro_parks_total",
        "Times a worker went to sleep for lack of work.",
        s.parks,
    );
    m.counter("goro_polls_total", "Task polls.", s.polls);
    m.counter(
        "goro_blocking_jobs_helped_total",
        "Blocking-pool jobs that idle workers ran instead of sleeping.",
        s.blocking_jobs_helped,
    );
    m.counter(
        "goro_retakes_total",
        "Workers retaken from threads stuck in one poll.",
        s.retakes,
    );
    m.counter(
        "goro_monitor_wakeups_total",
        "Times the monitor thread woke up.",
        s.monitor_wakeups,
    );
    m.gauge("goro_timers", "Pending timers (process-wide).", s.timers);
    m.gauge(
        "goro_io_sources",
        "Registered I/O sources (process-wide).",
        s.io_sources,
    );
    let lat = &s.sched_latency;
    m.head(
        "goro_sched_latency_seconds",
        "summary",
        "Time from a task's wake to its next poll, over timed wakes (up to one per millisecond).",
    );
    m.sample(
        "goro_sched_latency_seconds{quantile=\"0.5\"}",
        Secs(lat.p50()),
    );
    m.sample(
        "goro_sched_latency_seconds{quantile=\"0.99\"}",
        Secs(lat.p99()),
    );
    m.sample("goro_sched_latency_seconds_sum", Secs(lat.sum()));
    m.sample("goro_sched_latency_seconds_count", lat.count());
    m.gauge(
        "goro_sched_latency_max_seconds",
        "The longest timed scheduling latency.",
        Secs(lat.max()),
    );
    m.gauge(
        "goro_uptime_seconds",
        "Time since the runtime started.",
        Secs(s.uptime),
    );
    m.0
}

/// Seconds, printed as Prometheus expects a float.
struct Secs(Duration);

impl std::fmt::Display for Secs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

struct Metrics(String);

impl Metrics {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = write!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
    }

    fn sample(&mut self, series: &str, value: impl std::fmt::Display) {
        let _ = writeln!(self.0, "{series} {value}");
    }

    fn gauge(&mut self, name: &str, help: &str, value: impl std::fmt::Display) {
        self.head(name, "gauge", help);
        self.sample(name, value);
    }

    fn counter(&mut self, name: &str, help: &str, value: impl std::fmt::Display) {
        self.head(name, "counter", help);
        self.sample(name, value);
    }
}
