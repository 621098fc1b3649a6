//! `goro::http::serve` under real clients nobody here wrote (curl, wrk,
//! h2load, Python's `websockets`) and misbehaving ones (slowloris,
//! malformed requests, a body cut short, more connections than the limit,
//! 10,000 keep-alive connections), plus graceful shutdown and the check
//! that no tokio runtime thread exists.
//!
//! Third-party tools come from apt (`curl`, `wrk`, `nghttp2-client`);
//! without one a test skips loudly, and fails under `GORO_TEST_STRICT=1`.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use goro::CancelToken;
use goro::http::bytes::Bytes;
use goro::http::http::{Request, Response};
use goro::http::http_body_util::{BodyExt, Full};
use goro::http::hyper::body::Incoming;
use goro::http::hyper::service::service_fn;
use goro::http::{OverLimit, Server};
use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::net::{TcpListener, TcpStream};
use goro::time::timeout;
use goro_testkit::example::Example;

/// How long one step may take before it counts as hung: generous, for a
/// loaded machine and valgrind.
const STEP: Duration = Duration::from_secs(20);

/// A server running in this process until `stop` is cancelled.
struct Running {
    addr: SocketAddr,
    stop: CancelToken,
    done: goro::JoinHandle<io::Result<()>>,
}

impl Running {
    async fn shutdown(self) -> Duration {
        let t = Instant::now();
        self.stop.cancel();
        timeout(STEP, self.done)
            .await
            .expect("serve returns after shutdown")
            .expect("the serve task")
            .expect("serve's result");
        t.elapsed()
    }
}

/// Answers `/` with `ok`, `/sleep/MS` after MS milliseconds, and `/echo`
/// with the request body (and counts bodies that broke off).
fn app(broken_bodies: Arc<AtomicUsize>) -> impl goro::http::IntoHttpService<goro::http::Hyper> {
    service_fn(move |req: Request<Incoming>| {
        let broken = broken_bodies.clone();
        async move {
            let path = req.uri().path().to_owned();
            let body = if let Some(ms) = path.strip_prefix("/sleep/") {
                let ms: u64 = ms.parse().unwrap_or(0);
                goro::time::sleep(Duration::from_millis(ms)).await;
                Bytes::from(format!("slept {ms}"))
            } else if path == "/echo" {
                match req.into_body().collect().await {
                    Ok(b) => b.to_bytes(),
                    Err(_) => {
                        broken.fetch_add(1, SeqCst);
                        Bytes::new()
                    }
                }
            } else {
                Bytes::from_static(b"ok")
            };
            Ok::<_, Infallible>(Response::new(Full::new(body)))
        }
    })
}

async fn start(server: Server) -> (Running, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let stop = CancelToken::new();
    let broken = Arc::new(AtomicUsize::new(0));
    let server = server.with_graceful_shutdown(stop.cancelled());
    let done = goro::go(server.serve(listener, app(broken.clone())));
    (Running { addr, stop, done }, broken)
}

/// Sends raw bytes and reads until the server closes (or STEP passes).
async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let _ = timeout(STEP, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// One HTTP/1.1 request on an open connection; returns status and body.
async fn get_on(s: &mut TcpStream, path: &str) -> io::Result<(u16, String)> {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await?;
    read_response(s).await
}

/// Reads one response with a `content-length` body.
async fn read_response(s: &mut TcpStream) -> io::Result<(u16, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| io::Error::other(format!("bad status line in {head:?}")))?;
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap_or(0))
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
            return Ok((status, body));
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Waits until the server closes `s`: `Ok(elapsed)`, or `Err` if it did
/// not within `limit`.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Result<Duration, String> {
    let t = Instant::now();
    let mut sink = [0u8; 1024];
    loop {
        match timeout(limit, s.read(&mut sink)).await {
            Err(_) => return Err(format!("still open after {limit:?}")),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(t.elapsed()),
            Ok(Ok(_)) => {} // e.g. a 408 before the close
        }
    }
}

// ---------------------------------------------------------------------------
// Real clients against the examples.

