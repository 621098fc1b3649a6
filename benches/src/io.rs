//! Shared pieces of the I/O benches (`tcp_echo`, `timers`, `ws_echo`).
//!
//! * [`IoRt`]: each runtime built with its reactor and timers on, plus its
//!   `sleep_until`.
//! * [`ServerProc`]: a server child process (one per runtime, so each server
//!   has its own 2 workers and its own `/proc/<pid>/stat`), started and read
//!   until it prints `LISTEN <addr>`, killed on drop.
//! * [`run_load`]: the load client, the same for every server. A tokio
//!   runtime with [`LOAD_THREADS`] workers opens the connections (at most
//!   [`CONNECT_CONCURRENCY`] handshakes at a time), lets them run for a
//!   warm-up, then counts round trips for the measured window, records each
//!   one's latency in an HDR histogram, and reads the server's CPU time
//!   (`utime + stime` of `/proc/<pid>/stat`) at both ends of the window.
//! * [`go_binary`]: builds one of the Go programs under `benches/go/`.
//! * `/proc` readers and `key=value` line parsing shared by the benches.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::{BenchRt, GoroRt, SmolRt, TokioRt};

// ---------------------------------------------------------------- runtimes

/// A runtime as the I/O benches build it: reactor and timers enabled,
/// [`crate::WORKERS`] workers.
pub trait IoRt: BenchRt {
    /// Builds the runtime with I/O and timers (goro: [`BenchRt::new`];
    /// tokio: [`TokioRt::with_io`]; smol: [`SmolRt::with_io`]).
    fn new_io() -> Self;

    /// The runtime's own `sleep_until`.
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static;
}

impl IoRt for GoroRt {
    fn new_io() -> Self {
        Self::new()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        goro::time::sleep_until(deadline)
    }
}

impl IoRt for TokioRt {
    fn new_io() -> Self {
        Self::with_io()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep_until(deadline.into())
    }
}

impl IoRt for SmolRt {
    fn new_io() -> Self {
        Self::with_io()
    }

    async fn sleep_until(deadline: Instant) {
        async_io::Timer::at(deadline).await;
    }
}

// ---------------------------------------------------------------- /proc

/// Clock ticks per second of `/proc/<pid>/stat` times (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions; _SC_CLK_TCK is always supported.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// CPU time (`utime + stime`, all threads) of process `pid` in seconds, from
/// `/proc/<pid>/stat`; `None` if the process is gone.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields from the last ')'. utime and stime are fields 14 and 15,
    // so the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_sec())
}

/// Busy CPU time of the whole machine in seconds (all CPUs, everything but
/// idle and iowait), from the first line of `/proc/stat`.
pub fn machine_busy_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4)?;
    Some((total - idle) as f64 / clock_ticks_per_sec())
}

/// A `Key:` line's first number from `/proc/<pid>/status` (e.g. `Threads`,
/// `VmRSS` in KiB).
pub fn status_field(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

// ---------------------------------------------------------------- parsing

/// The value of `key=value` in a result line.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// The number at `key=` in a result line, NaN if missing.
pub fn num(line: &str, key: &str) -> f64 {
    field(line, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The value after a `--name` flag in `args`, parsed; `default` if absent.
///
/// # Panics
/// If the value does not parse.
pub fn flag<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} needs a value")),
        None => default,
    }
}

/// The runtimes to run: all of `all`, or those whose name contains the
/// first argument that is neither a flag nor a flag's value (so
/// `cargo bench --bench tcp_echo -- goro` runs only goro's server).
pub fn selected<'a>(args: &[String], all: &[&'a str]) -> Vec<&'a str> {
    let mut filter = None;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--bench" || a == "--nocapture" {
            i += 1;
        } else if a.starts_with("--") {
            i += 2;
        } else {
            filter = Some(a.as_str());
            break;
        }
    }
    all.iter()
        .copied()
        .filter(|rt| filter.is_none_or(|f| rt.contains(f)))
        .collect()
}

/// Mean of the finite values, NaN if none.
pub fn mean(v: &[f64]) -> f64 {
    let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.is_empty() {
        f64::NAN
    } else {
        finite.iter().sum::<f64>() / finite.len() as f64
    }
}

/// `pass` / `fail`, or `n/a` when a figure is missing.
pub fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "pass",
        Some(false) => "**fail**",
        None => "n/a",
    }
}

// ---------------------------------------------------------------- children

