//! HTTP plaintext (TechEmpower's "Hello, World!"): goro with hyper vs tokio
//! with hyper and hyper-util's `TokioIo` (vs Go's `net/http`), measured with
//! `wrk`.
//!
//! A plain `main` (`harness = false`). For every round and server it starts
//! the server as a child process with 2 workers (this executable again with
//! `--child server <rt>`, or `benches/go/http_hello` with `GOMAXPROCS=2`),
//! runs `wrk -t1 -c64` for 1 s unmeasured, then `wrk -t1 -c64 --latency`
//! for the measured window, reading the server's `utime + stime` from
//! `/proc/<pid>/stat` on both sides of it. Servers are interleaved round by
//! round. It reports requests/s, p99 latency and server CPU per request,
//! each as the median of the rounds, and goro's ratios to tokio and Go.
//!
//! goro and tokio serve the same hyper service through the same hyper-util
//! auto builder (HTTP/1.1 and HTTP/2), with `TCP_NODELAY` and one task per
//! connection.
//!
//! Options after `--`: a runtime filter (`goro`, `goro-notimer`, `tokio`, `tokio-timer`, `go`), `--rounds N`
//! (default 3), `--secs S` (default 5), `--conns N` (default 64).

use std::convert::Infallible;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use goro_benches::child::{ServerProc, announce, self_child};
use goro_benches::cli::{flag, selected};
use goro_benches::go::go_if_selected;
use goro_benches::procfs::cpu_secs;
use goro_benches::runtimes::{BenchRt, TokioRt};
use goro_benches::vs_goro::{Measure, print_medians_vs_goro, whole};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response};

/// `tokio` serves without a timer, as hyper-util's examples do (so no
/// header read timeout); `tokio-timer` adds `TokioTimer` and hyper's 30 s
/// `header_read_timeout`, which goro's `serve` has by default.
/// `goro-notimer` is `serve` with `header_read_timeout(None)`: the same
/// work per request as `tokio`, to split what the timer costs from the rest.
const SERVERS: &[&str] = &["goro", "goro-notimer", "tokio", "tokio-timer", "go"];
const WORKERS: usize = 2;

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(resp)
}

fn serve_goro(header_timeout: bool) {
    let rt = goro::Runtime::builder()
        .maxprocs(WORKERS)
        .build()
        .expect("goro runtime");
    if std::env::var_os("GORO_BENCH_STATS").is_some() {
        // Diagnosis: the scheduler's counters once a second, on stderr.
        let h = rt.handle().clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let s = h.stats();
                eprintln!(
                    "stats: threads={} retakes={} steals={} parks={} polls={} sched p99={:?} max={:?}",
                    s.threads,
                    s.retakes,
                    s.steals,
                    s.parks,
                    s.polls,
                    s.sched_latency.p99(),
                    s.sched_latency.max()
                );
            }
        });
    }
    rt.block_on(async {
        let listener = goro::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        announce(listener.local_addr().expect("addr"));
        let mut server = goro::http::Server::new();
        if !header_timeout {
            server = server.header_read_timeout(None);
        }
        server
            .serve(listener, hyper::service::service_fn(hello))
            .await
            .expect("serve");
    });
}

fn serve_tokio(timer: bool) {
    // The runtimes module's tokio setup: 2 workers, I/O and timers on.
    let rt = TokioRt::with_io();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        announce(listener.local_addr().expect("addr"));
        let mut builder =
            hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
        if timer {
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30));
            builder.http2().timer(hyper_util::rt::TokioTimer::new());
        }
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let builder = builder.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = builder
                    .serve_connection_with_upgrades(io, hyper::service::service_fn(hello))
                    .await;
            });
        }
    });
}

/// One measured run of one server.
struct Run {
    rps: f64,
    p99_ms: f64,
    cpu_us_per_req: f64,
}

