//! Observability (issue 7): `goro::stats()`, the task dump, `GORO_SCHEDTRACE`,
//! the dump signal and the Prometheus text. Cases that need their own
//! environment or a signal run this test binary again as a child process,
//! so the test process's environment and signal dispositions never change.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use goro::{Stats, TaskState};
use goro_testkit::wait_until;

fn runtime(maxprocs: usize) -> goro::Runtime {
    goro::Runtime::builder().maxprocs(maxprocs).build().unwrap()
}

/// A task body that waits on `rx` until the channel closes.
async fn wait_on(rx: goro::chan::Receiver<()>) {
    let _ = rx.recv().await;
}

// --- stats ------------------------------------------------------------------

#[test]
fn stats_tasks_rises_by_exactly_n_parked_tasks_and_falls_back() {
    const N: usize = 1000;
    let rt = runtime(2);
    let h = rt.handle().clone();
    let before = h.stats();
    assert_eq!(before.tasks, 0);
    let (tx, rx) = goro::chan::bounded::<()>(1);
    let tasks: Vec<_> = (0..N).map(|_| rt.spawn(wait_on(rx.clone()))).collect();
    // Counted at spawn, before any has run.
    assert_eq!(h.stats().tasks, N);
    wait_until("every task to park", || {
        h.dump_tasks()
            .tasks()
            .filter(|t| t.state == TaskState::Waiting)
            .count()
            == N
    });
    // `goro::stats()` inside a runtime reports that runtime.
    let s = rt.block_on(async { goro::stats() });
    assert_eq!(s.tasks, N);
    assert_eq!(s.tasks_spawned, N as u64);
    assert_eq!(s.tasks_finished, 0);
    assert_eq!(s.global_queue, 0);
    assert_eq!(s.local_queues, vec![0, 0]);
    assert!(s.polls >= N as u64, "{}", s.polls);
    drop(tx);
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    let s = h.stats();
    assert_eq!(s.tasks, 0);
    assert_eq!(s.tasks_spawned, N as u64);
    assert_eq!(s.tasks_finished, N as u64);
    assert!(s.polls >= 2 * N as u64, "{}", s.polls);
}

#[test]
fn stats_workers_threads_and_parks() {
    let rt = runtime(2);
    let h = rt.handle().clone();
    wait_until("both workers to sleep", || h.stats().idle_workers == 2);
    let s = h.stats();
    assert_eq!(s.maxprocs, 2);
    assert_eq!(
        s.running_workers + s.idle_workers + s.spinning_workers,
        2,
        "{s:?}"
    );
    assert!(s.parks >= 2, "each worker slept once: {}", s.parks);
    // This thread, two workers and the monitor at least.
    assert!(s.threads >= 4, "{}", s.threads);
    assert!(s.uptime > Duration::ZERO);
    // The monitor thread counts its first wakeup when it first runs, which
    // on a loaded machine may come after both workers went to sleep.
    wait_until("the monitor's first wakeup", || {
        h.stats().monitor_wakeups >= 1
    });
}

#[test]
fn stats_count_timers_sources_and_blocking_threads() {
    let rt = runtime(1);
    let s = rt.block_on(async {
        let _sleeper = goro::go(goro::time::sleep(Duration::from_secs(30)));
        let _listener = goro::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        goro::unblock(|| ()).await.unwrap();
        goro::time::sleep(Duration::from_millis(10)).await;
        goro::stats()
    });
    assert!(s.timers >= 1, "{s:?}");
    assert!(s.io_sources >= 1, "{s:?}");
    // Pool threads linger for their keep-alive after the job.
    assert!(s.blocking_threads >= 1, "{s:?}");
}

