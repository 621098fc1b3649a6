//! `ws_load`: a load client for WebSocket echo servers, on goro itself.
//!
//! ```text
//! cargo run --release --example ws_load -- --url ws://127.0.0.1:9001 --connections 1000 --size 64 --duration 10s
//! ```
//!
//! Opens `--connections` connections at a bounded rate (`--connect-rate`
//! per second, at most `--connect-concurrency` handshakes in flight), then
//! each connection sends a message, waits for its echo, checks it byte for
//! byte and sends the next, until `--duration` has passed since the start.
//! Messages alternate between binary and text, with contents that differ
//! per connection and per message, so a mixed-up echo is caught too. One
//! progress line updates while it runs; at the end it prints connections
//! made and failed, round trips per second and the latency percentiles.
//!
//! Idle mode (`--idle N --hold DUR`), for memory at scale: opens N
//! connections, each with one echo, holds them all open for DUR once the
//! last is open, pinging each every [`PING_EVERY`], and at the end checks
//! one more echo on every connection. Its report: the time to open them
//! all (the accept rate), failed connections and the echoes at the end.
//! The connections' source addresses are spread over `--sources` addresses
//! of 127.0.0.0/8 (127.1.0.1, 127.1.0.2, ...; by default one per 20,000
//! connections to a loopback server), because the ephemeral ports of one
//! address pair run out near 28,000.
//!
//! Exit status: 0 when every echo matched, 1 on any mismatch or when no
//! connection could be made, 2 on bad arguments.

#[path = "common/units.rs"]
mod units;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::http::Uri;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use async_tungstenite::tungstenite::{Message, Utf8Bytes};
use futures_lite::StreamExt;
use goro::CancelToken;
use goro::net::TcpStream;
use goro::sync::Semaphore;
use hdrhistogram::Histogram;
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use units::flag_duration;

