//! `http_app`: a small real service on an axum `Router`, served by goro.
//!
//! ```text
//! cargo run --release --example http_app -- --addr 127.0.0.1:8080
//! curl -s -X POST -H 'content-type: application/json' -d '{"name":"gopher","qty":3}' http://127.0.0.1:8080/items
//! curl -s http://127.0.0.1:8080/items/1
//! curl -sN http://127.0.0.1:8080/stream?n=5
//! python3 -m websockets ws://127.0.0.1:8080/ws
//! ```
//!
//! - `GET /items`, `POST /items`, `GET /items/{id}`, `DELETE /items/{id}`:
//!   a JSON API over an in-memory store behind a `goro::sync::RwLock`.
//! - `GET /stream?n=N`: a streaming response, one line every 10 ms.
//! - `GET /slow?ms=N`: waits, so the request timeout (`--request-timeout`,
//!   goro's `TimeoutLayer`) can answer `408`.
//! - `GET /ws`: a WebSocket echo route (`goro::http::ws`; axum's
//!   `WebSocketUpgrade` would call `tokio::spawn`).
//! - Ctrl-C or SIGTERM: graceful shutdown; in-flight requests get
//!   `--grace` to finish.

#[path = "common/stop.rs"]
mod stop;
#[path = "common/units.rs"]
mod units;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use goro::stream::StreamExt;
use goro::sync::RwLock;
use serde::{Deserialize, Serialize};

const USAGE: &str = "\
usage: http_app [OPTIONS]

  --addr HOST:PORT         where to listen (default 127.0.0.1:8080)
  --request-timeout DUR    answer 408 to requests slower than this (default 10s)
  --grace DUR              on Ctrl-C/SIGTERM, how long in-flight requests get (default 10s)
  -h, --help               this text
";

struct Options {
    addr: String,
    request_timeout: Duration,
    grace: Duration,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        addr: "127.0.0.1:8080".into(),
        request_timeout: Duration::from_secs(10),
        grace: Duration::from_secs(10),
    };
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        let duration = |flag: &str, v: String| units::flag_duration(flag, &v);
        match arg.as_str() {
            "--addr" => o.addr = value("--addr")?,
            "--request-timeout" => {
                o.request_timeout = duration("--request-timeout", value("--request-timeout")?)?
            }
            "--grace" => o.grace = duration("--grace", value("--grace")?)?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(o))
}

/// An item of the store.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Item {
    #[serde(default)]
    id: u64,
    name: String,
    qty: u32,
}

/// The service's state: the store and the next id.
#[derive(Default)]
struct Store {
    items: RwLock<BTreeMap<u64, Item>>,
    next_id: AtomicU64,
}

type AppState = Arc<Store>;

async fn list(State(s): State<AppState>) -> Json<Vec<Item>> {
    Json(s.items.read().await.values().cloned().collect())
}

async fn create(State(s): State<AppState>, Json(mut item): Json<Item>) -> impl IntoResponse {
    item.id = s.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    s.items.write().await.insert(item.id, item.clone());
    (StatusCode::CREATED, Json(item))
}

async fn fetch(State(s): State<AppState>, Path(id): Path<u64>) -> Response {
    match s.items.read().await.get(&id) {
        Some(item) => Json(item.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no item {id}\n")).into_response(),
    }
}

async fn remove(State(s): State<AppState>, Path(id): Path<u64>) -> StatusCode {
    match s.items.write().await.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

#[derive(Deserialize)]
struct Count {
    n: Option<u32>,
}

/// `n` lines, one every 10 ms, sent as they are made.
async fn stream(Query(c): Query<Count>) -> Body {
    let n = c.n.unwrap_or(5).min(10_000);
    let lines = goro::stream::unfold(0u32, move |i| async move {
        if i >= n {
            return None;
        }
        if i > 0 {
            goro::time::sleep(Duration::from_millis(10)).await;
        }
        Some((Ok::<_, std::io::Error>(format!("line {i}\n")), i + 1))
    });
    Body::from_stream(lines)
}

#[derive(Deserialize)]
struct Wait {
    ms: Option<u64>,
}

async fn slow(Query(w): Query<Wait>) -> String {
    let ms = w.ms.unwrap_or(1000);
    goro::time::sleep(Duration::from_millis(ms)).await;
    format!("waited {ms} ms\n")
}

/// Echoes text and binary messages until the client closes.
async fn ws(mut req: Request) -> Response {
    match goro::http::ws::upgrade::<_, Body>(&mut req, None) {
        Ok((response, pending)) => {
            pending.on_upgrade(|mut ws| async move {
                while let Some(Ok(msg)) = ws.next().await {
                    if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                        break;
                    }
                }
            });
            response
        }
        Err(e) => e.into_response(),
    }
}

fn app(request_timeout: Duration) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { "goro http_app: /items /stream /slow /ws\n" }),
        )
        .route("/items", get(list).post(create))
        .route("/items/{id}", get(fetch).delete(remove))
        .route("/stream", get(stream))
        .route("/slow", get(slow))
        .layer(goro::http::TimeoutLayer::new(request_timeout))
        // The WebSocket route lives as long as the client: no timeout.
        .route("/ws", get(ws))
        .with_state(AppState::default())
}

#[goro::main]
async fn main() -> ExitCode {
    let o = match parse_args(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("http_app: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match goro::net::TcpListener::bind(o.addr.as_str()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("http_app: cannot listen on --addr {}: {e}", o.addr);
            return ExitCode::FAILURE;
        }
    };
    let local = listener
        .local_addr()
        .expect("a bound listener has an address");
    eprintln!("http_app: listening on http://{local}/ (Ctrl-C to stop)");
    let served = goro::http::Server::new()
        .grace_period(o.grace)
        .with_graceful_shutdown(stop::stop_signal("http_app"))
        .serve(listener, app(o.request_timeout))
        .await;
    match served {
        Ok(()) => {
            eprintln!("http_app: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("http_app: {e}");
            ExitCode::FAILURE
        }
    }
}