#[test]
fn curl_gets_hello_over_http1_and_h2_and_the_example_stops_on_sigterm() {
    let Some(curl) = goro_testkit::tools::require_tool("curl", "curl") else {
        return;
    };
    let Some(mut hello) = Example::start("http_hello", &[]) else {
        return;
    };
    for (flag, version) in [("--http1.1", "1.1"), ("--http2-prior-knowledge", "2")] {
        let out = goro_testkit::tools::run(Command::new(&curl).args([
            "-sS",
            "-i",
            flag,
            "-w",
            "\nversion=%{http_version}",
            &hello.url("/"),
        ]));
        let lower = out.to_ascii_lowercase();
        assert!(
            lower.starts_with(&format!("http/{version} 200")),
            "{flag}: {out}"
        );
        assert!(
            lower.contains("content-type: text/plain\r\n"),
            "{flag}: {out}"
        );
        assert!(lower.contains("content-length: 13\r\n"), "{flag}: {out}");
        assert!(
            out.contains("\r\n\r\nHello, World!\nversion="),
            "{flag}: {out}"
        );
        assert!(
            out.ends_with(&format!("version={version}")),
            "{flag}: {out}"
        );
    }
    let status = hello.terminate(STEP).expect("http_hello exits on SIGTERM");
    assert!(status.success(), "{status}: {}", hello.stderr());
    assert!(
        hello.stderr().contains("finishing in-flight requests"),
        "{}",
        hello.stderr()
    );
}

