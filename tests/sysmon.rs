//! The monitor's retake: a task that blocks its worker (a blocking call or a
//! long loop without await points) loses the worker's P to another thread,
//! so the rest keep running, and it is reported with its spawn location.
//!
//! The tests in this file run one at a time (they measure lateness) and
//! read the reports through a `log` logger they install.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use goro::time::{sleep, sleep_until};

static SERIAL: Mutex<()> = Mutex::new(());
static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record<'_>) {
        REPORTS.lock().unwrap().push(r.args().to_string());
    }
    fn flush(&self) {}
}

fn setup() -> std::sync::MutexGuard<'static, ()> {
    let guard = goro_testkit::lock(&SERIAL);
    let _ = log::set_logger(&Capture);
    log::set_max_level(log::LevelFilter::Warn);
    REPORTS.lock().unwrap().clear();
    guard
}

/// How long each blocking call in these tests lasts. A worker whose P is
/// not rescued stalls the ticker for a whole block; a rescued one (retake
/// after 10 ms) for about 10 to 20 ms. The lateness bound, half a block,
/// separates the two by a wide margin on a loaded 2-core machine.
const BLOCK: Duration = Duration::from_millis(200);
const ROUNDS: u32 = 5;
const LATE: Duration = Duration::from_millis(100);

/// A task that wakes every millisecond for `total` and returns the worst
/// lateness it saw.
async fn ticker(total: Duration) -> Duration {
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    let mut i = 1;
    while start.elapsed() < total {
        let deadline = start + Duration::from_millis(i);
        sleep_until(deadline).await;
        worst = worst.max(Instant::now() - deadline);
        i += 1;
    }
    worst
}

#[derive(Clone, Copy)]
enum Block {
    Sleep,
    Spin,
}

fn block_for(how: Block, d: Duration) {
    match how {
        Block::Sleep => std::thread::sleep(d),
        Block::Spin => {
            let t = Instant::now();
            while t.elapsed() < d {
                std::hint::spin_loop();
            }
        }
    }
}

/// Runs a lateness scenario up to three times, until its worst lateness is
/// under `bound`, and returns the best run's. These tests share 2 cores with
/// whatever else the machine runs; a real stall (no rescue: a whole
/// `BLOCK`) fails every run, while one descheduling by the OS fails one.
fn up_to_three_runs(bound: Duration, mut run: impl FnMut() -> Duration) -> Duration {
    let mut best = Duration::MAX;
    for attempt in 1..=3 {
        let worst = run();
        best = best.min(worst);
        if worst < bound {
            break;
        }
        println!("attempt {attempt}: worst lateness {worst:?}, over {bound:?}");
    }
    best
}

/// One task blocks its worker `ROUNDS` times for `BLOCK` while small tasks
/// keep being spawned: all of them complete and the ticker stays on time.
fn one_worker_blocked(how: Block) -> Duration {
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    rt.block_on(async move {
        let ticker = goro::go(ticker(Duration::from_millis(1100)));
        let blocker = goro::go(async move {
            for _ in 0..ROUNDS {
                block_for(how, BLOCK);
                goro::yield_now().await;
            }
        });
        let spawner = goro::go(async {
            let mut small = Vec::new();
            for i in 0..1000u32 {
                small.push(goro::go(async move { i.wrapping_mul(3) }));
                if i % 10 == 0 {
                    sleep(Duration::from_millis(1)).await;
                }
            }
            let mut done = 0;
            for h in small {
                h.await.unwrap();
                done += 1;
            }
            done
        });
        assert_eq!(spawner.await.unwrap(), 1000, "every small task completes");
        blocker.await.unwrap();
        ticker.await.unwrap()
    })
}

#[test]
fn one_worker_blocked_in_a_syscall_stalls_nothing() {
    let _g = setup();
    let worst = up_to_three_runs(LATE, || one_worker_blocked(Block::Sleep));
    println!("one worker blocked (sleep): worst lateness {worst:?}");
    assert!(worst < LATE, "ticker was {worst:?} late");
}

#[test]
fn one_worker_in_a_long_loop_stalls_nothing() {
    let _g = setup();
    let worst = up_to_three_runs(LATE, || one_worker_blocked(Block::Spin));
    println!("one worker blocked (spin): worst lateness {worst:?}");
    assert!(worst < LATE, "ticker was {worst:?} late");
}

