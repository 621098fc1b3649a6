//! WebSocket echo: goro vs tokio vs smol, each server in its own process
//! with 2 worker threads, all driven by the same WebSocket load client.
//!
//! A plain `main` (`harness = false`), built like `tcp_echo`: per round,
//! connection count and server, the bench starts the server as a child
//! (`--child server <rt>`), waits for its `LISTEN <addr>` line, and runs the
//! load client as another child (`--child load ws ...`): [`CONN_COUNTS`]
//! connections (200, then 1,000), each doing the WebSocket handshake and
//! then sending a [`MSG`]-byte binary message and waiting for its echo
//! before the next, [`WARMUP`] unmeasured, then [`MEASURE`] measured. It
//! reports round trips/s, latency percentiles and the server's CPU time per
//! round trip (`/proc/<pid>/stat`), as in `tcp_echo`.
//!
//! The three servers are written the same way: an accept loop on one task,
//! `TCP_NODELAY`, one task per connection that does the server handshake
//! and echoes every text and binary message until the stream ends
//! (tungstenite answers pings and close frames itself):
//!
//! * goro: `async-tungstenite` over `goro::net::TcpStream` (futures-io),
//!   `goro::go` per connection;
//! * tokio: `tokio-tungstenite` over `tokio::net::TcpStream`, `tokio::spawn`;
//! * smol: `async-tungstenite` over `async_net::TcpStream` (async-io), a
//!   detached `async_executor` task.
//!
//! The client is `tokio-tungstenite` on a tokio runtime with
//! [`goro_benches::load::LOAD_THREADS`] workers whatever the server; every
//! echo is checked byte for byte.
//!
//! Options after `--`: a runtime filter, `--rounds N` (default 2), `--secs S`
//! (default 5), `--conns N` (only that connection count).

use std::time::Duration;

use futures_lite::{AsyncRead, AsyncWrite};
use futures_util::{SinkExt, StreamExt};
use goro_benches::child::{load_bench_args, self_child};
use goro_benches::cli::flag;
use goro_benches::load::runs::measure_rounds;
use goro_benches::load::table::print_load_table;
use goro_benches::load::{LoadConn, connect_nodelay, load_config, run_load};
use goro_benches::serve::{ConnHandlers, serve_child};

/// Connection counts, each its own table.
const CONN_COUNTS: &[usize] = &[200, 1_000];
/// Message size in bytes.
const MSG: usize = 64;
/// Unmeasured time once every connection is open.
const WARMUP: Duration = Duration::from_secs(1);
/// Measured window.
const MEASURE: Duration = Duration::from_secs(5);
/// Servers, in table order.
const SERVERS: &[&str] = &["goro", "tokio", "smol"];

// ---------------------------------------------------------------- servers

/// One connection over futures-io (goro, smol): handshake, then echo every
/// data message until the stream ends or fails.
async fn ws_futures_io<S: AsyncRead + AsyncWrite + Unpin>(s: S) {
    use async_tungstenite::tungstenite::Message;
    let Ok(mut ws) = async_tungstenite::accept_async(s).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if matches!(msg, Message::Text(_) | Message::Binary(_)) && ws.send(msg).await.is_err() {
            return;
        }
    }
}

/// One connection over tokio: the same loop with `tokio-tungstenite`.
async fn ws_tokio(s: tokio::net::TcpStream) {
    use tokio_tungstenite::tungstenite::Message;
    let Ok(mut ws) = tokio_tungstenite::accept_async(s).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if matches!(msg, Message::Text(_) | Message::Binary(_)) && ws.send(msg).await.is_err() {
            return;
        }
    }
}

fn child_server(rt: &str) {
    serve_child(
        rt,
        ConnHandlers {
            goro: ws_futures_io::<goro::net::TcpStream>,
            tokio: ws_tokio,
            smol: ws_futures_io::<async_net::TcpStream>,
        },
    );
}

// ---------------------------------------------------------------- client

type ClientWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// One client connection: `tokio-tungstenite` over a tokio `TcpStream`.
struct WsConn {
    ws: ClientWs,
    payload: Vec<u8>,
}

impl std::fmt::Debug for WsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConn").finish_non_exhaustive()
    }
}

impl LoadConn for WsConn {
    async fn round_trip(&mut self, seq: u64) -> Result<(), String> {
        use tokio_tungstenite::tungstenite::Message;
        self.payload[..8].copy_from_slice(&seq.to_le_bytes());
        self.ws
            .send(Message::binary(self.payload.clone()))
            .await
            .map_err(|e| format!("send: {e}"))?;
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Binary(b))) if b[..] == self.payload[..] => return Ok(()),
                Some(Ok(Message::Binary(_))) => return Err("echo mismatch".into()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(other)) => return Err(format!("unexpected message {other:?}")),
                Some(Err(e)) => return Err(format!("receive: {e}")),
                None => return Err("server closed the connection".into()),
            }
        }
    }
}

fn child_load(rest: &[String]) {
    let (addr, cfg) = load_config(rest);
    run_load(&cfg, move || async move {
        let s = connect_nodelay(addr).await?;
        let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), s)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let payload = (0..MSG).map(|i| i as u8).collect();
        Ok(WsConn { ws, payload })
    });
}

// ---------------------------------------------------------------- parent

fn main() {
    let Some(bench) = load_bench_args(SERVERS, MEASURE, child_server, child_load) else {
        return;
    };
    let only_conns: usize = flag(&bench.args, "--conns", 0);
    let (rounds, measure, servers) = (bench.rounds, bench.measure, bench.servers);
    println!(
        "ws_echo: {MSG}-byte binary messages, {} s warm-up, {} s measured, {rounds} round(s), \
         allocator {}",
        WARMUP.as_secs(),
        measure.as_secs(),
        goro_benches::ALLOCATOR
    );
    let mut failed = false;
    for &conns in CONN_COUNTS {
        if only_conns != 0 && conns != only_conns {
            continue;
        }
        let (results, round_failed) =
            measure_rounds("ws", &servers, rounds, conns, WARMUP, measure, |name| {
                Some(self_child(&["server", name]))
            });
        failed |= round_failed;
        print_load_table(
            &format!(
                "ws_echo, {conns} connections × {MSG} B binary, mean of {rounds} round(s) \
                 (server CPU = utime+stime of the server process over the window)"
            ),
            &results,
        );
    }
    if failed {
        std::process::exit(1);
    }
}