#[test]
fn curl_drives_the_axum_app_json_api_stream_timeout_and_ws_route() {
    let Some(curl) = goro_testkit::tools::require_tool("curl", "curl") else {
        return;
    };
    let Some(app) = Example::start("http_app", &["--request-timeout", "300ms"]) else {
        return;
    };
    for flag in ["--http1.1", "--http2-prior-knowledge"] {
        let curl = |args: &[&str]| {
            goro_testkit::tools::run(
                Command::new(&curl)
                    .args(["-sS", flag, "-w", "\n%{http_code}"])
                    .args(args),
            )
        };
        let created = curl(&[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"name":"gopher","qty":3}"#,
            &app.url("/items"),
        ]);
        let (json, code) = created.rsplit_once('\n').unwrap();
        assert_eq!(code, "201", "{flag}: {created}");
        let item: serde_json::Value = serde_json::from_str(json).expect("JSON");
        assert_eq!(item["name"], "gopher", "{flag}: {json}");
        let id = item["id"].as_u64().expect("an id");
        let fetched = curl(&[&app.url(&format!("/items/{id}"))]);
        assert!(fetched.ends_with("\n200"), "{flag}: {fetched}");
        assert!(fetched.contains(r#""qty":3"#), "{flag}: {fetched}");
        let listed = curl(&[&app.url("/items")]);
        assert!(
            listed.contains(&format!(r#""id":{id}"#)),
            "{flag}: {listed}"
        );
        assert!(curl(&["-X", "DELETE", &app.url(&format!("/items/{id}"))]).ends_with("204"));
        assert!(curl(&[&app.url(&format!("/items/{id}"))]).ends_with("404"));
        let streamed = curl(&["-N", &app.url("/stream?n=4")]);
        assert_eq!(streamed, "line 0\nline 1\nline 2\nline 3\n\n200", "{flag}");
        assert!(curl(&[&app.url("/slow?ms=20")]).ends_with("waited 20 ms\n\n200"));
        assert!(
            curl(&[&app.url("/slow?ms=5000")]).ends_with("408"),
            "{flag}"
        );
        assert!(
            curl(&[&app.url("/ws")]).ends_with("400"),
            "{flag}: not an upgrade"
        );
    }
}

#[test]
fn python_websockets_client_echoes_on_the_apps_ws_route() {
    let (python, version) = match goro_testkit::tools::python_with_websockets() {
        Ok(p) => p,
        Err(why) => return goro_testkit::skip(&format!("the Python client: {why}")),
    };
    let Some(app) = Example::start("http_app", &[]) else {
        return;
    };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/http_ws_client.py");
    let url = format!("ws://{}/ws", app.addr);
    let out = goro_testkit::tools::run(Command::new(python).arg(script).arg(url));
    assert!(
        out.starts_with("ok: 5 echoes"),
        "websockets {version}: {out}"
    );
}

#[test]
fn wrk_keep_alive_load_gets_only_2xx_answers() {
    let Some(wrk) = goro_testkit::tools::require_tool("wrk", "wrk") else {
        return;
    };
    let Some(hello) = Example::start("http_hello", &[]) else {
        return;
    };
    let out =
        goro_testkit::tools::run(Command::new(wrk).args(["-t1", "-c64", "-d2s", &hello.url("/")]));
    let requests: u64 = out
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk's output:\n{out}"));
    assert!(requests > 1000, "{out}");
    assert!(!out.contains("Non-2xx or 3xx responses"), "{out}");
    assert!(!out.contains("Socket errors"), "{out}");
}

#[test]
fn h2load_runs_many_streams_over_few_connections_without_a_failure() {
    let Some(h2load) = goro_testkit::tools::require_tool("h2load", "nghttp2-client") else {
        return;
    };
    let Some(hello) = Example::start("http_hello", &[]) else {
        return;
    };
    let n = 20_000;
    let out = goro_testkit::tools::run(Command::new(h2load).args([
        "-n",
        &n.to_string(),
        "-c",
        "4",
        "-m",
        "64",
        &hello.url("/"),
    ]));
    let want = format!("{n} succeeded, 0 failed, 0 errored, 0 timeout");
    assert!(out.contains(&want), "want {want:?} in:\n{out}");
    assert!(out.contains(&format!("status codes: {n} 2xx")), "{out}");
}

// ---------------------------------------------------------------------------
// Misbehaving clients, with a healthy one served throughout.

#[goro::test]
async fn slowloris_connections_are_closed_after_the_header_read_timeout() {
    let limit = Duration::from_millis(400);
    let (server, _) = start(Server::new().header_read_timeout(limit)).await;
    // Half a request line; nothing at all; one byte that could start either
    // protocol's preface; a full request, then half of the next.
    let t0 = Instant::now();
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"GET / HT").await.unwrap();
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut p = TcpStream::connect(server.addr).await.unwrap();
    p.write_all(b"P").await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(get_on(&mut second, "/").await.unwrap(), (200, "ok".into()));
    let t1 = Instant::now();
    second.write_all(b"GET / HTTP/1.1\r\nHost:").await.unwrap();
    for (name, s, since) in [
        ("half a request line", &mut half, t0),
        ("silent", &mut silent, t0),
        ("a lone P", &mut p, t0),
        ("half of a second request", &mut second, t1),
    ] {
        closed_within(s, STEP)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let took = since.elapsed();
        // Never before the timeout: the timer is goro's, and it is wired in.
        assert!(
            took + Duration::from_millis(50) >= limit,
            "{name} closed early, after {took:?}"
        );
        // Everyone else is still served.
        let mut healthy = TcpStream::connect(server.addr).await.unwrap();
        assert_eq!(get_on(&mut healthy, "/").await.unwrap(), (200, "ok".into()));
    }
    // hyper times the wait for every request head, so an idle keep-alive
    // connection is closed after the same timeout.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(get_on(&mut idle, "/").await.unwrap(), (200, "ok".into()));
    let t2 = Instant::now();
    closed_within(&mut idle, STEP).await.unwrap();
    let took = t2.elapsed();
    assert!(
        took + Duration::from_millis(50) >= limit,
        "idle closed early, after {took:?}"
    );
    server.shutdown().await;
}

/// The header read timeout bounds only the wait for a request head: a
/// request whose handler takes several timeouts is answered, the
/// keep-alive connection then serves another, and it is closed one timeout
/// after its last response, not after its first request or its accept.
#[goro::test]
async fn a_slow_request_is_not_cut_by_the_header_read_timeout() {
    // Long enough that the idle third below leaves the client 400 ms to
    // send its request in time, even on a loaded machine.
    let limit = Duration::from_millis(600);
    let (server, _) = start(Server::new().header_read_timeout(limit)).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(get_on(&mut s, "/").await.unwrap(), (200, "ok".into()));
    // In flight for three timeouts, counted from the first request.
    assert_eq!(
        get_on(&mut s, "/sleep/1800").await.unwrap(),
        (200, "slept 1800".into())
    );
    // Idle for part of a timeout, then a request in time.
    goro::time::sleep(limit / 3).await;
    assert_eq!(get_on(&mut s, "/").await.unwrap(), (200, "ok".into()));
    let idle = Instant::now();
    let took = closed_within(&mut s, STEP).await.unwrap();
    let since_idle = idle.elapsed();
    assert!(
        since_idle + Duration::from_millis(50) >= limit,
        "closed {since_idle:?} after the last response, before the timeout"
    );
    assert!(took <= STEP, "{took:?}");
    server.shutdown().await;
}

#[goro::test]
async fn a_malformed_request_gets_400_and_others_are_still_served() {
    let (server, _) = start(Server::new()).await;
    let mut healthy = TcpStream::connect(server.addr).await.unwrap();
    for bad in [
        &b"GET / HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n"[..],
        b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    ] {
        let answer = raw_exchange(server.addr, bad).await;
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{:?} got {answer:?}",
            String::from_utf8_lossy(bad)
        );
        assert_eq!(get_on(&mut healthy, "/").await.unwrap(), (200, "ok".into()));
    }
    server.shutdown().await;
}

#[goro::test]
async fn a_client_that_disconnects_mid_body_costs_only_its_own_request() {
    let (server, broken) = start(Server::new()).await;
    let mut healthy = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..20 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            .await
            .unwrap();
        s.write_all(&[b'x'; 1000]).await.unwrap();
        drop(s);
    }
    let deadline = Instant::now() + STEP;
    while broken.load(SeqCst) < 20 && Instant::now() < deadline {
        goro::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        broken.load(SeqCst),
        20,
        "every cut body reaches the service as an error"
    );
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        .await
        .unwrap();
    assert_eq!(read_response(&mut s).await.unwrap(), (200, "hello".into()));
    assert_eq!(get_on(&mut healthy, "/").await.unwrap(), (200, "ok".into()));
    server.shutdown().await;
}

