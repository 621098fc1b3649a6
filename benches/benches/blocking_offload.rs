//! Blocking offload: goro vs tokio vs smol, 2 async workers each.
//!
//! A plain `main` (`harness = false`) with two parts. Every measurement runs
//! in a fresh child process (the bench re-executes itself with `--child ...`),
//! so pool threads, thread counts and lazily built global pools never carry
//! over from one runtime, or one round, to the next.
//!
//! # `offload`: 100,000 reads of a 4 KiB file
//!
//! The parent writes a 4 KiB temp file once. Each child builds its runtime,
//! offloads one no-op closure (so lazily built pools exist), lets the process
//! settle and then, inside the runtime's `block_on`, spawns [`CONCURRENCY`]
//! async tasks that each offload [`OPS`] / [`CONCURRENCY`] closures one after
//! another, awaiting each; every closure is `std::fs::read` of that file. So
//! exactly [`CONCURRENCY`] (1,000) closures are in flight at any time until
//! the tail, on every runtime alike; how many threads serve them is each
//! pool's own decision (goro: `goro::unblock` on `goro_blocking::Pool::global`,
//! cap 512; tokio: `spawn_blocking`, cap 512; smol: `blocking::unblock`,
//! cap 500). A sampler thread reads `Threads:` from `/proc/self/status` every
//! millisecond for the peak process thread count (it counts itself, the main
//! thread and the 2 async workers too). goro also reports its pool's own
//! `peak_threads()`. [`ROUNDS`] rounds per runtime, interleaved
//! (goro, tokio, smol, direct, goro, ...); the table shows the median ops/s.
//! The `direct` row is a reference without any runtime or pool: 2 plain
//! threads doing the same reads, about what 2 cores allow. The
//! `goro-nohelp` row is goro with `help_blocking_pool(false)`: idle workers
//! leave every job to the pool's threads, as before they could run them.
//!
//! # `sleep-storm`: 100,000 closures that block
//!
//! As `offload`, but every closure is `thread::sleep(1 ms)`: jobs that sleep
//! in the kernel, for which goro's pool should start threads up to its cap
//! (issue 18: it grows only for those, not for a queue of fast reads). No
//! `direct` row.
//!
//! # `contention`: concurrent submitters
//!
//! 1, 2, 4 and 8 plain OS threads submit [`CONTENTION_OPS`] no-op closures in
//! total (an equal share each) at the same time, from outside any runtime:
//! `goro::unblock`, tokio's `Handle::spawn_blocking` and `blocking::unblock`.
//! Each submitter keeps its handles and, after its last submission, awaits
//! them all. Reported: submissions/s (total submissions / time from the
//! common start to the last submitter's last submission) and completions/s
//! (to the last awaited handle). One child per runtime and thread count; it
//! runs one unmeasured pass, then [`CONTENTION_PASSES`] measured ones, and
//! reports the medians. If every submission took one lock, submissions/s
//! would fall as submitters are added.
//!
//! Build with `--features mimalloc` to measure under mimalloc.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use goro_benches::child::run_child;
use goro_benches::lines::{field, num};
use goro_benches::procfs::{ThreadSampler, process_threads};
use goro_benches::stats::median;
use goro_benches::{ALLOCATOR, BenchRt, GoroRt, Offload, SmolRt, Spawn, TokioRt, WORKERS};

/// Offloaded file reads per round.
const OPS: usize = 100_000;
/// Async tasks that offload one closure at a time: the closures in flight.
const CONCURRENCY: usize = 1_000;
/// Size of the file every closure reads.
const FILE_SIZE: usize = 4096;
/// Rounds (child processes) per runtime for `offload`.
const ROUNDS: usize = 3;
/// Submissions per pass of `contention`, split between the submitters.
const CONTENTION_OPS: usize = 50_000;
/// Submitter thread counts of `contention`.
const SUBMITTERS: [usize; 4] = [1, 2, 4, 8];
/// Measured passes per `contention` child.
const CONTENTION_PASSES: usize = 5;
/// Pause before a measurement, for threads started by the warm-up to settle.
const SETTLE: Duration = Duration::from_millis(100);
/// Longest a child may take before it is killed and reported as hung.
const CHILD_TIMEOUT: Duration = Duration::from_secs(180);
/// Runtimes measured, in table order.
const RUNTIMES: &[&str] = &["goro", "tokio", "smol"];
/// `offload` rows: the runtimes, then the no-runtime reference.
const OFFLOAD_ROWS: &[&str] = &["goro", "tokio", "smol", "direct", "goro-nohelp"];
/// `sleep-storm` rows.
const SLEEP_ROWS: &[&str] = &["goro", "tokio", "smol", "goro-nohelp"];

