//! `http_hello`: TechEmpower's plaintext test on goro and hyper. `GET /`
//! (any path, in fact) answers `Hello, World!` as `text/plain`, over
//! HTTP/1.1 with keep-alive or HTTP/2 with prior knowledge. It is the
//! server of the HTTP benchmark (`benches/http.sh`).
//!
//! ```text
//! cargo run --release --example http_hello -- --addr 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/
//! curl --http2-prior-knowledge http://127.0.0.1:8080/
//! ```
//!
//! Ctrl-C or SIGTERM stops it gracefully: no new connections, in-flight
//! requests finish, then it exits.

#[path = "common/stop.rs"]
mod stop;

use std::convert::Infallible;
use std::process::ExitCode;

use goro::http::bytes::Bytes;
use goro::http::http::{HeaderValue, Response, header};
use goro::http::http_body_util::Full;
use goro::http::hyper::{Request, body::Incoming, service::service_fn};

const USAGE: &str = "\
usage: http_hello [--addr HOST:PORT]

  --addr HOST:PORT  where to listen (default 127.0.0.1:8080)
  -h, --help        this text
";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<String>, String> {
    let mut addr = "127.0.0.1:8080".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                addr = args
                    .next()
                    .ok_or("--addr needs a value, for example 127.0.0.1:8080")?
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(addr))
}

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(resp)
}

#[goro::main]
async fn main() -> ExitCode {
    let addr = match parse_args(std::env::args().skip(1)) {
        Ok(Some(addr)) => addr,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("http_hello: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match goro::net::TcpListener::bind(addr.as_str()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("http_hello: cannot listen on --addr {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener
        .local_addr()
        .expect("a bound listener has an address");
    eprintln!("http_hello: listening on http://{local}/ (Ctrl-C to stop)");
    let served = goro::http::Server::new()
        .with_graceful_shutdown(stop::stop_signal("http_hello"))
        .serve(listener, service_fn(hello))
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http_hello: {e}");
            ExitCode::FAILURE
        }
    }
}