#[goro::test]
async fn past_the_connection_limit_new_clients_get_503_or_a_close() {
    for action in [OverLimit::Respond503, OverLimit::Close] {
        let (server, _) = start(Server::new().max_connections(2).over_limit(action)).await;
        let mut a = TcpStream::connect(server.addr).await.unwrap();
        let mut b = TcpStream::connect(server.addr).await.unwrap();
        assert_eq!(get_on(&mut a, "/").await.unwrap().0, 200);
        assert_eq!(get_on(&mut b, "/").await.unwrap().0, 200);
        let answer = raw_exchange(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        match action {
            OverLimit::Respond503 => {
                assert!(
                    answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
                    "{answer:?}"
                );
                assert!(answer.contains("retry-after: 1\r\n"), "{answer:?}");
            }
            _ => assert_eq!(answer, "", "closed without an answer"),
        }
        // The two admitted connections are still served, and once one
        // closes there is room again.
        assert_eq!(get_on(&mut a, "/").await.unwrap().0, 200);
        drop(b);
        let deadline = Instant::now() + STEP;
        loop {
            let mut c = TcpStream::connect(server.addr).await.unwrap();
            match get_on(&mut c, "/").await {
                Ok((200, _)) => break,
                _ if Instant::now() < deadline => {
                    goro::time::sleep(Duration::from_millis(10)).await
                }
                other => panic!("no room after a close: {other:?}"),
            }
        }
        server.shutdown().await;
    }
}

// ---------------------------------------------------------------------------
// Graceful shutdown.

#[goro::test]
async fn shutdown_refuses_new_connections_and_lets_a_slow_request_finish() {
    let (server, _) = start(Server::new().grace_period(STEP)).await;
    let addr = server.addr;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert_eq!(get_on(&mut idle, "/").await.unwrap().0, 200);
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /sleep/700 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    goro::time::sleep(Duration::from_millis(100)).await;
    let stopping = goro::go(server.shutdown());
    goro::time::sleep(Duration::from_millis(100)).await;
    // The listener is closed: a new connection is refused.
    let refused = TcpStream::connect(addr).await;
    assert_eq!(
        refused.as_ref().map_err(|e| e.kind()).err(),
        Some(io::ErrorKind::ConnectionRefused),
        "{refused:?}"
    );
    // The idle keep-alive connection is closed at once; the slow request
    // completes.
    closed_within(&mut idle, STEP).await.unwrap();
    assert_eq!(
        read_response(&mut slow).await.unwrap(),
        (200, "slept 700".into())
    );
    let took = timeout(STEP, stopping)
        .await
        .expect("serve returned")
        .unwrap();
    assert!(
        took < STEP,
        "serve waited for the whole grace period: {took:?}"
    );
}

#[goro::test]
async fn connections_still_busy_after_the_grace_period_are_closed() {
    let grace = Duration::from_millis(300);
    let (server, _) = start(Server::new().grace_period(grace)).await;
    let mut stuck = TcpStream::connect(server.addr).await.unwrap();
    stuck
        .write_all(b"GET /sleep/600000 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    goro::time::sleep(Duration::from_millis(100)).await;
    let took = server.shutdown().await;
    assert!(took >= grace, "returned before the grace period: {took:?}");
    closed_within(&mut stuck, STEP).await.unwrap();
}

// ---------------------------------------------------------------------------
// Tasks, threads and scale.

#[goro::test]
async fn connections_are_goro_tasks_and_no_tokio_thread_exists() {
    let (server, _) = start(Server::new()).await;
    let mut conns = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        assert_eq!(get_on(&mut s, "/").await.unwrap().0, 200);
        conns.push(s);
    }
    // The serve task and one task per connection record this file (where
    // the `Server` was made) as their spawn site. A task is listed once it
    // waits, so give one that was just woken a moment to wait again.
    let deadline = Instant::now() + STEP;
    loop {
        let dump = goro::dump_tasks();
        let here = dump
            .tasks()
            .filter(|t| t.location.file().ends_with("http_serve.rs"))
            .count();
        if here >= 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{here} tasks spawned from here:\n{dump}"
        );
        goro::time::sleep(Duration::from_millis(10)).await;
    }
    goro_testkit::threads::assert_no_hidden_runtime();
    drop(conns);
    server.shutdown().await;
}