/// Target: goro's ops/s at least this multiple of tokio's.
const TARGET_SPEEDUP: f64 = 2.0;
/// Target: goro's peak process thread count at most this (issue 18: the
/// pool grows only for jobs that sleep in the kernel).
const TARGET_MAX_THREADS: usize = 16;

// ---------------------------------------------------------------- children

/// Child side of `offload`: prints one `OFFLOAD` line. `sleep`: every
/// closure is `thread::sleep(1 ms)` instead of the read (the `sleep-storm`
/// shape: blocked jobs, which should get threads up to the cap).
fn child_offload<R: Offload>(rt: R, name: &str, path: &Path, sleep: bool) {
    let sub = rt.submitter();
    let sp = rt.spawner();
    // Build lazily created pools (goro's global pool, blocking's executor).
    rt.block_on(R::join_blocking(R::submit(&sub, || ())));
    thread::sleep(SETTLE);

    let threads_before = process_threads();
    let path: Arc<PathBuf> = Arc::new(path.to_owned());
    let per_task = OPS / CONCURRENCY;
    let sampler = ThreadSampler::start();
    let start = Instant::now();
    let bytes: usize = rt.block_on(async {
        let handles: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let sub = sub.clone();
                let path = path.clone();
                sp.spawn(async move {
                    let mut bytes = 0;
                    for _ in 0..per_task {
                        let p = path.clone();
                        let read = R::submit(&sub, move || {
                            if sleep {
                                thread::sleep(Duration::from_millis(1));
                                return Ok(FILE_SIZE);
                            }
                            std::fs::read(&*p).map(|b| b.len())
                        });
                        bytes += R::join_blocking(read).await.expect("read the 4 KiB file");
                    }
                    bytes
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += <R::Spawner as Spawn>::join(h).await;
        }
        total
    });
    let secs = start.elapsed().as_secs_f64();
    let peak = sampler.stop();
    assert_eq!(
        bytes,
        OPS * FILE_SIZE,
        "every read must return the whole file"
    );
    let pool_peak = R::pool_peak_threads().map_or_else(|| "-".to_owned(), |n| n.to_string());
    let helped = rt
        .jobs_helped()
        .map_or_else(|| "-".to_owned(), |n| n.to_string());
    println!(
        "OFFLOAD rt={} ops={OPS} secs={secs:.4} ops_per_s={:.0} peak_threads={peak} \
         threads_before={threads_before} pool_peak={pool_peak} helped={helped}",
        name,
        OPS as f64 / secs
    );
    drop(rt);
}

/// Child side of `offload` for the `direct` reference row: no runtime, no
/// pool; [`goro_benches::WORKERS`] plain threads split the same reads. On
/// this machine that is about the most reads per second the cores give.
fn child_direct(path: &Path) {
    let threads_before = process_threads();
    let sampler = ThreadSampler::start();
    let start = Instant::now();
    let bytes: usize = thread::scope(|s| {
        let readers: Vec<_> = (0..WORKERS)
            .map(|_| {
                s.spawn(|| {
                    (0..OPS / WORKERS)
                        .map(|_| std::fs::read(path).expect("read the 4 KiB file").len())
                        .sum::<usize>()
                })
            })
            .collect();
        readers
            .into_iter()
            .map(|r| r.join().expect("reader panicked"))
            .sum()
    });
    let secs = start.elapsed().as_secs_f64();
    let peak = sampler.stop();
    assert_eq!(bytes, OPS / WORKERS * WORKERS * FILE_SIZE);
    println!(
        "OFFLOAD rt=direct ops={OPS} secs={secs:.4} ops_per_s={:.0} peak_threads={peak} \
         threads_before={threads_before} pool_peak=-",
        (OPS / WORKERS * WORKERS) as f64 / secs
    );
}

/// One `contention` pass with `n` submitters: (submit seconds, complete seconds).
fn contention_pass<R: Offload>(sub: &R::Submitter, n: usize) -> (f64, f64) {
    let share = CONTENTION_OPS / n;
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let sub = sub.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let mut handles = Vec::with_capacity(share);
                barrier.wait();
                let start = Instant::now();
                for _ in 0..share {
                    handles.push(R::submit(&sub, || ()));
                }
                let submitted = Instant::now();
                futures_lite::future::block_on(async {
                    for h in handles {
                        R::join_blocking(h).await;
                    }
                });
                (start, submitted, Instant::now())
            })
        })
        .collect();
    let times: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("submitter panicked"))
        .collect();
    let start = times
        .iter()
        .map(|t| t.0)
        .min()
        .expect("at least one submitter");
    let submitted = times
        .iter()
        .map(|t| t.1)
        .max()
        .expect("at least one submitter");
    let completed = times
        .iter()
        .map(|t| t.2)
        .max()
        .expect("at least one submitter");
    (
        (submitted - start).as_secs_f64(),
        (completed - start).as_secs_f64(),
    )
}