#[test]
fn sched_latency_times_at_most_one_wake_per_monitor_tick() {
    const N: u64 = 5000;
    let rt = runtime(2);
    rt.block_on(async {
        for _ in 0..N {
            goro::go(async {}).await.unwrap();
            // Some wakes after a tick of the monitor, which arms the next.
            if goro::stats().sched_latency.count() < 3 {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    });
    let s = rt.handle().stats();
    let lat = &s.sched_latency;
    assert!(lat.count() >= 3, "{lat:?}");
    assert!(lat.count() <= s.monitor_wakeups, "{lat:?} {s:?}");
    assert!(lat.count() <= N, "{lat:?}");
    assert!(lat.p50() > Duration::ZERO, "{lat:?}");
    assert!(lat.p50() <= lat.p99() && lat.p99() <= lat.max(), "{lat:?}");
    assert!(lat.sum() >= lat.max(), "{lat:?}");
}

// --- task dump --------------------------------------------------------------

#[test]
fn dump_shows_three_waiting_tasks_at_their_spawn_locations() {
    let rt = runtime(2);
    let (tx, rx) = goro::chan::bounded::<()>(1);
    let line_a = line!() + 1;
    let a: Vec<_> = (0..2).map(|_| rt.spawn(wait_on(rx.clone()))).collect();
    let line_b = line!() + 1;
    let b = rt.spawn(wait_on(rx.clone()));
    std::thread::sleep(Duration::from_millis(30));
    let h = rt.handle().clone();
    wait_until("three listed tasks", || h.dump_tasks().tasks().count() == 3);
    let dump = h.dump_tasks();
    assert_eq!(dump.live, 3);
    assert_eq!(dump.unlisted, 0);
    assert_eq!(dump.sites.len(), 2, "{dump}");
    // The larger group first.
    let (site_a, site_b) = (&dump.sites[0], &dump.sites[1]);
    assert_eq!(
        (site_a.location.file(), site_a.location.line()),
        (file!(), line_a)
    );
    assert_eq!(
        (site_b.location.file(), site_b.location.line()),
        (file!(), line_b)
    );
    let mut ids_a: Vec<_> = site_a.tasks.iter().map(|t| t.id).collect();
    ids_a.sort();
    let mut want_a: Vec<_> = a.iter().map(|h| h.id()).collect();
    want_a.sort();
    assert_eq!(ids_a, want_a);
    assert_eq!(site_b.tasks[0].id, b.id());
    for t in dump.tasks() {
        assert_eq!(t.state, TaskState::Waiting, "{t:?}");
        assert_eq!(t.polls, 1, "{t:?}");
        assert!(t.age >= Duration::from_millis(25), "{t:?}");
        assert!(t.age < Duration::from_secs(10), "{t:?}");
    }
    assert_eq!(site_a.count(TaskState::Waiting), 2);
    let text = dump.to_string();
    assert!(
        text.contains(&format!("2 tasks spawned at {}:{line_a}:", file!())),
        "{text}"
    );
    assert!(
        text.contains(&format!("1 task spawned at {}:{line_b}:", file!())),
        "{text}"
    );
    assert!(
        // The state shows as the wait reason (see tests/wait_reasons.rs).
        text.contains(&format!("task {} [chan receive, age ", b.id())),
        "{text}"
    );
    drop(tx);
    for t in a {
        rt.block_on(t).unwrap();
    }
    rt.block_on(b).unwrap();
    assert_eq!(rt.handle().dump_tasks().tasks().count(), 0);
}

#[test]
fn dump_tells_running_queued_and_waiting_apart() {
    // One worker and no retake, so a task spinning on it keeps it and a
    // task woken meanwhile stays queued.
    let rt = goro::Runtime::builder()
        .maxprocs(1)
        .retake_after(Duration::ZERO)
        .build()
        .unwrap();
    let h = rt.handle().clone();
    let (tx, rx) = goro::chan::bounded::<()>(1);
    let woken = rt.spawn(async move { rx.recv().await.ok() });
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let spinner = rt.spawn(async move {
        goro::yield_now().await; // waits once, so the dump lists it
        while !stop2.load(Relaxed) {
            std::hint::spin_loop();
        }
    });
    let state_of = |id| h.dump_tasks().tasks().find(|t| t.id == id).map(|t| t.state);
    wait_until("the spinner to run", || {
        state_of(spinner.id()) == Some(TaskState::Running)
    });
    // Listed from inside its first poll (as running) until that returns.
    wait_until("the receiver to wait", || {
        state_of(woken.id()) == Some(TaskState::Waiting)
    });
    tx.try_send(()).unwrap();
    assert_eq!(state_of(woken.id()), Some(TaskState::Queued));
    let s = h.stats();
    assert_eq!(s.global_queue, 1, "{s:?}");
    assert_eq!(s.running_workers, 1, "{s:?}");
    stop.store(true, Relaxed);
    rt.block_on(spinner).unwrap();
    assert_eq!(rt.block_on(woken).unwrap(), Some(()));
}

#[test]
fn dump_counts_tasks_that_have_not_waited_yet() {
    let rt = goro::Runtime::builder()
        .maxprocs(1)
        .retake_after(Duration::ZERO)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let started = Arc::new(AtomicBool::new(false));
    let started2 = started.clone();
    // Busy in its first poll: never waited, so not listed.
    let busy = rt.spawn(async move {
        started2.store(true, Relaxed);
        while !stop2.load(Relaxed) {
            std::hint::spin_loop();
        }
    });
    wait_until("the busy task to start", || started.load(Relaxed));
    let queued = rt.spawn(async {});
    let dump = rt.handle().dump_tasks();
    assert_eq!((dump.live, dump.unlisted), (2, 2), "{dump}");
    assert!(dump.to_string().contains("2 queued or in their first poll"));
    stop.store(true, Relaxed);
    rt.block_on(busy).unwrap();
    rt.block_on(queued).unwrap();
}

// --- GORO_SCHEDTRACE ----------------------------------------------------------

/// A parsed `SCHED` line.
#[derive(Debug, PartialEq)]
struct Sched {
    uptime_ms: u64,
    fields: HashMap<String, usize>,
    local: Vec<usize>,
}

/// Parses `SCHED 1004ms: maxprocs=2 ... runqueue=3 [12 7]`, strictly.
fn parse_sched(line: &str) -> Result<Sched, String> {
    let rest = line.strip_prefix("SCHED ").ok_or("no SCHED prefix")?;
    let (uptime, rest) = rest.split_once("ms: ").ok_or("no uptime")?;
    let uptime_ms = uptime.parse().map_err(|e| format!("uptime: {e}"))?;
    let (kvs, local) = rest.split_once(" [").ok_or("no per-worker queues")?;
    let local = local.strip_suffix(']').ok_or("no closing bracket")?;
    let local = local
        .split(' ')
        .map(|n| n.parse().map_err(|e| format!("queue {n:?}: {e}")))
        .collect::<Result<Vec<usize>, String>>()?;
    let mut fields = HashMap::new();
    let mut names = Vec::new();
    for kv in kvs.split(' ') {
        let (k, v) = kv.split_once('=').ok_or(format!("not key=value: {kv:?}"))?;
        names.push(k);
        fields.insert(k.to_owned(), v.parse().map_err(|e| format!("{k}: {e}"))?);
    }
    let want = [
        "maxprocs",
        "idleprocs",
        "threads",
        "spinning",
        "blockingthreads",
        "tasks",
        "runqueue",
    ];
    if names != want {
        return Err(format!("fields {names:?}, want {want:?}"));
    }
    Ok(Sched {
        uptime_ms,
        fields,
        local,
    })
}

fn assert_agrees(line: &Sched, s: &Stats) {
    let f = &line.fields;
    assert_eq!(f["maxprocs"], s.maxprocs);
    assert_eq!(f["idleprocs"], s.idle_workers);
    assert_eq!(f["threads"], s.threads);
    assert_eq!(f["spinning"], s.spinning_workers);
    assert_eq!(f["blockingthreads"], s.blocking_threads);
    assert_eq!(f["tasks"], s.tasks);
    assert_eq!(f["runqueue"], s.global_queue);
    assert_eq!(line.local, s.local_queues);
}

#[test]
fn schedtrace_line_parses_and_agrees_with_stats() {
    let rt = runtime(2);
    let (tx, rx) = goro::chan::bounded::<()>(1);
    let tasks: Vec<_> = (0..7).map(|_| rt.spawn(wait_on(rx.clone()))).collect();
    let h = rt.handle().clone();
    wait_until("parked tasks", || h.dump_tasks().tasks().count() == 7);
    let s = h.stats();
    let line = parse_sched(&s.schedtrace()).unwrap();
    assert_agrees(&line, &s);
    assert_eq!(line.fields["tasks"], 7);
    assert_eq!(line.uptime_ms, s.uptime.as_millis() as u64);
    assert!(parse_sched("SCHED 5ms: maxprocs=2 [0 0]").is_err());
    drop(tx);
    for t in tasks {
        rt.block_on(t).unwrap();
    }
}

const CHILD: &str = "GORO_OBSERVABILITY_CHILD";

/// The child side of the tests below; does nothing unless run by them.
#[test]
#[ignore = "helper: run in a child process by the tests below"]
fn child() {
    goro_testkit::child::run_role(CHILD, |mode| match mode {
        // Five parked tasks on two workers, traced every 20 ms.
        "trace" => {
            let rt = runtime(2);
            let (tx, rx) = goro::chan::bounded::<()>(1);
            let _tasks: Vec<_> = (0..5).map(|_| rt.spawn(wait_on(rx.clone()))).collect();
            let h = rt.handle().clone();
            wait_until("parked tasks", || h.dump_tasks().tasks().count() == 5);
            std::thread::sleep(Duration::from_millis(150));
            println!("\nSTATS {}", h.stats().schedtrace());
            // Stop the trace before the tasks end, so the last line shows them.
            drop(rt);
            drop(tx);
        }
        "build" => match goro::Runtime::builder().build() {
            Ok(_) => println!("\nRESULT OK"),
            Err(e) => println!("\nRESULT ERR {e}"),
        },
        "global" => {
            goro::block_on(async {});
            println!("\nRESULT OK");
        }
        // Three tasks wait; SIGUSR1 prints them and the process carries on.
        #[cfg(feature = "dump-signal")]
        "signal" => {
            goro::install_dump_signal().unwrap();
            let rt = runtime(2);
            let (tx, rx) = goro::chan::bounded::<()>(1);
            println!("\nSPAWN LINE {}", line!() + 1);
            let _tasks: Vec<_> = (0..3).map(|_| rt.spawn(wait_on(rx.clone()))).collect();
            let h = rt.handle().clone();
            wait_until("parked tasks", || h.dump_tasks().tasks().count() == 3);
            // SAFETY: `raise` has no memory-safety preconditions.
            assert_eq!(unsafe { libc::raise(libc::SIGUSR1) }, 0);
            std::thread::sleep(Duration::from_millis(300));
            println!("\nALIVE");
            drop(tx);
        }
        other => panic!("unknown mode {other}"),
    })
}

fn run_child(mode: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let out = goro_testkit::child::output(
        goro_testkit::child::ignored_test("child")
            .env(CHILD, mode)
            .env_remove("GORO_SCHEDTRACE")
            .envs(env.iter().copied()),
    );
    (out.status.success(), out.stdout, out.stderr)
}

#[test]
fn goro_schedtrace_prints_lines_that_agree_with_stats() {
    let (ok, out, err) = run_child("trace", &[("GORO_SCHEDTRACE", "20")]);
    assert!(ok, "{out}\n{err}");
    let lines: Vec<Sched> = err
        .lines()
        .filter(|l| l.starts_with("SCHED "))
        .map(|l| parse_sched(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() >= 4, "{err}");
    assert!(
        lines.windows(2).all(|w| w[0].uptime_ms < w[1].uptime_ms),
        "{err}"
    );
    let stats_line = out
        .lines()
        .find_map(|l| l.strip_prefix("STATS "))
        .unwrap_or_else(|| panic!("{out}"));
    let stats = parse_sched(stats_line).unwrap();
    let last = lines.last().unwrap();
    // Nothing moved between the last trace line and the snapshot: the
    // tasks were parked and the workers asleep.
    for k in [
        "maxprocs",
        "tasks",
        "runqueue",
        "idleprocs",
        "spinning",
        "threads",
    ] {
        assert_eq!(last.fields[k], stats.fields[k], "{k}: {err}\n{out}");
    }
    assert_eq!(last.local, stats.local);
    assert_eq!(last.fields["maxprocs"], 2);
    assert_eq!(last.fields["tasks"], 5);
    assert_eq!(last.local, vec![0, 0]);
}

#[test]
fn goro_schedtrace_bad_values_are_a_clear_error() {
    for bad in ["often", "-5", "1.5", "10ms", "99999999999"] {
        let (ok, out, err) = run_child("build", &[("GORO_SCHEDTRACE", bad)]);
        assert!(ok, "{out}\n{err}");
        let want = format!(
            "RESULT ERR GORO_SCHEDTRACE={bad:?} is invalid: expected a whole number of milliseconds"
        );
        assert!(out.contains(&want), "{bad}: {out}");
    }
    // The global runtime cannot return an error: it panics with the same words.
    let (ok, out, err) = run_child("global", &[("GORO_SCHEDTRACE", "often")]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("cannot start the global runtime: GORO_SCHEDTRACE=\"often\" is invalid"),
        "{err}"
    );
    // Zero is off, not an error.
    let (ok, out, err) = run_child("build", &[("GORO_SCHEDTRACE", "0")]);
    assert!(ok && out.contains("RESULT OK"), "{out}\n{err}");
    assert!(!err.contains("SCHED "), "{err}");
}

// --- dump signal ----------------------------------------------------------------

#[cfg(feature = "dump-signal")]
#[test]
fn sigusr1_prints_the_dump_and_the_process_carries_on() {
    let (ok, out, err) = run_child("signal", &[]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("\nALIVE"), "{out}");
    let line: u32 = out
        .lines()
        .find_map(|l| l.strip_prefix("SPAWN LINE "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(err.contains("goro task dump: 3 live tasks"), "{err}");
    assert!(
        err.contains(&format!("3 tasks spawned at {}:{line}:", file!())),
        "{err}"
    );
    assert!(err.contains(": 3 waiting"), "{err}");
    assert!(err.contains("\nSCHED "), "{err}");
}

// --- Prometheus -------------------------------------------------------------------

/// Checks Prometheus' text format (0.0.4): `# HELP` / `# TYPE` lines,
/// metric and label names, float values, each family typed once and before
/// its samples, counters named `_total`. Returns the samples.
fn check_prometheus(text: &str) -> Result<HashMap<String, f64>, String> {
    fn is_name(s: &str) -> bool {
        let mut c = s.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
            && c.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    if !text.ends_with('\n') {
        return Err("no final newline".into());
    }
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped = Vec::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').ok_or(format!("bad HELP: {line}"))?;
            if !is_name(name) || help.is_empty() || helped.contains(&name) {
                return Err(format!("bad HELP: {line}"));
            }
            helped.push(name);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or(format!("bad TYPE: {line}"))?;
            if !is_name(name)
                || !["counter", "gauge", "summary", "histogram", "untyped"].contains(&kind)
                || types.insert(name.to_owned(), kind.to_owned()).is_some()
            {
                return Err(format!("bad or repeated TYPE: {line}"));
            }
            if kind == "counter" && !name.ends_with("_total") {
                return Err(format!("counter not named _total: {line}"));
            }
        } else if line.starts_with('#') || line.is_empty() {
            return Err(format!("unexpected line: {line:?}"));
        } else {
            let (series, value) = line.rsplit_once(' ').ok_or(format!("no value: {line}"))?;
            let value: f64 = value.parse().map_err(|e| format!("{line}: {e}"))?;
            let name = match series.split_once('{') {
                None => series,
                Some((name, labels)) => {
                    let labels = labels.strip_suffix('}').ok_or(format!("labels: {line}"))?;
                    for pair in labels.split(',') {
                        let (k, v) = pair.split_once('=').ok_or(format!("label: {line}"))?;
                        let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"');
                        if !(is_name(k) && quoted) {
                            return Err(format!("label {pair:?}: {line}"));
                        }
                    }
                    name
                }
            };
            if !is_name(name) {
                return Err(format!("metric name: {line}"));
            }
            let family = [
                name,
                name.trim_end_matches("_sum"),
                name.trim_end_matches("_count"),
            ]
            .into_iter()
            .find(|f| types.contains_key(*f))
            .ok_or(format!("sample before its TYPE: {line}"))?;
            if family != name && types[family] != "summary" && types[family] != "histogram" {
                return Err(format!("suffix on a {}: {line}", types[family]));
            }
            if samples.insert(series.to_owned(), value).is_some() {
                return Err(format!("repeated series: {line}"));
            }
        }
    }
    Ok(samples)
}

#[test]
fn prometheus_output_passes_a_format_check() {
    let rt = runtime(2);
    let (tx, rx) = goro::chan::bounded::<()>(1);
    let tasks: Vec<_> = (0..3).map(|_| rt.spawn(wait_on(rx.clone()))).collect();
    for _ in 0..200 {
        rt.block_on(rt.spawn(async {})).unwrap();
    }
    let text = rt.block_on(async { goro::metrics::prometheus() });
    let samples = check_prometheus(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for name in [
        "goro_maxprocs",
        "goro_workers{state=\"running\"}",
        "goro_workers{state=\"idle\"}",
        "goro_workers{state=\"spinning\"}",
        "goro_threads",
        "goro_blocking_threads",
        "goro_tasks",
        "goro_tasks_spawned_total",
        "goro_tasks_finished_total",
        "goro_global_queue_length",
        "goro_local_queue_length{worker=\"0\"}",
        "goro_local_queue_length{worker=\"1\"}",
        "goro_steals_total",
        "goro_parks_total",
        "goro_polls_total",
        "goro_blocking_jobs_helped_total",
        "goro_retakes_total",
        "goro_monitor_wakeups_total",
        "goro_timers",
        "goro_io_sources",
        "goro_sched_latency_seconds{quantile=\"0.5\"}",
        "goro_sched_latency_seconds{quantile=\"0.99\"}",
        "goro_sched_latency_seconds_sum",
        "goro_sched_latency_seconds_count",
        "goro_sched_latency_max_seconds",
        "goro_uptime_seconds",
    ] {
        assert!(samples.contains_key(name), "{name} missing:\n{text}");
    }
    assert_eq!(samples["goro_maxprocs"], 2.0);
    assert_eq!(samples["goro_tasks"], 3.0);
    assert_eq!(samples["goro_tasks_spawned_total"], 203.0);
    assert!(samples["goro_sched_latency_seconds{quantile=\"0.99\"}"] < 10.0);
    // The checker catches what it should.
    for bad in [
        "goro_x 1\n",
        "# TYPE goro_x gauge\ngoro_x one\n",
        "# TYPE goro_x counter\ngoro_x 1\n",
        "# TYPE 9x gauge\n",
        "# TYPE goro_x gauge\ngoro_x{a=b} 1\n",
        "# TYPE goro_x gauge\ngoro_x 1",
    ] {
        assert!(check_prometheus(bad).is_err(), "{bad:?}");
    }
    drop(tx);
    for t in tasks {
        rt.block_on(t).unwrap();
    }
}
