//! TCP echo: goro vs tokio vs smol (vs Go), each server in its own process
//! with 2 worker threads, all driven by the same load client.
//!
//! A plain `main` (`harness = false`). For every round and server the bench
//! starts the server as a child process (this executable again with
//! `--child server <rt>`, or the Go program `benches/go/tcp_echo` built with
//! `go build`, run with `GOMAXPROCS=2`), waits for its `LISTEN <addr>` line,
//! then runs the load client as another child (`--child load tcp ...`):
//! [`CONNS`] connections, each sending a [`MSG`]-byte request and waiting for
//! the whole echo before the next (one request in flight per connection),
//! [`WARMUP`] unmeasured, then [`MEASURE`] measured. The client reports round
//! trips/s, latency percentiles (HDR histogram, µs) and the server's CPU time
//! (`utime + stime` from `/proc/<pid>/stat`, at both ends of the window)
//! per round trip, plus its own. Then the server is killed.
//!
//! Every server is the same: accept in a loop on one task (goroutine),
//! `TCP_NODELAY` on, one task per connection that reads up to 4 KiB and
//! writes back what it read. The client is a tokio runtime with
//! [`goro_benches::load::LOAD_THREADS`] workers whatever the server.
//!
//! On Linux there is one more server, `uring`: not a runtime but a minimal
//! io_uring echo loop on 2 threads ([`goro_benches::uring`], issue 23), to
//! measure what an io_uring backend could save before building one.
//!
//! Options after `--`: a runtime name filter (`goro`, `tokio`, `smol`, `go`,
//! `uring`; several separated by commas, as in `goro,tokio,uring`),
//! `--rounds N` (default 2, servers interleaved), `--secs S` (measured
//! window, default 5), `--conns N` (default 200).

use std::time::Duration;

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use goro_benches::child::{load_bench_args, self_child};
use goro_benches::cli::flag;
use goro_benches::go::go_if_selected;
use goro_benches::load::runs::measure_rounds;
use goro_benches::load::table::print_load_table;
use goro_benches::load::{LoadConn, connect_nodelay, load_config, run_load};
use goro_benches::serve::{ConnHandlers, serve_child};

/// Concurrent client connections.
const CONNS: usize = 200;
/// Request and response size in bytes.
const MSG: usize = 64;
/// Unmeasured time once every connection is open.
const WARMUP: Duration = Duration::from_secs(1);
/// Measured window.
const MEASURE: Duration = Duration::from_secs(5);
/// Servers, in table order.
#[cfg(target_os = "linux")]
const SERVERS: &[&str] = &["goro", "tokio", "smol", "go", "uring"];
/// Servers, in table order (no io_uring outside Linux).
#[cfg(not(target_os = "linux"))]
const SERVERS: &[&str] = &["goro", "tokio", "smol", "go"];
/// Server read buffer.
const BUF: usize = 4096;

// ---------------------------------------------------------------- servers

/// The echo loop: reads into a `BUF`-byte buffer and writes back what came,
/// until EOF or an error. A macro, so that the same text runs over either
/// ecosystem's extension traits, whichever are in scope.
macro_rules! echo_until_eof {
    ($s:ident) => {{
        let mut buf = vec![0u8; BUF];
        loop {
            let n = match $s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if $s.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }};
}

/// Echoes until EOF or an error, over the futures-io traits (goro, smol).
async fn echo_futures_io<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
    echo_until_eof!(s)
}

/// Echoes until EOF or an error, over tokio's I/O traits.
async fn echo_tokio(mut s: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    echo_until_eof!(s)
}

fn child_server(rt: &str) {
    #[cfg(target_os = "linux")]
    if rt == "uring" {
        goro_benches::uring::serve_echo(BUF);
        return;
    }
    serve_child(
        rt,
        ConnHandlers {
            goro: echo_futures_io::<goro::net::TcpStream>,
            tokio: echo_tokio,
            smol: echo_futures_io::<async_net::TcpStream>,
        },
    );
}

// ---------------------------------------------------------------- client

/// One client connection: a tokio `TcpStream` with `TCP_NODELAY`.
#[derive(Debug)]
struct TcpConn {
    s: tokio::net::TcpStream,
    req: [u8; MSG],
    resp: [u8; MSG],
}

impl LoadConn for TcpConn {
    async fn round_trip(&mut self, seq: u64) -> Result<(), String> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        self.req[..8].copy_from_slice(&seq.to_le_bytes());
        self.s
            .write_all(&self.req)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.s
            .read_exact(&mut self.resp)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if self.req != self.resp {
            return Err("echo mismatch".into());
        }
        Ok(())
    }
}

fn child_load(rest: &[String]) {
    let (addr, cfg) = load_config(rest);
    run_load(&cfg, move || async move {
        let s = connect_nodelay(addr).await?;
        let mut req = [0u8; MSG];
        for (i, b) in req.iter_mut().enumerate() {
            *b = i as u8;
        }
        Ok(TcpConn {
            s,
            req,
            resp: [0; MSG],
        })
    });
}

// ---------------------------------------------------------------- parent

fn main() {
    let Some(bench) = load_bench_args(SERVERS, MEASURE, child_server, child_load) else {
        return;
    };
    let conns: usize = flag(&bench.args, "--conns", CONNS);
    let (rounds, measure, servers) = (bench.rounds, bench.measure, bench.servers);
    let go = go_if_selected(&servers, "tcp_echo");
    println!(
        "tcp_echo: {conns} connections, {MSG}-byte request/response, {} s warm-up, {} s \
         measured, {rounds} round(s), allocator {}",
        WARMUP.as_secs(),
        measure.as_secs(),
        goro_benches::ALLOCATOR
    );
    let (results, failed) =
        measure_rounds("tcp", &servers, rounds, conns, WARMUP, measure, |name| {
            if name != "go" {
                return Some(self_child(&["server", name]));
            }
            let mut cmd = std::process::Command::new(go.as_ref()?);
            cmd.env("GOMAXPROCS", goro_benches::WORKERS.to_string());
            Some(cmd)
        });
    print_load_table(
        &format!(
            "tcp_echo, {conns} connections × {MSG} B, mean of {rounds} round(s) \
             (server CPU = utime+stime of the server process over the window)"
        ),
        &results,
    );
    if failed {
        std::process::exit(1);
    }
}