/// Child side of `contention`: prints one `CONTENTION` line.
fn child_contention<R: Offload>(n: usize) {
    let rt = R::new();
    let sub = rt.submitter();
    contention_pass::<R>(&sub, n); // warm-up, unmeasured
    thread::sleep(SETTLE);
    let sampler = ThreadSampler::start();
    let mut submit = Vec::new();
    let mut complete = Vec::new();
    for _ in 0..CONTENTION_PASSES {
        let (s, c) = contention_pass::<R>(&sub, n);
        submit.push(s);
        complete.push(c);
    }
    let peak = sampler.stop();
    let total = (CONTENTION_OPS / n * n) as f64;
    let pool_peak = R::pool_peak_threads().map_or_else(|| "-".to_owned(), |p| p.to_string());
    println!(
        "CONTENTION rt={} submitters={n} ops={total} submits_per_s={:.0} \
         completions_per_s={:.0} peak_threads={peak} pool_peak={pool_peak}",
        R::NAME,
        total / median(&submit),
        total / median(&complete)
    );
    drop(rt);
}

// ---------------------------------------------------------------- parent

/// One runtime's `offload` rounds.
#[derive(Debug, Default)]
struct OffloadRounds {
    ops_per_s: Vec<f64>,
    peak_threads: Vec<f64>,
    threads_before: Vec<f64>,
    pool_peak: Vec<String>,
}