/// A server child process. It must print `LISTEN <addr>` on stdout once it
/// accepts connections; everything after that is drained and ignored. The
/// process is killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct ServerProc {
    child: Child,
    /// The address it listens on, from its `LISTEN` line.
    pub addr: String,
}

impl ServerProc {
    /// Starts `cmd` and waits up to `timeout` for its `LISTEN` line.
    ///
    /// # Errors
    /// Spawn failure, early exit or no `LISTEN` line in time.
    pub fn start(mut cmd: Command, timeout: Duration) -> Result<Self, String> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn server {cmd:?}: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        thread::Builder::new()
            .name("server-stdout".into())
            .spawn(move || {
                let mut sent = false;
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if !sent && let Some(addr) = line.strip_prefix("LISTEN ") {
                        let _ = tx.send(addr.trim().to_owned());
                        sent = true;
                    }
                }
            })
            .expect("spawn stdout reader");
        match rx.recv_timeout(timeout) {
            Ok(addr) => Ok(Self { child, addr }),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                Err(format!(
                    "server printed no LISTEN line within {timeout:?} (status {status:?})"
                ))
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Threads:` of the server now.
    pub fn threads(&self) -> Option<u64> {
        status_field(self.pid(), "Threads")
    }

    /// Resident memory of the server now, in MiB.
    pub fn rss_mib(&self) -> Option<f64> {
        status_field(self.pid(), "VmRSS").map(|kib| kib as f64 / 1024.0)
    }

    /// Whether the server is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command that runs this bench executable as `--child <args>`.
pub fn self_child(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
    cmd.arg("--child").args(args);
    cmd
}

/// Prints `LISTEN <addr>` and flushes, for [`ServerProc::start`].
pub fn announce(addr: std::net::SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "LISTEN {addr}").expect("write LISTEN line");
    out.flush().expect("flush stdout");
}

// ---------------------------------------------------------------- Go

/// Builds the Go program `benches/go/<name>` into
/// `<target>/<profile>/go-bench/<name>` and returns its path, or why it
/// cannot (no `go` on `PATH`, build failure).
///
/// # Errors
/// The reason the Go row is skipped.
pub fn go_binary(name: &str) -> Result<PathBuf, String> {
    let version = Command::new("go")
        .arg("version")
        .output()
        .map_err(|e| format!("`go` not runnable ({e}); install Go to add the Go row"))?;
    if !version.status.success() {
        return Err("`go version` failed".into());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // <target>/<profile>/deps/<bench>-<hash>
    let profile_dir = exe.parent().and_then(Path::parent).ok_or("no target dir")?;
    let out_dir = profile_dir.join("go-bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("create {out_dir:?}: {e}"))?;
    let out = out_dir.join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
    let mut cmd = Command::new("go");
    cmd.args(["build", "-o"])
        .arg(&out)
        .arg(format!("./{name}"))
        .current_dir(&src)
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local");
    if std::env::var_os("GOCACHE").is_none() && std::env::var_os("HOME").is_none() {
        cmd.env("GOCACHE", out_dir.join("cache"));
    }
    let built = cmd.output().map_err(|e| format!("go build: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "go build ./{name} failed: {}",
            String::from_utf8_lossy(&built.stderr).trim()
        ));
    }
    let v = String::from_utf8_lossy(&version.stdout);
    eprintln!("built {} with {}", out.display(), v.trim());
    Ok(out)
}

// ---------------------------------------------------------------- load client

/// Worker threads of the load client's tokio runtime: the same as each
/// server's, so on 2 cores neither side is starved by construction.
pub const LOAD_THREADS: usize = 2;
/// Connections being opened (TCP connect plus any handshake) at once.
pub const CONNECT_CONCURRENCY: usize = 64;

const WARMING: u8 = 0;
const MEASURING: u8 = 1;
const DONE: u8 = 2;

/// One client connection of the load client.
pub trait LoadConn: Send + 'static {
    /// Sends request number `seq`, waits for the whole echo and checks it
    /// byte for byte.
    fn round_trip(&mut self, seq: u64) -> impl Future<Output = Result<(), String>> + Send;
}

/// What the load client does.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Concurrent connections, each with one request in flight.
    pub conns: usize,
    /// Unmeasured time after every connection is open.
    pub warmup: Duration,
    /// Measured window.
    pub measure: Duration,
    /// Server process whose CPU time is read at both ends of the window.
    pub server_pid: u32,
}

/// Runs the load client (in the calling process, on its own tokio runtime)
/// and prints one `LOAD ...` line with the results: `round_trips`, `secs`,
/// `rt_per_s`, `p50_us`, `p99_us`, `p999_us`, `max_us`, `server_cpu_s`,
/// `server_cpu_us_per_rt`, `client_cpu_us_per_rt`, `conns_ok`,
/// `connect_failed`, `errors` (failed or mismatched round trips), `stuck`
/// (connections still waiting for an echo 5 s after the window) and
/// `other_cpu_s` (CPU seconds the rest of the machine used in the window,
/// from `/proc/stat`: a large value marks a run disturbed by other load).
///
/// `connect` opens one connection (including any protocol handshake).
pub fn run_load<C, F, Fut>(cfg: &LoadConfig, connect: F)
where
    C: LoadConn,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<C, String>> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(LOAD_THREADS)
        .enable_all()
        .build()
        .expect("build the load client's tokio runtime");
    let cfg = cfg.clone();
    let connect = Arc::new(connect);
    let line = rt.block_on(async move {
        let phase = Arc::new(AtomicU8::new(WARMING));
        let opened = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let gate = Arc::new(tokio::sync::Semaphore::new(CONNECT_CONCURRENCY));
        let mut tasks = Vec::with_capacity(cfg.conns);
        for _ in 0..cfg.conns {
            let (phase, opened, failed, errors, gate, connect) = (
                phase.clone(),
                opened.clone(),
                failed.clone(),
                errors.clone(),
                gate.clone(),
                connect.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut hist =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 2).expect("histogram bounds");
                let mut count = 0u64;
                let permit = gate.acquire().await.expect("semaphore closed");
                let conn = connect().await;
                drop(permit);
                let mut conn = match conn {
                    Ok(c) => {
                        opened.fetch_add(1, Ordering::Relaxed);
                        c
                    }
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("load client: connect failed: {e}");
                        }
                        return (count, hist);
                    }
                };
                let mut seq = 0u64;
                while phase.load(Ordering::Relaxed) != DONE {
                    let t0 = Instant::now();
                    if let Err(e) = conn.round_trip(seq).await {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("load client: round trip {seq} failed: {e}");
                        }
                        break;
                    }
                    seq += 1;
                    if phase.load(Ordering::Relaxed) == MEASURING {
                        let us = t0.elapsed().as_micros().max(1);
                        hist.saturating_record(u64::try_from(us).unwrap_or(u64::MAX));
                        count += 1;
                    }
                }
                (count, hist)
            }));
        }
        // Every connection open (or failed), then the warm-up.
        let open_deadline = Instant::now() + Duration::from_secs(60);
        while opened.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < cfg.conns
            && Instant::now() < open_deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(cfg.warmup).await;

        let server0 = cpu_secs(cfg.server_pid);
        let client0 = cpu_secs(std::process::id());
        let machine0 = machine_busy_secs();
        let start = Instant::now();
        phase.store(MEASURING, Ordering::Relaxed);
        tokio::time::sleep(cfg.measure).await;
        phase.store(DONE, Ordering::Relaxed);
        let secs = start.elapsed().as_secs_f64();
        let server1 = cpu_secs(cfg.server_pid);
        let client1 = cpu_secs(std::process::id());
        let machine1 = machine_busy_secs();

        let mut hist =
            Histogram::<u64>::new_with_bounds(1, 60_000_000, 2).expect("histogram bounds");
        let mut round_trips = 0u64;
        let mut stuck = 0usize;
        let drain_deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        for t in tasks {
            let abort = t.abort_handle();
            match tokio::time::timeout_at(drain_deadline, t).await {
                Ok(Ok((n, h))) => {
                    round_trips += n;
                    hist.add(&h).expect("merge histograms");
                }
                Ok(Err(e)) => {
                    eprintln!("load client: connection task failed: {e}");
                    stuck += 1;
                }
                Err(_) => {
                    abort.abort();
                    stuck += 1;
                }
            }
        }
        let rts = round_trips.max(1) as f64;
        let server_cpu = match (server0, server1) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        };
        let client_cpu = match (client0, client1) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        };
        // CPU that neither the server nor the client used during the
        // window: other processes on this (shared) machine. A large value
        // marks a disturbed run.
        let other_cpu = match (machine0, machine1) {
            (Some(a), Some(b)) => (b - a - server_cpu - client_cpu).max(0.0),
            _ => f64::NAN,
        };
        format!(
            "LOAD conns={} round_trips={round_trips} secs={secs:.3} rt_per_s={:.0} \
             p50_us={} p99_us={} p999_us={} max_us={} server_cpu_s={server_cpu:.3} \
             server_cpu_us_per_rt={:.3} client_cpu_us_per_rt={:.3} conns_ok={} \
             connect_failed={} errors={} stuck={stuck} other_cpu_s={other_cpu:.2}",
            cfg.conns,
            round_trips as f64 / secs,
            hist.value_at_quantile(0.5),
            hist.value_at_quantile(0.99),
            hist.value_at_quantile(0.999),
            hist.max(),
            server_cpu * 1e6 / rts,
            client_cpu * 1e6 / rts,
            opened.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed),
            errors.load(Ordering::Relaxed),
        )
    });
    println!("{line}");
    // Connections that never answered may hold the runtime: do not wait.
    rt.shutdown_timeout(Duration::from_millis(100));
}

/// Raises `RLIMIT_NOFILE` to its hard limit (1,000 connections on both ends
/// need more than the usual soft limit of 1,024 descriptors).
pub fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

// ---------------------------------------------------------------- runs

/// One server's measured run: its `LOAD` line plus what the parent read
/// from the server afterwards.
#[derive(Debug, Clone)]
pub struct ServerRun {
    /// The load client's `LOAD ...` line.
    pub load: String,
    /// Server threads after the run.
    pub threads: Option<u64>,
    /// Server resident memory after the run, MiB.
    pub rss_mib: Option<f64>,
}

/// Starts `server`, runs the load client child (`--child load <proto>
/// <addr> <pid> <conns> <warmup_ms> <measure_ms>`) against it, and returns
/// the client's `LOAD` line with the server's threads and RSS afterwards.
///
/// # Errors
/// What went wrong with the server or the client.
pub fn measure_server(
    server: Command,
    proto: &str,
    conns: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<ServerRun, String> {
    let mut srv = ServerProc::start(server, Duration::from_secs(20))?;
    let pid = srv.pid().to_string();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let conns_s = conns.to_string();
    let warm_s = warmup.as_millis().to_string();
    let meas_s = measure.as_millis().to_string();
    let timeout = warmup + measure + Duration::from_secs(120);
    let load = crate::run_child(
        &exe,
        &["load", proto, &srv.addr, &pid, &conns_s, &warm_s, &meas_s],
        timeout,
        "LOAD ",
    )?;
    let threads = srv.threads();
    let rss_mib = srv.rss_mib();
    if !srv.alive() {
        return Err(format!("server died during the run; client said: {load}"));
    }
    Ok(ServerRun {
        load,
        threads,
        rss_mib,
    })
}

/// Runs `rounds` rounds of [`measure_server`] over `servers`, interleaved
/// (each round runs every server once), printing each run's line. `command`
/// gives a server's command, or `None` to skip it. Returns each server's
/// runs (servers without any left out) and whether any run failed.
pub fn measure_rounds<'a>(
    proto: &str,
    servers: &[&'a str],
    rounds: usize,
    conns: usize,
    warmup: Duration,
    measure: Duration,
    command: impl Fn(&str) -> Option<Command>,
) -> (Vec<(&'a str, Vec<ServerRun>)>, bool) {
    let mut results: Vec<(&str, Vec<ServerRun>)> = servers.iter().map(|s| (*s, vec![])).collect();
    let mut failed = false;
    for round in 0..rounds {
        for (name, runs) in &mut results {
            let Some(cmd) = command(name) else { continue };
            match measure_server(cmd, proto, conns, warmup, measure) {
                Ok(run) => {
                    println!(
                        "round {round}: {name}: {} server_threads={:?} server_rss_mib={:.1}",
                        run.load,
                        run.threads,
                        run.rss_mib.unwrap_or(f64::NAN)
                    );
                    runs.push(run);
                }
                Err(e) => {
                    eprintln!("{proto} / {name} / {conns} connections: {e}");
                    failed = true;
                }
            }
        }
    }
    results.retain(|(_, runs)| !runs.is_empty());
    (results, failed)
}

/// Parses the arguments after `--child load <proto>`:
/// `<addr> <pid> <conns> <warmup_ms> <measure_ms>`.
///
/// # Panics
/// On malformed arguments.
pub fn load_config(rest: &[String]) -> (String, LoadConfig) {
    let get = |i: usize| {
        rest.get(i).unwrap_or_else(|| {
            panic!("--child load <proto> <addr> <pid> <conns> <warmup_ms> <measure_ms>")
        })
    };
    let ms = |i: usize| Duration::from_millis(get(i).parse().expect("milliseconds"));
    let cfg = LoadConfig {
        conns: get(2).parse().expect("connections"),
        warmup: ms(3),
        measure: ms(4),
        server_pid: get(1).parse().expect("server pid"),
    };
    (get(0).clone(), cfg)
}

// ---------------------------------------------------------------- tables

/// Target for goro against tokio: round trips/s at least this multiple.
pub const TARGET_RT_RATIO: f64 = 1.1;
/// Target for goro against tokio: server CPU per round trip at most this multiple.
pub const TARGET_CPU_RATIO: f64 = 0.9;
/// Target for goro against tokio: p99 latency at most this multiple.
pub const TARGET_P99_RATIO: f64 = 1.0;

/// Prints the markdown table of one load setting (one connection count):
/// per server the mean over its rounds of round trips/s, p99, server and
/// client CPU per round trip, the server's threads and RSS after the run,
/// and goro / this server for round trips/s, CPU per round trip and p99;
/// then goro / tokio against the targets.
pub fn print_load_table(title: &str, rows: &[(&str, Vec<ServerRun>)]) {
    let agg = |runs: &[ServerRun], key: &str| {
        mean(&runs.iter().map(|r| num(&r.load, key)).collect::<Vec<_>>())
    };
    let stats: Vec<[f64; 5]> = rows
        .iter()
        .map(|(_, runs)| {
            [
                agg(runs, "rt_per_s"),
                agg(runs, "p99_us"),
                agg(runs, "server_cpu_us_per_rt"),
                agg(runs, "client_cpu_us_per_rt"),
                agg(runs, "p50_us"),
            ]
        })
        .collect();
    let goro = rows
        .iter()
        .position(|(n, _)| *n == "goro")
        .map(|i| stats[i]);
    println!();
    println!("{title}");
    println!();
    println!(
        "| server | rt/s | rt/s per round | p50 µs | p99 µs | server CPU µs/rt | client CPU µs/rt \
         | server threads | server RSS MiB | other CPU s per round | goro/this rt/s \
         | goro/this CPU/rt | goro/this p99 |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for ((name, runs), s) in rows.iter().zip(&stats) {
        let per_round: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.0}", num(&r.load, "rt_per_s")))
            .collect();
        let threads = runs
            .iter()
            .filter_map(|r| r.threads)
            .max()
            .map_or("-".to_owned(), |t| t.to_string());
        let rss = mean(
            &runs
                .iter()
                .map(|r| r.rss_mib.unwrap_or(f64::NAN))
                .collect::<Vec<_>>(),
        );
        let other: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.1}", num(&r.load, "other_cpu_s")))
            .collect();
        let ratio = |i: usize| goro.map_or(f64::NAN, |g| g[i] / s[i]);
        println!(
            "| {name} | {:.0} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {threads} | {rss:.1} | {} | {:.2} | {:.2} | {:.2} |",
            s[0],
            per_round.join(" / "),
            s[4],
            s[1],
            s[2],
            s[3],
            other.join(" / "),
            ratio(0),
            ratio(2),
            ratio(1)
        );
    }
    let bad: Vec<String> = rows
        .iter()
        .flat_map(|(name, runs)| {
            runs.iter().filter_map(move |r| {
                let errors =
                    num(&r.load, "errors") + num(&r.load, "connect_failed") + num(&r.load, "stuck");
                (errors != 0.0).then(|| format!("{name}: {}", r.load))
            })
        })
        .collect();
    for b in &bad {
        println!("errors in a run: {b}");
    }
    let tokio = rows
        .iter()
        .position(|(n, _)| *n == "tokio")
        .map(|i| stats[i]);
    if let (Some(g), Some(t)) = (goro, tokio) {
        let check = |r: f64, ok: bool| verdict(r.is_finite().then_some(ok));
        let rt = g[0] / t[0];
        let cpu = g[2] / t[2];
        let p99 = g[1] / t[1];
        println!();
        println!(
            "goro / tokio: rt/s {rt:.2} (target >= {TARGET_RT_RATIO}: {}), \
             CPU/rt {cpu:.2} (target <= {TARGET_CPU_RATIO}: {}), \
             p99 {p99:.2} (target <= {TARGET_P99_RATIO}: {})",
            check(rt, rt >= TARGET_RT_RATIO),
            check(cpu, cpu <= TARGET_CPU_RATIO),
            check(p99, p99 <= TARGET_P99_RATIO),
        );
    }
}