const USAGE: &str = "\
usage: ws_load [OPTIONS]

  --url URL                    the echo server (default ws://127.0.0.1:9001)
  --connections N              connections to open (default 1000)
  --size BYTES                 message size (default 64)
  --duration DUR               how long to send, from the start: 10s, 500ms, 2m (default 10s)
  --connect-rate N             new connections per second at most (default 2000)
  --connect-concurrency N      handshakes in flight at most (default 200)
  --timeout DUR                give up on a connect, handshake or echo after this (default 10s)
  --idle N                     idle mode: open N connections, one echo each, hold them
  --hold DUR                   idle mode: how long to hold them once all are open (default 30s)
  --sources K                  source addresses 127.1.0.1.. to spread connections over
                               (default: one per 20,000 connections to a loopback server;
                               0: the kernel's choice)
  -h, --help                   this text
";

/// Latency shards: each connection records into one, chosen by its number,
/// so that connections rarely wait on each other's lock and memory does not
/// grow with the connection count (a histogram is ~200 KB).
const SHARDS: usize = 32;
/// The mismatches described in full; the rest are only counted.
const MISMATCHES_SHOWN: u64 = 5;
/// How often an idle connection pings.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Connections per source address by default (ephemeral ports: ~28,000).
const PER_SOURCE: usize = 20_000;

/// The command line, parsed.
#[derive(Debug, Clone)]
struct Options {
    url: String,
    connections: usize,
    size: usize,
    duration: Duration,
    connect_rate: u32,
    connect_concurrency: usize,
    timeout: Duration,
    /// Idle mode: hold the connections this long once all are open.
    hold: Option<Duration>,
    /// Source addresses to spread connections over (`None`: the default).
    sources: Option<usize>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        url: "ws://127.0.0.1:9001".to_owned(),
        connections: 1000,
        size: 64,
        duration: Duration::from_secs(10),
        connect_rate: 2000,
        connect_concurrency: 200,
        timeout: Duration::from_secs(10),
        hold: None,
        sources: None,
    };
    let mut idle = false;
    let mut hold = Duration::from_secs(30);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        fn count<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{name}: not a number: {v:?}"))
        }
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--url" => o.url = value("--url")?,
            "--connections" => o.connections = count("--connections", value("--connections")?)?,
            "--size" => o.size = count("--size", value("--size")?)?,
            "--duration" => o.duration = flag_duration("--duration", &value("--duration")?)?,
            "--connect-rate" => {
                o.connect_rate = count("--connect-rate", value("--connect-rate")?)?;
            }
            "--connect-concurrency" => {
                o.connect_concurrency =
                    count("--connect-concurrency", value("--connect-concurrency")?)?;
            }
            "--timeout" => o.timeout = flag_duration("--timeout", &value("--timeout")?)?,
            "--idle" => {
                o.connections = count("--idle", value("--idle")?)?;
                idle = true;
            }
            "--hold" => hold = flag_duration("--hold", &value("--hold")?)?,
            "--sources" => {
                let k: usize = count("--sources", value("--sources")?)?;
                if k > 250 * 250 {
                    return Err(format!("--sources: at most 62500, got {k}"));
                }
                o.sources = Some(k);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if idle {
        o.hold = Some(hold);
    }
    if o.connect_rate == 0 || o.connect_concurrency == 0 {
        return Err("--connect-rate and --connect-concurrency must be at least 1".to_owned());
    }
    Ok(Some(o))
}

/// Where to connect: `host:port` for TCP and the URL for the handshake.
fn target(url: &str) -> Result<(String, u16), String> {
    let uri: Uri = url.parse().map_err(|e| format!("bad --url {url:?}: {e}"))?;
    match uri.scheme_str() {
        Some("ws") => {}
        Some("wss") => return Err("wss:// is not supported (no TLS in this client)".to_owned()),
        _ => return Err(format!("--url must start with ws://, got {url:?}")),
    }
    let host = uri
        .host()
        .ok_or_else(|| format!("no host in {url:?}"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok((host, uri.port_u16().unwrap_or(80)))
}

/// Counters shared by the connection tasks and the progress line.
#[derive(Default)]
struct Totals {
    started: AtomicU64,
    connected: AtomicU64,
    failed: AtomicU64,
    round_trips: AtomicU64,
    mismatches: AtomicU64,
    /// Connections that ended with an error after connecting.
    broken: AtomicU64,
    closed_cleanly: AtomicU64,
    /// Idle mode: pings sent, and connections whose last echo matched.
    pings: AtomicU64,
    end_echoes: AtomicU64,
}

/// What every connection task shares.
struct Run {
    opts: Options,
    host: String,
    port: u16,
    start: Instant,
    deadline: Instant,
    totals: Totals,
    latency: Vec<Mutex<Histogram<u64>>>,
    first_error: Mutex<Option<String>>,
    handshakes: Semaphore,
    /// The server's address and the source addresses to spread over, when
    /// connections are bound to sources (empty: the kernel chooses).
    dest: Option<SocketAddr>,
    sources: Vec<Ipv4Addr>,
    /// Idle mode: the hold is over; every connection echoes once more.
    release: CancelToken,
}

impl Run {
    fn note_error(&self, what: String) {
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(what);
    }
}

/// The message number `seq` of connection `conn`: binary on even numbers,
/// text (printable ASCII) on odd ones, filled from a xorshift generator
/// seeded by both, so that no two messages in a run are alike.
fn message(conn: usize, seq: u64, size: usize) -> Message {
    let mut x = (conn as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seq.wrapping_add(1);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    if seq % 2 == 0 {
        Message::Binary((0..size).map(|_| next() as u8).collect::<Vec<u8>>().into())
    } else {
        let text: String = (0..size)
            .map(|_| char::from(b' ' + (next() % 95) as u8))
            .collect();
        Message::Text(text.into())
    }
}

/// Describes how `got` differs from `sent`, or `None` when they are equal.
fn difference(sent: &Message, got: &Message) -> Option<String> {
    let kind = |m: &Message| match m {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
        Message::Ping(_) => "ping",
        Message::Pong(_) => "pong",
        Message::Close(_) => "close",
        Message::Frame(_) => "frame",
    };
    if kind(sent) != kind(got) {
        return Some(format!(
            "sent a {} message, got a {} one",
            kind(sent),
            kind(got)
        ));
    }
    let (a, b): (&[u8], &[u8]) = match (sent, got) {
        (Message::Text(a), Message::Text(b)) => (a.as_bytes(), b.as_bytes()),
        (Message::Binary(a), Message::Binary(b)) => (a, b),
        _ => return None,
    };
    if a == b {
        return None;
    }
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    Some(format!(
        "sent {} bytes, got {}; first difference at byte {at}",
        a.len(),
        b.len()
    ))
}

/// One connection: connect, handshake, then round trips until the deadline.
async fn connection(run: Arc<Run>, conn: usize) {
    run.totals.started.fetch_add(1, Relaxed);
    let permit = run.handshakes.acquire().await;
    let opened = goro::time::timeout(run.opts.timeout, async {
        let stream = open_stream(&run, conn).await?;
        stream.set_nodelay(true)?;
        // Echo payloads are small: a small read buffer keeps 10,000s of
        // connections cheap (see the server's `read_buffer_size`).
        // Idle mode holds 10,000s of connections per process: 1 KiB each.
        let buffer = if run.opts.hold.is_some() {
            1 << 10
        } else {
            8 << 10
        };
        let config = WebSocketConfig::default().read_buffer_size(buffer);
        async_tungstenite::client_async_with_config(run.opts.url.as_str(), stream, Some(config))
            .await
            .map(|(ws, _response)| ws)
            .map_err(io::Error::other)
    })
    .await;
    drop(permit);
    let mut ws = match opened {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            run.totals.failed.fetch_add(1, Relaxed);
            run.note_error(format!("connection {conn}: {e}"));
            return;
        }
        Err(_) => {
            run.totals.failed.fetch_add(1, Relaxed);
            run.note_error(format!("connection {conn}: connect timed out"));
            return;
        }
    };
    run.totals.connected.fetch_add(1, Relaxed);
    let done = if run.opts.hold.is_some() {
        hold_idle(&run, conn, &mut ws).await
    } else {
        round_trips(&run, conn, &mut ws).await
    };
    match done {
        Ok(()) => {
            let bye = CloseFrame {
                code: CloseCode::Normal,
                reason: Utf8Bytes::from_static("done"),
            };
            let closed = goro::time::timeout(Duration::from_secs(2), async {
                ws.close(Some(bye)).await.ok()?;
                // Read until the server's answer ends the stream.
                while let Some(Ok(_)) = ws.next().await {}
                Some(())
            })
            .await;
            if let Ok(Some(())) = closed {
                run.totals.closed_cleanly.fetch_add(1, Relaxed);
            }
        }
        Err(e) => {
            run.totals.broken.fetch_add(1, Relaxed);
            run.note_error(format!("connection {conn}: {e}"));
        }
    }
}

async fn round_trips(
    run: &Run,
    conn: usize,
    ws: &mut WebSocketStream<TcpStream>,
) -> Result<(), String> {
    for seq in 0.. {
        if Instant::now() >= run.deadline {
            return Ok(());
        }
        echo_once(run, conn, ws, seq).await?;
    }
    Ok(())
}

/// Sends message `seq` and checks its echo.
async fn echo_once(
    run: &Run,
    conn: usize,
    ws: &mut WebSocketStream<TcpStream>,
    seq: u64,
) -> Result<(), String> {
    let shard = &run.latency[conn % SHARDS];
    let sent = message(conn, seq, run.opts.size);
    let t0 = Instant::now();
    let got = goro::time::timeout(run.opts.timeout, async {
        ws.send(sent.clone())
            .await
            .map_err(|e| format!("send: {e}"))?;
        loop {
            match ws.next().await {
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => return Ok(m),
                Some(Ok(Message::Close(f))) => return Err(closed_by_server(f)),
                Some(Ok(_)) => {} // ping or pong
                Some(Err(e)) => return Err(format!("receive: {e}")),
                None => return Err("the server closed the connection".to_owned()),
            }
        }
    })
    .await
    .map_err(|_| format!("no echo within {:?}", run.opts.timeout))??;
    let took = t0.elapsed();
    if let Some(diff) = difference(&sent, &got) {
        let n = run.totals.mismatches.fetch_add(1, Relaxed);
        if n < MISMATCHES_SHOWN {
            eprintln!("\nws_load: MISMATCH on connection {conn}, message {seq}: {diff}");
        }
        return Err(format!("echo mismatch on message {seq}: {diff}"));
    }
    let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1);
    shard
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .saturating_record(nanos);
    run.totals.round_trips.fetch_add(1, Relaxed);
    Ok(())
}

fn closed_by_server(f: Option<CloseFrame>) -> String {
    match f {
        Some(f) => format!(
            "the server closed the connection: {} {}",
            u16::from(f.code),
            f.reason
        ),
        None => "the server closed the connection".to_owned(),
    }
}

/// Idle mode: one echo, then silence but for a ping every [`PING_EVERY`]
/// until the hold is over, then one more echo.
async fn hold_idle(
    run: &Run,
    conn: usize,
    ws: &mut WebSocketStream<TcpStream>,
) -> Result<(), String> {
    echo_once(run, conn, ws, 0).await?;
    // The first ping at an offset of the connection's own, so that the
    // pings spread over the period.
    let offset = PING_EVERY.mul_f64((conn % 1000) as f64 / 1000.0);
    let mut next_ping = Instant::now() + offset + Duration::from_millis(1);
    loop {
        let wait = next_ping.saturating_duration_since(Instant::now());
        let woke = goro::time::timeout(
            wait,
            futures_lite::future::or(
                async {
                    run.release.cancelled().await;
                    None
                },
                async { Some(ws.next().await) },
            ),
        )
        .await;
        match woke {
            Err(_) => {
                goro::time::timeout(run.opts.timeout, ws.send(Message::Ping(Vec::new().into())))
                    .await
                    .map_err(|_| "ping: timed out".to_owned())?
                    .map_err(|e| format!("ping: {e}"))?;
                run.totals.pings.fetch_add(1, Relaxed);
                next_ping += PING_EVERY;
            }
            Ok(None) => break,
            Ok(Some(Some(Ok(Message::Close(f))))) => {
                return Err(format!("while idle: {}", closed_by_server(f)));
            }
            Ok(Some(Some(Ok(Message::Text(_) | Message::Binary(_))))) => {
                return Err("while idle: a message nobody asked for".to_owned());
            }
            Ok(Some(Some(Ok(_)))) => {} // pong
            Ok(Some(Some(Err(e)))) => return Err(format!("while idle: {e}")),
            Ok(Some(None)) => return Err("while idle: the server closed the connection".to_owned()),
        }
    }
    echo_once(run, conn, ws, 1).await?;
    run.totals.end_echoes.fetch_add(1, Relaxed);
    Ok(())
}

/// A TCP connection to the server, from the connection's source address
/// when sources are in use.
async fn open_stream(run: &Run, conn: usize) -> io::Result<TcpStream> {
    let Some(dest) = run.dest.filter(|_| !run.sources.is_empty()) else {
        return TcpStream::connect((run.host.as_str(), run.port)).await;
    };
    use socket2::{Domain, Protocol, SockRef, Socket, Type};
    let source = run.sources[conn % run.sources.len()];
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SocketAddr::from((source, 0)).into())?;
    socket.set_nonblocking(true)?;
    match socket.connect(&dest.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let stream = TcpStream::from_std(socket.into())?;
    stream.writable().await?;
    if let Some(e) = SockRef::from(&stream).take_error()? {
        return Err(e);
    }
    Ok(stream)
}

/// The source addresses: 127.1.0.1, 127.1.0.2, ... 127.1.0.250, 127.1.1.1, ...
fn source_addresses(k: usize) -> Vec<Ipv4Addr> {
    (0..k)
        .map(|i| Ipv4Addr::new(127, 1, (i / 250) as u8, (1 + i % 250) as u8))
        .collect()
}

/// The server's address when it is on 127.0.0.0/8.
fn run_host_loopback(host: &str, port: u16) -> Option<SocketAddr> {
    let ip: Ipv4Addr = host.parse().ok()?;
    ip.is_loopback()
        .then(|| SocketAddr::from((IpAddr::V4(ip), port)))
}

/// A latency in µs below a millisecond, in ms above.
fn fmt_latency(nanos: u64) -> String {
    if nanos < 1_000_000 {
        format!("{:.1} µs", nanos as f64 / 1e3)
    } else {
        format!("{:.2} ms", nanos as f64 / 1e6)
    }
}

#[goro::main]
async fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprint!("ws_load: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (host, port) = match target(&opts.url) {
        Ok(t) => t,
        Err(msg) => {
            eprintln!("ws_load: {msg}");
            return ExitCode::from(2);
        }
    };
    #[cfg(unix)]
    match goro::net::raise_fd_limit() {
        Ok(limit) if (limit as usize) < opts.connections + 64 => eprintln!(
            "ws_load: the open-file limit is {limit}: connections past about {} will fail",
            limit.saturating_sub(64)
        ),
        Ok(_) => {}
        Err(e) => eprintln!("ws_load: cannot raise the open-file limit: {e}"),
    }
    let latency = (0..SHARDS)
        .map(|_| {
            // 1 ns to 100 s at 3 significant digits.
            Histogram::new_with_bounds(1, 100_000_000_000, 3)
                .map(Mutex::new)
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>();
    let latency = match latency {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ws_load: cannot make the latency histogram: {e}");
            return ExitCode::FAILURE;
        }
    };
    let loopback = run_host_loopback(&host, port);
    let sources = match (opts.sources, loopback) {
        (Some(0), _) => 0,
        (Some(_), None) => {
            eprintln!("ws_load: --sources needs a server on 127.0.0.0/8, not {host:?}");
            return ExitCode::from(2);
        }
        (Some(k), Some(_)) => k,
        (None, Some(_)) => {
            opts.connections.div_ceil(PER_SOURCE).max(1)
                * usize::from(opts.connections > PER_SOURCE)
        }
        (None, None) => 0,
    };
    let idle = opts.hold;
    let start = Instant::now();
    let run = Arc::new(Run {
        dest: loopback,
        sources: source_addresses(sources),
        release: CancelToken::new(),
        host,
        port,
        start,
        deadline: start + opts.duration,
        totals: Totals::default(),
        latency,
        first_error: Mutex::new(None),
        handshakes: Semaphore::new(opts.connect_concurrency),
        opts,
    });
    let o = &run.opts;
    match o.hold {
        Some(hold) => println!(
            "ws_load: idle mode: {} connections to {}, one echo each, held {hold:?} once all are \
             open, a ping every {PING_EVERY:?}, one echo each at the end",
            o.connections, o.url
        ),
        None => println!(
            "ws_load: {} connections to {}, {}-byte messages, {:?}",
            o.connections, o.url, o.size, o.duration
        ),
    }

    let bar = ProgressBar::with_draw_target(
        Some(o.duration.as_millis() as u64),
        ProgressDrawTarget::stderr_with_hz(5),
    );
    bar.set_style(
        ProgressStyle::with_template("{elapsed:>4} [{bar:24}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );

    // Open the connections in steps of 10 ms, `connect_rate / 100` at a
    // time (at least one): a bounded rate that does not overflow the
    // server's listen backlog.
    let launcher = goro::go({
        let run = run.clone();
        async move {
            let per_step = (run.opts.connect_rate as usize).div_ceil(100).max(1);
            let mut step = goro::time::interval(Duration::from_millis(10));
            let mut tasks = Vec::with_capacity(run.opts.connections);
            let mut conn = 0;
            // Connections not started by the deadline would send nothing.
            let idle = run.opts.hold.is_some();
            while conn < run.opts.connections && (idle || Instant::now() < run.deadline) {
                step.tick().await;
                for _ in 0..per_step.min(run.opts.connections - conn) {
                    tasks.push(goro::go(connection(run.clone(), conn)));
                    conn += 1;
                }
            }
            for t in tasks {
                let _ = t.await;
            }
        }
    });

    // Idle mode: once every connection is open (or failed), hold them.
    let holder = idle.map(|hold| {
        let run = run.clone();
        goro::go(async move {
            let n = run.opts.connections as u64;
            let t = &run.totals;
            while t.connected.load(Relaxed) + t.failed.load(Relaxed) < n {
                goro::time::sleep(Duration::from_millis(20)).await;
            }
            let took = run.start.elapsed();
            goro::time::sleep(hold).await;
            run.release.cancel();
            took
        })
    });
    let mut tick = goro::time::interval(Duration::from_millis(200));
    let mut last = (Instant::now(), 0u64);
    let mut rate = 0.0;
    while !launcher.is_finished() {
        tick.tick().await;
        let t = &run.totals;
        let now = Instant::now();
        let rts = t.round_trips.load(Relaxed);
        let dt = now.duration_since(last.0).as_secs_f64();
        if dt >= 1.0 {
            rate = (rts - last.1) as f64 / dt;
            last = (now, rts);
        }
        bar.set_position((now - run.start).as_millis().min(u128::from(u64::MAX)) as u64);
        bar.set_message(format!(
            "{} connected, {} failed | {} round trips | {}/s | {} mismatches",
            t.connected.load(Relaxed),
            t.failed.load(Relaxed),
            HumanCount(rts),
            HumanCount(rate as u64),
            t.mismatches.load(Relaxed),
        ));
    }
    let _ = launcher.await;
    bar.finish_and_clear();

    let t = &run.totals;
    let elapsed = run.start.elapsed();
    let mut all = Histogram::<u64>::new_with_bounds(1, 100_000_000_000, 3);
    if let Ok(all) = all.as_mut() {
        for shard in &run.latency {
            let _ = all.add(&*shard.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }
    let connected = t.connected.load(Relaxed);
    let failed = t.failed.load(Relaxed);
    let rts = t.round_trips.load(Relaxed);
    let mismatches = t.mismatches.load(Relaxed);
    println!(
        "connections: {connected} made, {failed} failed, {} broke while running, {} closed cleanly (1000)",
        t.broken.load(Relaxed),
        t.closed_cleanly.load(Relaxed)
    );
    let not_started = run.opts.connections as u64 - t.started.load(Relaxed);
    if not_started > 0 {
        println!(
            "             {not_started} not started: the duration ended first (raise --connect-rate or --duration)"
        );
    }
    println!(
        "round trips: {} in {:.2?} = {}/s ({}-byte messages, every echo checked)",
        HumanCount(rts),
        elapsed,
        HumanCount((rts as f64 / elapsed.as_secs_f64()) as u64),
        run.opts.size
    );
    match &all {
        Ok(all) if !all.is_empty() => println!(
            "latency:     p50 {}  p90 {}  p99 {}  max {}",
            fmt_latency(all.value_at_quantile(0.50)),
            fmt_latency(all.value_at_quantile(0.90)),
            fmt_latency(all.value_at_quantile(0.99)),
            fmt_latency(all.max()),
        ),
        _ => println!("latency:     no round trips"),
    }
    if let Some(e) = run
        .first_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        println!("first error: {e}");
    }
    if let Some(holder) = holder {
        let took = holder.await.unwrap_or_default();
        let end = t.end_echoes.load(Relaxed);
        println!(
            "idle:        {connected} open in {took:.2?} ({}/s), {} source addresses, held {:?}, {} pings; \
             {end} of {connected} echoed at the end",
            HumanCount((connected as f64 / took.as_secs_f64().max(1e-9)) as u64),
            run.sources.len(),
            run.opts.hold.unwrap_or_default(),
            HumanCount(t.pings.load(Relaxed)),
        );
        if failed > 0 || end != connected {
            println!(
                "FAILED: {failed} connections failed, {} did not echo at the end",
                connected - end
            );
            return ExitCode::FAILURE;
        }
    }
    if mismatches > 0 {
        println!("FAILED: {mismatches} echoes did not match what was sent");
        return ExitCode::FAILURE;
    }
    if connected == 0 {
        println!("FAILED: no connection could be made");
        return ExitCode::FAILURE;
    }
    println!("mismatches:  0");
    ExitCode::SUCCESS
}