/// Spawns `f` and returns its handle and the line it was spawned from (the
/// caller's: `goro::go` is `#[track_caller]` too).
#[track_caller]
fn spawn_here<F>(f: F) -> (goro::JoinHandle<F::Output>, u32)
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    (goro::go(f), std::panic::Location::caller().line())
}

/// Every worker blocks at the same moment, `ROUNDS` times: the monitor retakes
/// the Ps so the ticker keeps running, and each blocking task is reported
/// once with its spawn location.
fn all_workers_blocked(how: Block) -> (Duration, u32, goro::Stats) {
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    let (worst, line) = rt.block_on(async move {
        let ticker = goro::go(ticker(Duration::from_millis(1200)));
        let mut line = 0;
        for _ in 0..ROUNDS {
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let mut blockers = Vec::new();
            for _ in 0..2 {
                let b = barrier.clone();
                let (h, l) = spawn_here(async move {
                    b.wait();
                    block_for(how, BLOCK)
                });
                line = l;
                blockers.push(h);
            }
            for h in blockers {
                h.await.unwrap();
            }
        }
        (ticker.await.unwrap(), line)
    });
    (worst, line, rt.handle().stats())
}

fn check_reports(line: u32, retakes: u64) {
    let reports = REPORTS.lock().unwrap().clone();
    let site = format!("spawned at tests/sysmon.rs:{line}:");
    let ours: Vec<_> = reports.iter().filter(|r| r.contains(&site)).collect();
    assert!(
        !ours.is_empty(),
        "no retake named the spawn site {site}: {reports:#?}"
    );
    // Once per task: no task id twice.
    let mut ids: Vec<&str> = ours
        .iter()
        .map(|r| r.split_whitespace().nth(2).unwrap())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "a task was reported twice: {ours:#?}");
    assert!(
        ours.iter()
            .all(|r| r.contains("blocked worker") && r.contains(" ms;"))
    );
    // A report says the P moved only for a retake; the others kept their
    // P while another worker had room.
    let moved = ours
        .iter()
        .filter(|r| r.contains("its queue moved to another thread"))
        .count();
    assert!(retakes >= moved as u64, "{moved} moves, {retakes} retakes");
    assert!(
        ours.iter()
            .all(|r| r.contains("its queue moved to another thread")
                || r.contains("other workers ran the rest")),
        "{ours:#?}"
    );
}

/// Runs the every-worker-blocked scenario (best of up to three runs) and
/// checks the ticker's lateness, the retake count and the reports.
fn assert_all_workers_retaken(how: Block, what: &str) {
    let _g = setup();
    let mut stats = None;
    let worst = up_to_three_runs(LATE, || {
        REPORTS.lock().unwrap().clear();
        let (worst, line, s) = all_workers_blocked(how);
        stats = Some((line, s));
        worst
    });
    let (line, stats) = stats.unwrap();
    println!(
        "all workers blocked ({what}): worst {worst:?}, {} retakes",
        stats.retakes
    );
    assert!(
        stats.retakes >= u64::from(ROUNDS),
        "only {} retakes",
        stats.retakes
    );
    assert!(worst < LATE, "ticker was {worst:?} late");
    check_reports(line, stats.retakes);
}

#[test]
fn all_workers_blocked_in_syscalls_are_retaken() {
    assert_all_workers_retaken(Block::Sleep, "sleep");
}

#[test]
fn all_workers_in_long_loops_are_retaken() {
    assert_all_workers_retaken(Block::Spin, "spin");
}

/// The reports that name the spawn site on `line` and say `what` goro did.
fn reports_saying(line: u32, what: &str) -> Vec<String> {
    let site = format!("spawned at tests/sysmon.rs:{line}:");
    let reports = REPORTS.lock().unwrap();
    reports
        .iter()
        .filter(|r| r.contains(&site) && r.contains(what))
        .cloned()
        .collect()
}

/// Two workers, retake at 10 ms (whatever `GORO_RETAKE_MS` says).
fn two_workers() -> goro::Runtime {
    goro::Runtime::builder()
        .maxprocs(2)
        .retake_after(Duration::from_millis(10))
        .build()
        .unwrap()
}

/// Exactly one report names the spawn site on `line` and says `what`.
fn assert_reported_once(line: u32, what: &str) {
    let ours = reports_saying(line, what);
    let all = REPORTS.lock().unwrap().clone();
    assert_eq!(
        ours.len(),
        1,
        "the loop is reported once ({what}): {all:#?}"
    );
}

