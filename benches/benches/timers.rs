//! Timers: 1,000,000 concurrent sleeps of a random 1-100 ms, goro vs tokio
//! vs smol (vs Go), each runtime in its own child process with 2 workers.
//!
//! A plain `main` (`harness = false`). The sleep lengths come from a
//! splitmix64 generator with a fixed seed ([`SEED`]), whole microseconds in
//! 1,000..=100,000, so every runtime (and the Go program
//! `benches/go/timers`, which uses the same generator) sleeps the same
//! lengths in the same spawn order. Every child first builds its runtime,
//! runs 1,000 short sleeps (so timer storage and threads exist), settles for
//! 50 ms and reads its RSS (`/proc/self/statm`).
//! Then one task of the runtime (Go: the main goroutine) spawns the
//! 1,000,000 tasks; each task increments a shared "asleep" count, sleeps,
//! decrements it, and records its lateness = wake time − deadline (a wake
//! before the deadline is counted as `early`) in 100 µs buckets, a sum and
//! a maximum. Two modes, one child each:
//!
//! * `spread` (Go's `time.Sleep(d)`): each task's deadline is its own start
//!   plus its length, so the deadlines are spread over the spawn time plus
//!   100 ms. Reports mean / p50 / p99 / max lateness, the spawn time, the
//!   total wall time (first spawn to last wake-up), the most tasks seen
//!   asleep at once and the peak RSS over the baseline divided by
//!   1,000,000 (both sampled every ms). This is the shape of the issue's
//!   reference figures (Go ~10 ms mean lateness). Go runs each new
//!   goroutine at once, so far fewer of its tasks are ever asleep together
//!   and its peak-RSS figure is not a per-task cost.
//! * `burst`: every deadline is `t0 + HOLD + length`, `t0` taken before the
//!   first spawn, so all 1,000,000 tasks are asleep together: the parent
//!   thread waits until the asleep count reaches 1,000,000, reads RSS
//!   again, and reports (RSS now − RSS before) / tasks asleep as the memory
//!   per sleeping task. Then all deadlines fall within 100 ms: the
//!   lateness here is how fast the runtime works off 1M expiries at once
//!   (`drain` = last wake-up − first deadline, ideally ~100 ms).
//!
//! A third mode runs first, with no million timers:
//!
//! * `ticker` (issue 18): one task loops `sleep_until(now + 1 ms)`
//!   [`TICKS`] times (Go: `time.Sleep(time.Millisecond)`) and records how
//!   late each wake-up is against its deadline. Reports p50 / p99 / max in
//!   µs per round; the table shows the median of the rounds' p50s, the
//!   mean p99 and the worst max. A timer that rounds deadlines up to the
//!   millisecond shows here as a p50 near 1 ms.
//!
//! Options after `--`: a runtime filter (`goro`, `tokio`, `smol`, `go`),
//! `--rounds N` (default 2), `--ticker-rounds N` (default 5), `--hold-ms MS`
//! (default 6000), `--go-hold-ms MS` (default 15000: Go's spawn loop is
//! slower with a million live goroutines), `--mode ticker|spread|burst`
//! (default all three).

use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use goro_benches::child::run_child;
use goro_benches::cli::{flag, selected};
use goro_benches::go::go_if_selected;
use goro_benches::lines::{field, num, per_round, verdict};
use goro_benches::procfs::rss_bytes;
use goro_benches::shapes::Countdown;
use goro_benches::stats::mean;
use goro_benches::{GoroRt, IoRt, SmolRt, Spawn, TokioRt};

/// Sleeping tasks.
const TASKS: usize = 1_000_000;
/// Seed of the sleep lengths (the Go program uses the same).
const SEED: u64 = 0x600D_5EED;
/// Shortest sleep, µs.
const MIN_US: u64 = 1_000;
/// Longest sleep, µs.
const MAX_US: u64 = 100_000;
/// Lateness bucket width, µs.
const BUCKET_US: u64 = 100;
/// Lateness buckets (the last one takes everything from 10 s on).
const BUCKETS: usize = 100_000;
/// Default wait before the first `burst` deadline, for spawning to finish.
const HOLD_MS: u64 = 6_000;
/// Default `burst` hold for the Go program: with a million live goroutines
/// its spawn loop takes 5-8 s here (goroutine stacks and GC), longer than
/// [`HOLD_MS`]; a hold only moves the deadlines, it changes nothing else.
const GO_HOLD_MS: u64 = 15_000;
/// Wake-ups of the 1 ms ticker per round.
const TICKS: usize = 1_000;
/// Runtimes, in table order.
const RUNTIMES: &[&str] = &["goro", "tokio", "smol", "go"];
/// Longest a child may take.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

