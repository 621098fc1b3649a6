//! The load client of the TCP server benches (`tcp_echo`, `ws_echo`), the
//! same for every server. A tokio runtime with [`LOAD_THREADS`] workers
//! opens the connections (at most [`CONNECT_CONCURRENCY`] handshakes at a
//! time), lets them run for a warm-up, then counts round trips for the
//! measured window, records each one's latency in an HDR histogram, and
//! reads the server's CPU time (`utime + stime` of `/proc/<pid>/stat`) at
//! both ends of the window. [`runs`] measures servers with it, [`table`]
//! prints the results.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::procfs::{cpu_secs, machine_busy_secs};

pub mod runs;
pub mod table;

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

/// Sets up a load child: raises the descriptor limit and parses the
/// arguments after `--child load <proto>`:
/// `<addr> <pid> <conns> <warmup_ms> <measure_ms>`.
///
/// # Panics
/// On malformed arguments.
pub fn load_config(rest: &[String]) -> (SocketAddr, LoadConfig) {
    let _ = goro::net::raise_fd_limit();
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
    (get(0).parse().expect("server address"), cfg)
}

/// A load connection's socket: connected to `addr`, `TCP_NODELAY` set.
///
/// # Errors
/// The connect or setsockopt error, as text naming the address.
pub async fn connect_nodelay(addr: SocketAddr) -> Result<tokio::net::TcpStream, String> {
    let s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(s)
}