/// One of two workers in a 300 ms loop while the other sleeps between a
/// ticker's wakes: the loop keeps its P past the threshold (a new thread
/// for the P would only compete with the other worker for the CPUs), the
/// ticker keeps running on the other worker, and the loop is reported when
/// it ends. Before, the P moved at 10 ms (issue 18: three threads
/// computing on two CPUs put the ticker's p99 over 1 ms).
#[test]
fn a_long_loop_keeps_its_p_while_another_worker_has_room() {
    let _g = setup();
    let mut last = None;
    let worst = up_to_three_runs(LATE, || {
        REPORTS.lock().unwrap().clear();
        let rt = two_workers();
        let (worst, line) = rt.block_on(async {
            let ticker = goro::go(ticker(Duration::from_millis(400)));
            sleep(Duration::from_millis(20)).await;
            let (h, line) =
                spawn_here(async { block_for(Block::Spin, Duration::from_millis(300)) });
            h.await.unwrap();
            // The monitor reports the loop at its first look after the
            // poll ended: give it up to a second, with the runtime alive.
            let t = Instant::now();
            while reports_saying(line, "").is_empty() && t.elapsed() < Duration::from_secs(1) {
                sleep(Duration::from_millis(5)).await;
            }
            (ticker.await.unwrap(), line)
        });
        last = Some((rt.handle().stats().retakes, line));
        worst
    });
    let (retakes, line) = last.unwrap();
    println!("long loop beside a worker with room: ticker worst {worst:?}, {retakes} retakes");
    assert_eq!(
        retakes, 0,
        "the loop's P moved although the other worker had room"
    );
    assert!(worst < LATE, "ticker was {worst:?} late");
    assert_reported_once(line, "other workers ran the rest");
}

/// A loop that kept its P is reported even when the runtime is dropped as
/// soon as it ends, before the monitor looks again: the monitor reports
/// what it kept when it shuts down.
#[test]
fn a_kept_loop_is_reported_at_shutdown() {
    let _g = setup();
    REPORTS.lock().unwrap().clear();
    let rt = two_workers();
    let line = rt.block_on(async {
        let (h, line) = spawn_here(async { block_for(Block::Spin, Duration::from_millis(100)) });
        h.await.unwrap();
        line
    });
    let retakes = rt.handle().stats().retakes;
    drop(rt);
    println!("loop then drop: {retakes} retakes");
    assert_eq!(retakes, 0, "the other worker was idle: nothing to move");
    assert_reported_once(line, "other workers ran the rest");
}

/// The same loop while the other worker never sleeps (a task that computes
/// and yields in a loop): the loop's P moves to a new thread at the
/// threshold, so the runtime's queues get a second worker, and the loop is
/// reported as a retake.
#[test]
fn a_long_loops_p_moves_when_the_other_worker_is_busy() {
    let _g = setup();
    REPORTS.lock().unwrap().clear();
    let rt = two_workers();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let line = rt.block_on(async {
        let s = stop.clone();
        let busy = goro::go(async move {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                block_for(Block::Spin, Duration::from_micros(50));
                goro::yield_now().await;
            }
        });
        // Longer than the threshold: the busy worker's last sleep is older.
        std::thread::sleep(Duration::from_millis(30));
        let (h, line) = spawn_here(async { block_for(Block::Spin, Duration::from_millis(300)) });
        h.await.unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        busy.await.unwrap();
        line
    });
    let retakes = rt.handle().stats().retakes;
    // The stuck thread reports after its poll, which may end after the
    // join: dropping the runtime waits for its threads.
    drop(rt);
    println!("long loop beside a busy worker: {retakes} retakes");
    assert!(
        retakes >= 1,
        "the loop kept its P while the other worker never slept"
    );
    assert_reported_once(line, "its queue moved to another thread");
}

#[test]
fn a_long_task_with_await_points_yields_before_any_retake() {
    let _g = setup();
    // Retake at 400 ms, so the request to yield comes at 200 ms: the
    // ticker is about 200 ms late when the task yields, a whole second
    // when it does not (and a task that does not yield gets retaken,
    // which the retake count catches).
    let rt = goro::Runtime::builder()
        .maxprocs(1)
        .retake_after(Duration::from_millis(400))
        .build()
        .unwrap();
    let worst = rt.block_on(async {
        let ticker = goro::go(ticker(Duration::from_millis(1000)));
        goro::yield_now().await;
        let busy = goro::go(async {
            // Always ready: without preemption this never yields for 1 s.
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(1000) {
                sleep(Duration::ZERO).await;
            }
        });
        busy.await.unwrap();
        ticker.await.unwrap()
    });
    println!("long task with await points: ticker worst {worst:?}");
    assert_eq!(
        rt.handle().stats().retakes,
        0,
        "it yielded, so nothing was retaken"
    );
    assert!(
        worst < Duration::from_millis(600),
        "ticker was {worst:?} late"
    );
}