/// The `offload` part (`job` "read") or `sleep-storm` (`job` "sleep").
fn offload(exe: &Path, file: &Path, job: &str, failed: &mut bool) {
    let file = file.to_str().expect("temp path is UTF-8");
    let rows: &[&str] = if job == "sleep" {
        SLEEP_ROWS
    } else {
        OFFLOAD_ROWS
    };
    let mut rounds: Vec<OffloadRounds> = rows.iter().map(|_| Default::default()).collect();
    for round in 0..ROUNDS {
        for (i, rt) in rows.iter().enumerate() {
            match run_child(exe, &["offload", rt, file, job], CHILD_TIMEOUT, "OFFLOAD ") {
                Ok(line) => {
                    println!("round {round}: {line}");
                    let r = &mut rounds[i];
                    r.ops_per_s.push(num(&line, "ops_per_s"));
                    r.peak_threads.push(num(&line, "peak_threads"));
                    r.threads_before.push(num(&line, "threads_before"));
                    r.pool_peak
                        .push(field(&line, "pool_peak").unwrap_or("-").to_owned());
                }
                Err(e) => {
                    eprintln!("blocking_offload: offload / {rt}: {e}");
                    *failed = true;
                }
            }
        }
    }

    println!();
    if job == "sleep" {
        println!(
            "sleep-storm: {OPS} closures each thread::sleep(1 ms), {CONCURRENCY} in flight, \
             median of {ROUNDS} rounds, allocator {ALLOCATOR} (no target: the pool should \
             grow towards its cap, as before)"
        );
    } else {
        println!(
            "offload: {OPS} closures reading a {FILE_SIZE}-byte file, {CONCURRENCY} in flight, \
             median of {ROUNDS} rounds, allocator {ALLOCATOR}"
        );
    }
    println!();
    println!(
        "| runtime | ops/s (median) | ops/s (min-max) | peak threads (max of rounds) \
         | threads before | pool peak | goro / this |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let medians: Vec<f64> = rounds
        .iter_mut()
        .map(|r| {
            if r.ops_per_s.is_empty() {
                f64::NAN
            } else {
                median(&r.ops_per_s)
            }
        })
        .collect();
    for (i, (rt, r)) in rows.iter().zip(&rounds).enumerate() {
        let min = r.ops_per_s.iter().copied().fold(f64::INFINITY, f64::min);
        let max = r.ops_per_s.iter().copied().fold(0.0, f64::max);
        let peak = r.peak_threads.iter().copied().fold(0.0, f64::max);
        let before = r.threads_before.iter().copied().fold(0.0, f64::max);
        let pool = r.pool_peak.join("/");
        println!(
            "| {rt} | {:.0} | {min:.0}-{max:.0} | {peak:.0} | {before:.0} | {pool} | {:.2} |",
            medians[i],
            medians[0] / medians[i]
        );
    }
    if job == "sleep" {
        println!();
        return;
    }
    let speedup = medians[0] / medians[1];
    let goro_peak = rounds[0].peak_threads.iter().copied().fold(0.0, f64::max);
    let verdict = |ok: bool| if ok { "pass" } else { "fail" };
    println!();
    println!(
        "goro / tokio ops/s: {speedup:.2} (target >= {TARGET_SPEEDUP:.1}: {})",
        verdict(speedup >= TARGET_SPEEDUP)
    );
    println!(
        "goro peak threads: {goro_peak:.0} (target <= {TARGET_MAX_THREADS}: {})",
        verdict(goro_peak <= TARGET_MAX_THREADS as f64)
    );
    println!();
}

fn contention(exe: &Path, failed: &mut bool) {
    // rows[submitters][runtime] = line
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    for n in SUBMITTERS {
        let mut row = Vec::new();
        for rt in RUNTIMES {
            match run_child(
                exe,
                &["contention", rt, &n.to_string()],
                CHILD_TIMEOUT,
                "CONTENTION ",
            ) {
                Ok(line) => {
                    println!("{line}");
                    row.push(Some(line));
                }
                Err(e) => {
                    eprintln!("blocking_offload: contention / {rt} / {n}: {e}");
                    *failed = true;
                    row.push(None);
                }
            }
        }
        rows.push(row);
    }

    let get = |line: &Option<String>, key: &str| line.as_deref().map_or(f64::NAN, |l| num(l, key));
    println!();
    println!(
        "contention: {CONTENTION_OPS} no-op submissions per pass from 1-8 OS threads, \
         median of {CONTENTION_PASSES} passes, allocator {ALLOCATOR}"
    );
    for (title, key) in [
        ("submissions/s (M)", "submits_per_s"),
        ("completions/s (M)", "completions_per_s"),
    ] {
        println!();
        println!("{title}; in brackets: relative to 1 submitter");
        println!();
        println!(
            "| submitters | goro | tokio | smol | goro / tokio | peak threads goro / tokio / smol |"
        );
        println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
        let base: Vec<f64> = rows[0].iter().map(|l| get(l, key)).collect();
        for (n, row) in SUBMITTERS.iter().zip(&rows) {
            let v: Vec<f64> = row.iter().map(|l| get(l, key)).collect();
            let cell = |i: usize| format!("{:.2} ({:.2}×)", v[i] / 1e6, v[i] / base[i]);
            let peaks: Vec<String> = row
                .iter()
                .map(|l| format!("{:.0}", get(l, "peak_threads")))
                .collect();
            println!(
                "| {n} | {} | {} | {} | {:.2} | {} |",
                cell(0),
                cell(1),
                cell(2),
                v[0] / v[1],
                peaks.join(" / ")
            );
        }
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench` and any filter: only `--child` matters.
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let arg = |k: usize| args.get(i + k).map(String::as_str);
        match (arg(1), arg(2), arg(3)) {
            (Some("offload"), Some(rt), Some(path)) => {
                let path = Path::new(path);
                let sleep = arg(4) == Some("sleep");
                match rt {
                    "goro" => child_offload(GoroRt::new(), rt, path, sleep),
                    "goro-nohelp" => {
                        let no_help = goro::Runtime::builder()
                            .maxprocs(WORKERS)
                            .help_blocking_pool(false)
                            .build()
                            .expect("build goro runtime");
                        child_offload(GoroRt::from_runtime(no_help), rt, path, sleep);
                    }
                    "tokio" => child_offload(TokioRt::new(), rt, path, sleep),
                    "smol" => child_offload(SmolRt::new(), rt, path, sleep),
                    "direct" => child_direct(path),
                    other => panic!("unknown runtime {other:?}"),
                }
            }
            (Some("contention"), Some(rt), Some(n)) => {
                let n: usize = n.parse().expect("--child contention <rt> <submitters>");
                match rt {
                    "goro" => child_contention::<GoroRt>(n),
                    "tokio" => child_contention::<TokioRt>(n),
                    "smol" => child_contention::<SmolRt>(n),
                    other => panic!("unknown runtime {other:?}"),
                }
            }
            other => panic!("usage: --child offload <rt> <file> | contention <rt> <n>: {other:?}"),
        }
        return;
    }

    // `cargo bench --bench blocking_offload -- contention` runs one part.
    let only = args
        .iter()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    let exe = std::env::current_exe().expect("current_exe");
    let mut failed = false;
    println!("blocking_offload: allocator {ALLOCATOR}");
    if only.is_none_or(|f| "offload".contains(f)) {
        let file = std::env::temp_dir().join(format!(
            "goro-bench-blocking-offload-{}.bin",
            std::process::id()
        ));
        std::fs::write(&file, vec![0xA5u8; FILE_SIZE]).expect("write the 4 KiB temp file");
        offload(&exe, &file, "read", &mut failed);
        let _ = std::fs::remove_file(&file);
    }
    if only.is_none_or(|f| "sleep-storm".contains(f)) {
        let file = std::env::temp_dir().join("goro-bench-blocking-offload-unused");
        offload(&exe, &file, "sleep", &mut failed);
    }
    if only.is_none_or(|f| "contention".contains(f)) {
        contention(&exe, &mut failed);
    }
    if failed {
        std::process::exit(1);
    }
}