/// The sleep lengths in µs, generated on the fly (no vector whose freeing
/// would skew the RSS delta): splitmix64 from [`SEED`], `MIN_US + x %
/// (MAX_US - MIN_US + 1)`.
#[derive(Debug, Clone)]
struct Lengths(u64);

impl Lengths {
    fn new() -> Self {
        Self(SEED)
    }
}

impl Iterator for Lengths {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Some((MIN_US + z % (MAX_US - MIN_US + 1)) as u32)
    }
}

// ---------------------------------------------------------------- child

/// Shared counters of one child (statics: no per-task pointer to them).
static ASLEEP: AtomicUsize = AtomicUsize::new(0);
static LATE_SUM_US: AtomicU64 = AtomicU64::new(0);
static LATE_MAX_US: AtomicU64 = AtomicU64::new(0);
static EARLY: AtomicU64 = AtomicU64::new(0);
static HIST: [AtomicU32; BUCKETS] = [const { AtomicU32::new(0) }; BUCKETS];

/// Records one wake-up against its deadline.
fn record(deadline: Instant) {
    let now = Instant::now();
    match now.checked_duration_since(deadline) {
        Some(late) => {
            let us = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
            LATE_SUM_US.fetch_add(us, Ordering::Relaxed);
            LATE_MAX_US.fetch_max(us, Ordering::Relaxed);
            let b = usize::try_from(us / BUCKET_US).unwrap_or(BUCKETS - 1);
            HIST[b.min(BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
        }
        None if now == deadline => {
            HIST[0].fetch_add(1, Ordering::Relaxed);
        }
        None => {
            EARLY.fetch_add(1, Ordering::Relaxed);
            HIST[0].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Lateness percentile from the buckets, in ms (bucket upper edge).
fn percentile_ms(q: f64) -> f64 {
    let total: u64 = HIST
        .iter()
        .map(|b| u64::from(b.load(Ordering::Relaxed)))
        .sum();
    let want = ((total as f64) * q).ceil() as u64;
    let mut seen = 0;
    for (i, b) in HIST.iter().enumerate() {
        seen += u64::from(b.load(Ordering::Relaxed));
        if seen >= want.max(1) {
            return ((i as u64 + 1) * BUCKET_US) as f64 / 1000.0;
        }
    }
    f64::NAN
}

/// Child: one mode on runtime `R`; prints one `TIMERS` line.
fn child_timers<R: IoRt>(mode: &str, hold: Duration) {
    let burst = match mode {
        "spread" => false,
        "burst" => true,
        other => panic!("unknown mode {other:?}"),
    };
    let rt = R::new_io();
    let sp = rt.spawner();
    // Warm-up: timer storage and worker threads exist before the baseline.
    let warm = Countdown::new();
    warm.arm(1_000);
    rt.block_on(async {
        for _ in 0..1_000 {
            let warm = warm.clone();
            sp.spawn_detached(async move {
                R::sleep_until(Instant::now() + Duration::from_millis(1)).await;
                warm.tick();
            });
        }
        warm.wait().await;
    });
    thread::sleep(Duration::from_millis(50));
    let rss0 = rss_bytes();

    let done = Countdown::new();
    done.arm(TASKS);
    let t0 = Instant::now();
    let base = burst.then(|| t0 + hold);
    let spawner = {
        let done = done.clone();
        let sp = sp.clone();
        rt.spawn_remote(async move {
            for us in Lengths::new().take(TASKS) {
                let done = done.clone();
                sp.spawn_detached(async move {
                    let d = Duration::from_micros(u64::from(us));
                    let deadline = base.unwrap_or_else(Instant::now) + d;
                    ASLEEP.fetch_add(1, Ordering::Relaxed);
                    R::sleep_until(deadline).await;
                    ASLEEP.fetch_sub(1, Ordering::Relaxed);
                    record(deadline);
                    done.tick();
                });
            }
        })
    };
    rt.block_on(<R::Spawner as Spawn>::join(spawner));
    let spawn_ms = t0.elapsed().as_secs_f64() * 1e3;

    // Sample RSS / asleep: in burst mode once all are asleep; in spread
    // mode the peak asleep count (every ms) until every task woke.
    let mut mem_line = String::new();
    if burst {
        let limit = t0 + hold;
        while ASLEEP.load(Ordering::Relaxed) < TASKS && Instant::now() < limit {
            thread::sleep(Duration::from_millis(1));
        }
        let register_ms = t0.elapsed().as_secs_f64() * 1e3;
        let asleep = ASLEEP.load(Ordering::Relaxed);
        let rss1 = rss_bytes();
        let per_task = if asleep == 0 {
            f64::NAN
        } else {
            (rss1 as f64 - rss0 as f64) / asleep as f64
        };
        mem_line = format!(
            " asleep_at_sample={asleep} register_ms={register_ms:.0} rss_delta_mib={:.1} \
             bytes_per_task={per_task:.1}",
            (rss1 as f64 - rss0 as f64) / 1048576.0
        );
    }
    let (peak, peak_rss) = {
        let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = finished.clone();
        let sampler = thread::spawn(move || {
            let mut peak = ASLEEP.load(Ordering::Relaxed);
            let mut peak_rss = rss_bytes();
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(ASLEEP.load(Ordering::Relaxed));
                peak_rss = peak_rss.max(rss_bytes());
                thread::sleep(Duration::from_millis(1));
            }
            (peak, peak_rss)
        });
        rt.block_on(done.wait());
        finished.store(true, Ordering::Relaxed);
        sampler.join().expect("sampler")
    };
    let wall_ms = t0.elapsed().as_secs_f64() * 1e3;
    let drain_ms = base.map_or(f64::NAN, |b| {
        Instant::now().saturating_duration_since(b).as_secs_f64() * 1e3
    });
    let mean_ms = LATE_SUM_US.load(Ordering::Relaxed) as f64 / TASKS as f64 / 1e3;
    println!(
        "TIMERS rt={} mode={mode} tasks={TASKS} mean_late_ms={mean_ms:.3} p50_late_ms={:.1} \
         p99_late_ms={:.1} max_late_ms={:.1} early={} spawn_ms={spawn_ms:.0} wall_ms={wall_ms:.0} \
         drain_ms={drain_ms:.0} peak_asleep={peak} peak_rss_delta_mib={:.1} \
         peak_rss_per_task_b={:.1}{mem_line}",
        R::NAME,
        percentile_ms(0.5),
        percentile_ms(0.99),
        LATE_MAX_US.load(Ordering::Relaxed) as f64 / 1e3,
        EARLY.load(Ordering::Relaxed),
        (peak_rss as f64 - rss0 as f64) / 1048576.0,
        (peak_rss as f64 - rss0 as f64) / TASKS as f64,
    );
    drop(rt);
}

/// Child: the 1 ms ticker on runtime `R`; prints one `TICKER` line.
fn child_ticker<R: IoRt>(ticks: usize) {
    let rt = R::new_io();
    let ticker = rt.spawn_remote(async move {
        let mut late = Vec::with_capacity(ticks);
        let mut early = 0u32;
        for _ in 0..ticks {
            let deadline = Instant::now() + Duration::from_millis(1);
            R::sleep_until(deadline).await;
            match Instant::now().checked_duration_since(deadline) {
                Some(l) => late.push(l.as_micros() as u64),
                None => {
                    early += 1;
                    late.push(0);
                }
            }
        }
        (late, early)
    });
    let (mut late, early) = rt.block_on(<R::Spawner as Spawn>::join(ticker));
    late.sort_unstable();
    let q = |f: f64| late[((late.len() - 1) as f64 * f) as usize];
    println!(
        "TICKER rt={} ticks={ticks} p50_us={} p99_us={} max_us={} early={early}",
        R::NAME,
        q(0.5),
        q(0.99),
        late[late.len() - 1],
    );
    drop(rt);
}

// ---------------------------------------------------------------- parent

/// One child run: the `TIMERS` line.
fn run(exe: &Path, rt: &str, mode: &str, hold_ms: u64) -> Result<String, String> {
    let hold = hold_ms.to_string();
    run_child(
        exe,
        &["timers", rt, mode, &hold],
        CHILD_TIMEOUT + Duration::from_millis(hold_ms),
        if mode == "ticker" {
            "TICKER "
        } else {
            "TIMERS "
        },
    )
}

fn print_ticker(rows: &[(&str, Vec<String>)]) {
    println!();
    println!(
        "timers / ticker: one task sleeping 1 ms, {TICKS} times a round; lateness in ms; \
         p50 = median of the rounds' p50s, p99 = mean, max = worst round"
    );
    println!();
    println!("| runtime | p50 | p50 per round | p99 | max | early | goro/this p50 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let p50 = |lines: &[String]| {
        let mut v: Vec<f64> = lines.iter().map(|l| num(l, "p50_us") / 1e3).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let goro = rows
        .iter()
        .find(|(n, _)| *n == "goro")
        .map_or(f64::NAN, |(_, l)| p50(l));
    for (name, lines) in rows {
        let per_round: Vec<String> = lines
            .iter()
            .map(|l| format!("{:.2}", num(l, "p50_us") / 1e3))
            .collect();
        let p99 = mean(
            &lines
                .iter()
                .map(|l| num(l, "p99_us") / 1e3)
                .collect::<Vec<_>>(),
        );
        let max = lines
            .iter()
            .map(|l| num(l, "max_us") / 1e3)
            .fold(0.0, f64::max);
        let early: f64 = lines.iter().map(|l| num(l, "early")).sum();
        println!(
            "| {name} | {:.2} | {} | {p99:.2} | {max:.2} | {early:.0} | {:.2} |",
            p50(lines),
            per_round.join(" / "),
            goro / p50(lines),
        );
    }
    println!();
    println!(
        "goro ticker p50 {goro:.2} ms (target: <= 0.2 ms): {}",
        verdict(goro.is_finite().then_some(goro <= 0.2))
    );
}

fn print_tables(mode: &str, rows: &[(&str, Vec<String>)]) {
    let agg =
        |lines: &[String], key: &str| mean(&lines.iter().map(|l| num(l, key)).collect::<Vec<_>>());
    let worst =
        |lines: &[String], key: &str| lines.iter().map(|l| num(l, key)).fold(f64::NAN, f64::max);
    let by = |name: &str, key: &str| {
        rows.iter()
            .find(|(n, _)| *n == name)
            .map_or(f64::NAN, |(_, l)| agg(l, key))
    };
    println!();
    if mode == "spread" {
        println!(
            "timers / spread: {TASKS} tasks, each `sleep_until(own start + 1..100 ms)`; \
             mean of rounds; lateness in ms"
        );
        println!();
        println!(
            "| runtime | mean lateness | per round | p50 | p99 | worst max | max per round \
             | early | spawn ms | wall ms | peak asleep | peak RSS Δ / 1M tasks, B \
             | goro/this mean lateness |"
        );
        println!(
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
    } else {
        println!(
            "timers / burst: {TASKS} tasks all asleep, deadlines t0 + hold + 1..100 ms; \
             mean of rounds; lateness in ms; memory = RSS delta / tasks asleep"
        );
        println!();
        println!(
            "| runtime | B / sleeping task | asleep at sample | register ms | mean lateness \
             | per round | p99 | max | early | drain ms | goro/this memory | goro/this lateness |"
        );
        println!(
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
    }
    for (name, lines) in rows {
        let per_round = per_round(lines, "mean_late_ms");
        let a = |k: &str| agg(lines, k);
        if mode == "spread" {
            println!(
                "| {name} | {:.2} | {} | {:.1} | {:.1} | {:.1} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} |",
                a("mean_late_ms"),
                per_round.join(" / "),
                a("p50_late_ms"),
                a("p99_late_ms"),
                worst(lines, "max_late_ms"),
                lines
                    .iter()
                    .map(|l| format!("{:.0}", num(l, "max_late_ms")))
                    .collect::<Vec<_>>()
                    .join(" / "),
                a("early"),
                a("spawn_ms"),
                a("wall_ms"),
                a("peak_asleep"),
                a("peak_rss_per_task_b"),
                by("goro", "mean_late_ms") / a("mean_late_ms"),
            );
        } else {
            println!(
                "| {name} | {:.1} | {:.0} | {:.0} | {:.2} | {} | {:.1} | {:.1} | {:.0} | {:.0} | {:.2} | {:.2} |",
                a("bytes_per_task"),
                a("asleep_at_sample"),
                a("register_ms"),
                a("mean_late_ms"),
                per_round.join(" / "),
                a("p99_late_ms"),
                a("max_late_ms"),
                a("early"),
                a("drain_ms"),
                by("goro", "bytes_per_task") / a("bytes_per_task"),
                by("goro", "mean_late_ms") / a("mean_late_ms"),
            );
        }
    }
    let goro = by("goro", "mean_late_ms");
    let go = by("go", "mean_late_ms");
    let known = |a: f64, b: f64| (a.is_finite() && b.is_finite()).then_some(a <= b);
    println!();
    println!(
        "goro mean lateness {goro:.2} ms vs Go {go:.2} ms (target: no worse than Go's): {}",
        verdict(known(goro, go))
    );
    let worst_of = |name: &str| {
        rows.iter()
            .find(|(n, _)| *n == name)
            .map_or(f64::NAN, |(_, l)| worst(l, "max_late_ms"))
    };
    let (goro_max, go_max) = (worst_of("goro"), worst_of("go"));
    println!(
        "goro worst lateness {goro_max:.1} ms vs Go {go_max:.1} ms (target: no worse than Go's): {}",
        verdict(known(goro_max, go_max))
    );
    if mode == "burst" {
        let g = by("goro", "bytes_per_task");
        let s = by("smol", "bytes_per_task");
        println!(
            "goro memory {g:.1} B / sleeping task vs smol {s:.1} (target: below smol's): {}",
            verdict((g.is_finite() && s.is_finite()).then_some(g < s))
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let arg = |k: usize| args.get(i + k).map(String::as_str);
        let (Some("timers"), Some(rt), Some(mode), Some(hold)) = (arg(1), arg(2), arg(3), arg(4))
        else {
            panic!("usage: --child timers <rt> <ticker|spread|burst> <hold_ms|ticks>");
        };
        if mode == "ticker" {
            let ticks = hold.parse().expect("ticks");
            match rt {
                "goro" => child_ticker::<GoroRt>(ticks),
                "tokio" => child_ticker::<TokioRt>(ticks),
                "smol" => child_ticker::<SmolRt>(ticks),
                other => panic!("unknown runtime {other:?}"),
            }
            return;
        }
        let hold = Duration::from_millis(hold.parse().expect("hold_ms"));
        match rt {
            "goro" => child_timers::<GoroRt>(mode, hold),
            "tokio" => child_timers::<TokioRt>(mode, hold),
            "smol" => child_timers::<SmolRt>(mode, hold),
            other => panic!("unknown runtime {other:?}"),
        }
        return;
    }

    let rounds: usize = flag(&args, "--rounds", 2);
    let ticker_rounds: usize = flag(&args, "--ticker-rounds", 5);
    let hold_ms: u64 = flag(&args, "--hold-ms", HOLD_MS);
    let go_hold_ms: u64 = flag(&args, "--go-hold-ms", GO_HOLD_MS);
    let only_mode: String = flag(&args, "--mode", String::new());
    let runtimes = selected(&args, RUNTIMES);
    let exe = std::env::current_exe().expect("current_exe");
    let go = go_if_selected(&runtimes, "timers");
    println!(
        "timers: {TASKS} tasks sleeping {}..{} ms (seed {SEED:#x}), 2 workers / GOMAXPROCS=2, \
         {rounds} round(s), burst hold {hold_ms} ms (Go {go_hold_ms} ms), allocator {}",
        MIN_US / 1000,
        MAX_US / 1000,
        goro_benches::ALLOCATOR
    );
    let mut failed = false;
    for mode in ["ticker", "spread", "burst"] {
        if !only_mode.is_empty() && only_mode != mode {
            continue;
        }
        let ticker = mode == "ticker";
        let mut rows: Vec<(&str, Vec<String>)> = runtimes.iter().map(|r| (*r, vec![])).collect();
        for round in 0..if ticker { ticker_rounds } else { rounds } {
            for (rt, lines) in &mut rows {
                let res = if *rt == "go" {
                    let Some(go) = &go else { continue };
                    // The Go program ignores `--child` and reads the same
                    // `timers go <mode> <hold_ms>` arguments.
                    run(go, rt, mode, if ticker { TICKS as u64 } else { go_hold_ms })
                } else {
                    run(&exe, rt, mode, if ticker { TICKS as u64 } else { hold_ms })
                };
                match res {
                    Ok(line) => {
                        println!("round {round}: {line}");
                        if field(&line, "early").is_some_and(|e| e != "0") {
                            println!(
                                "  ^ {rt} woke {} sleeps before their deadline",
                                num(&line, "early")
                            );
                        }
                        lines.push(line);
                    }
                    Err(e) => {
                        eprintln!("timers: {rt} / {mode}: {e}");
                        failed = true;
                    }
                }
            }
        }
        rows.retain(|(_, l)| !l.is_empty());
        if ticker {
            print_ticker(&rows);
        } else {
            print_tables(mode, &rows);
        }
    }
    if failed {
        std::process::exit(1);
    }
}