#[test]
fn an_idle_runtime_monitor_wakes_rarely() {
    let _g = setup();
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    rt.block_on(async { goro::go(async {}).await.unwrap() });
    std::thread::sleep(Duration::from_millis(100)); // let it back off
    let before = rt.handle().stats().monitor_wakeups;
    std::thread::sleep(Duration::from_secs(2));
    let woke = rt.handle().stats().monitor_wakeups - before;
    println!("idle monitor: {woke} wakeups in 2 s");
    assert!(
        woke <= 20,
        "the monitor of an idle runtime woke {woke} times in 2 s"
    );
}

#[test]
fn retake_after_zero_turns_it_off() {
    let _g = setup();
    let rt = goro::Runtime::builder()
        .maxprocs(1)
        .retake_after(Duration::ZERO)
        .build()
        .unwrap();
    rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(50)) }))
        .unwrap();
    assert_eq!(rt.handle().stats().retakes, 0);
}

const ENV_CHILD: &str = "GORO_SYSMON_ENV_CHILD";

/// Run in a child process with `GORO_RETAKE_MS` set: prints what building a
/// runtime and blocking it for 60 ms gave.
#[test]
#[ignore = "helper: run in a child process by `goro_retake_ms_env`"]
fn env_child() {
    if std::env::var_os(ENV_CHILD).is_none() {
        return;
    }
    match goro::Runtime::builder().maxprocs(1).build() {
        Err(e) => println!("\nRESULT ERR {e}"),
        Ok(rt) => {
            rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(60)) }))
                .unwrap();
            println!("\nRESULT RETAKES {}", rt.handle().stats().retakes);
        }
    }
}