/// wrk's latency field (`1.23ms`, `850.00us`, `1.01s`) in milliseconds.
fn millis(s: &str) -> Option<f64> {
    let (num, scale) = if let Some(n) = s.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * scale)
}

fn wrk(url: &str, conns: usize, secs: u64, latency: bool) -> Result<String, String> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", &format!("-c{conns}"), &format!("-d{secs}s")]);
    if latency {
        cmd.arg("--latency");
    }
    let out = cmd
        .arg(url)
        .output()
        .map_err(|e| format!("wrk: {e} (apt-get install wrk)"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("wrk failed: {text}"));
    }
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(format!("wrk saw errors:\n{text}"));
    }
    Ok(text)
}

fn measure(server: Command, conns: usize, secs: u64) -> Result<Run, String> {
    let srv = ServerProc::start(server, Duration::from_secs(20))?;
    let url = format!("http://{}/", srv.addr);
    wrk(&url, conns, 1, false)?;
    let before = cpu_secs(srv.pid()).ok_or("server gone")?;
    let text = wrk(&url, conns, secs, true)?;
    let after = cpu_secs(srv.pid()).ok_or("server gone")?;
    let requests: f64 = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .ok_or_else(|| format!("no request count in:\n{text}"))?;
    let rps: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no Requests/sec in:\n{text}"))?;
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .and_then(|v| millis(v.trim()))
        .ok_or_else(|| format!("no 99% latency in:\n{text}"))?;
    Ok(Run {
        rps,
        p99_ms,
        cpu_us_per_req: (after - before) * 1e6 / requests,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        match (
            args.get(i + 1).map(String::as_str),
            args.get(i + 2).map(String::as_str),
        ) {
            (Some("server"), Some("goro")) => serve_goro(true),
            (Some("server"), Some("goro-notimer")) => serve_goro(false),
            (Some("server"), Some("tokio")) => serve_tokio(false),
            (Some("server"), Some("tokio-timer")) => serve_tokio(true),
            other => panic!("usage: --child server goro|goro-notimer|tokio|tokio-timer: {other:?}"),
        }
        return;
    }
    let rounds: usize = flag(&args, "--rounds", 3);
    let secs: u64 = flag(&args, "--secs", 5);
    let conns: usize = flag(&args, "--conns", 64);
    let servers = selected(&args, SERVERS);
    let go = go_if_selected(&servers, "http_hello");
    let mut results: Vec<(&str, Vec<Run>)> = servers.iter().map(|s| (*s, Vec::new())).collect();
    let n = results.len();
    for round in 0..rounds {
        // Each round starts one server later, so no server always runs
        // first (after the previous round's last) or right after the same
        // neighbour.
        for k in 0..n {
            let (name, runs) = &mut results[(round + k) % n];
            let cmd = match *name {
                "go" => match &go {
                    Some(p) => {
                        let mut c = Command::new(p);
                        c.env("GOMAXPROCS", WORKERS.to_string());
                        c
                    }
                    None => continue,
                },
                rt => self_child(&["server", rt]),
            };
            match measure(cmd, conns, secs) {
                Ok(r) => {
                    println!(
                        "round {round}: {name}: {:.0} req/s, p99 {:.2} ms, server CPU {:.2} us/req",
                        r.rps, r.p99_ms, r.cpu_us_per_req
                    );
                    runs.push(r);
                }
                Err(e) => {
                    eprintln!("{name}: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    print_medians_vs_goro(
        &format!(
            "HTTP plaintext, wrk -t1 -c{conns}, {secs} s x {rounds} rounds, {WORKERS} workers each (medians)"
        ),
        "server",
        &[
            Measure::with_ratio("req/s", |r: &Run| r.rps, whole),
            Measure::plain("p99", |r: &Run| r.p99_ms, |v| format!("{v:.2} ms")),
            Measure::with_ratio(
                "server CPU per request",
                |r: &Run| r.cpu_us_per_req,
                |v| format!("{v:.2} µs"),
            ),
        ],
        &results,
    );
}