/// The keep-alive connections the scale test holds.
const SCALE: usize = 10_000;

/// 10,000 keep-alive connections held at once, each answering a second
/// request on the same connection. The clients run in a child process
/// (this binary, in [`scale_client`]), since one process may hold 20,000
/// descriptors here.
#[goro::test]
async fn ten_thousand_keep_alive_connections_are_served_at_once() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` fills the struct we pass.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `setrlimit` only reads the struct.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
    let need = SCALE as u64 + 200;
    if lim.rlim_cur < need {
        return goro_testkit::skip(&format!(
            "the open-file limit is {} here, {need} are needed",
            lim.rlim_cur
        ));
    }
    let (server, _) = start(Server::new().max_connections(SCALE + 100)).await;
    let exe = std::env::current_exe().unwrap();
    let addr = server.addr.to_string();
    let out = goro::unblock(move || {
        Command::new(exe)
            .args(["--exact", "scale_client", "--nocapture", "--test-threads=1"])
            .env("GORO_HTTP_SCALE_ADDR", addr)
            .env("GORO_HTTP_SCALE_N", SCALE.to_string())
            .output()
    })
    .await
    .unwrap()
    .expect("running the scale client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    assert!(
        stdout.contains(&format!(
            "scale: {SCALE} connections open, {SCALE} second answers"
        )),
        "{stdout}\n{stderr}"
    );
    server.shutdown().await;
}

/// The client half of the scale test; does nothing unless started by it.
#[test]
fn scale_client() {
    let (Ok(addr), Ok(n)) = (
        std::env::var("GORO_HTTP_SCALE_ADDR"),
        std::env::var("GORO_HTTP_SCALE_N"),
    ) else {
        return;
    };
    let addr: SocketAddr = addr.parse().unwrap();
    let n: usize = n.parse().unwrap();
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: as above.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    goro::block_on(async move {
        let t = Instant::now();
        let (tx, rx) = goro::chan::bounded::<TcpStream>(n);
        let opened = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(goro::sync::Semaphore::new(256));
        let mut openers = Vec::new();
        for _ in 0..n {
            let (tx, opened, gate) = (tx.clone(), opened.clone(), gate.clone());
            openers.push(goro::go(async move {
                let _permit = gate.acquire().await;
                let mut s = TcpStream::connect(addr).await.expect("connect");
                let r = get_on(&mut s, "/").await.expect("first request");
                assert_eq!(r, (200, "ok".into()));
                opened.fetch_add(1, SeqCst);
                tx.send(s).await.expect("keep the connection");
            }));
        }
        for o in openers {
            o.await.expect("opener");
        }
        drop(tx);
        let mut conns = Vec::with_capacity(n);
        while let Ok(s) = rx.try_recv() {
            conns.push(s);
        }
        println!("opened {} in {:?}", conns.len(), t.elapsed());
        let mut seconds = 0;
        let mut handles = Vec::new();
        for mut s in conns {
            handles.push(goro::go(async move {
                let r = get_on(&mut s, "/").await;
                (r, s)
            }));
        }
        let mut keep = Vec::new();
        for h in handles {
            let (r, s) = h.await.expect("second request");
            if r.expect("second request on a kept-alive connection") == (200, "ok".into()) {
                seconds += 1;
            }
            keep.push(s);
        }
        println!(
            "scale: {} connections open, {seconds} second answers, in {:?}",
            opened.load(SeqCst),
            t.elapsed()
        );
    });
}

#[goro::test]
async fn remote_addr_puts_the_clients_address_on_each_request() {
    use axum::{Extension, Router, routing::get};
    use goro::http::RemoteAddr;
    let app: Router = Router::new().route(
        "/whoami",
        get(|Extension(RemoteAddr(a)): Extension<RemoteAddr>| async move { a.to_string() }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancelToken::new();
    let done = goro::go(
        Server::new()
            .remote_addr(true)
            .with_graceful_shutdown(stop.cancelled())
            .serve(listener, app),
    );
    let mut s = TcpStream::connect(addr).await.unwrap();
    let me = s.local_addr().unwrap().to_string();
    assert_eq!(get_on(&mut s, "/whoami").await.unwrap(), (200, me.clone()));
    assert_eq!(get_on(&mut s, "/whoami").await.unwrap(), (200, me));
    stop.cancel();
    timeout(STEP, done).await.unwrap().unwrap().unwrap();
}