fn env_run(value: &str) -> String {
    let out = goro_testkit::child::ignored_test("env_child")
        .env(ENV_CHILD, "1")
        .env("GORO_RETAKE_MS", value)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn goro_retake_ms_env() {
    let out = env_run("5");
    assert!(
        out.contains("RESULT RETAKES 1"),
        "a 60 ms block with a 5 ms threshold: {out}"
    );
    let out = env_run("0");
    assert!(
        out.contains("RESULT RETAKES 0"),
        "0 turns retaking off: {out}"
    );
    let out = env_run("ten");
    assert!(
        out.contains("RESULT ERR GORO_RETAKE_MS=\"ten\" is invalid"),
        "a bad value names the variable and the value: {out}"
    );
}

/// Descheduling is not blocking: a worker that loses its CPU to other
/// threads (busy threads pinned to the same CPU) in the middle of a
/// cooperative loop may be retaken, but is not reported; a loop that really
/// holds its worker for 60 ms of CPU time still is.
#[cfg(target_os = "linux")]
mod contended {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::time::{Duration, Instant};

    use super::{REPORTS, setup, spawn_here};

    /// Busy threads competing for one CPU.
    const RIVALS: usize = 3;

    /// The first CPU in this thread's affinity mask.
    fn some_cpu() -> usize {
        // SAFETY: all-zero is a valid (empty) `cpu_set_t`.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, writable `cpu_set_t` of the size passed.
        let rc = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) };
        assert_eq!(
            rc,
            0,
            "sched_getaffinity: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: CPU_ISSET only reads `set`.
        (0..libc::CPU_SETSIZE as usize)
            .find(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .expect("a CPU in the mask")
    }

    /// Pins the calling thread to `cpu`.
    fn pin(cpu: usize) {
        // SAFETY: all-zero is a valid (empty) `cpu_set_t`.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `cpu` is below CPU_SETSIZE (it came from a mask).
        unsafe { libc::CPU_SET(cpu, &mut set) };
        // SAFETY: `set` is a valid `cpu_set_t` of the size passed; pid 0 is
        // the calling thread.
        let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
        assert_eq!(
            rc,
            0,
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        );
    }

    /// This thread's CPU time.
    fn thread_cpu() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out-pointer.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0);
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    /// Spins until this thread has used `d` more CPU time (time without the
    /// CPU does not count).
    fn spin_cpu(d: Duration) {
        let end = thread_cpu() + d;
        while thread_cpu() < end {
            std::hint::spin_loop();
        }
    }

    /// [`RIVALS`] threads pinned to `cpu`, busy until dropped.
    struct Rivals {
        stop: Arc<AtomicBool>,
        threads: Vec<std::thread::JoinHandle<()>>,
    }

    impl Rivals {
        fn start(cpu: usize) -> Rivals {
            let stop = Arc::new(AtomicBool::new(false));
            let threads = (0..RIVALS)
                .map(|_| {
                    let stop = stop.clone();
                    std::thread::spawn(move || {
                        pin(cpu);
                        while !stop.load(Relaxed) {
                            std::hint::spin_loop();
                        }
                    })
                })
                .collect();
            Rivals { stop, threads }
        }
    }

    impl Drop for Rivals {
        fn drop(&mut self) {
            self.stop.store(true, Relaxed);
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
    }

    /// Reports that name the spawn site on `line`.
    fn reports_for(line: u32) -> Vec<String> {
        let site = format!("spawned at tests/sysmon.rs:{line}:");
        let reports = REPORTS.lock().unwrap();
        reports
            .iter()
            .filter(|r| r.contains(&site))
            .cloned()
            .collect()
    }

    /// One run: a task that works ~30 µs at a time and yields when asked,
    /// pinned with the rivals, until the monitor has retaken its worker 5
    /// times (at most 4 s). Returns the retakes, the most CPU time the task
    /// used in one poll, and the reports naming it.
    fn descheduled_loop(cpu: usize) -> (u64, Duration, Vec<String>) {
        REPORTS.lock().unwrap().clear();
        let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
        let (line, most) = rt.block_on(async move {
            let (h, line) = spawn_here(async move {
                let start = Instant::now();
                let mut most = Duration::ZERO;
                while start.elapsed() < Duration::from_secs(4)
                    && goro::Handle::current().stats().retakes < 5
                {
                    // Pinned on every poll: a retake moves the task to a
                    // new thread.
                    pin(cpu);
                    let at = thread_cpu();
                    while !goro::should_yield() {
                        spin_cpu(Duration::from_micros(30));
                    }
                    most = most.max(thread_cpu() - at);
                    goro::yield_now().await;
                }
                most
            });
            (line, h.await.unwrap())
        });
        let retakes = rt.handle().stats().retakes;
        drop(rt);
        (retakes, most, reports_for(line))
    }

    #[test]
    fn a_descheduled_cooperative_loop_is_not_reported() {
        let _g = setup();
        let cpu = some_cpu();
        let _rivals = Rivals::start(cpu);
        // A run settles the question when the worker was retaken and no
        // poll used 8 ms of CPU (the threshold is 10 ms). On a loaded host
        // the monitor's request to yield can come so late that a poll uses
        // more: that poll may be reported, rightly, so such a run is retried.
        // Without the fix every settling run reports the task.
        for attempt in 1..=5 {
            let (retakes, most, ours) = descheduled_loop(cpu);
            println!(
                "descheduled loop, attempt {attempt}: {retakes} retakes, most CPU in one poll {most:?}, reports {ours:#?}"
            );
            if retakes >= 1 && most < Duration::from_millis(8) {
                assert!(
                    ours.is_empty(),
                    "a loop that yields when asked, never 8 ms on the CPU, was reported"
                );
                return;
            }
        }
        panic!(
            "no run settled it in 5: never retaken, or every run had a poll of 8 ms of CPU \
             (is CPU {cpu} contended? is the host too loaded for the monitor?)"
        );
    }

    #[test]
    fn a_cpu_hog_on_a_contended_cpu_is_reported() {
        let _g = setup();
        let cpu = some_cpu();
        let _rivals = Rivals::start(cpu);
        let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
        let line = rt.block_on(async move {
            let (h, line) = spawn_here(async move {
                pin(cpu);
                spin_cpu(Duration::from_millis(60));
            });
            h.await.unwrap();
            line
        });
        let retakes = rt.handle().stats().retakes;
        drop(rt);
        let ours = reports_for(line);
        println!("hog: {retakes} retakes, reports {ours:#?}");
        assert_eq!(ours.len(), 1, "60 ms of CPU in one poll: {ours:#?}");
    }
}
