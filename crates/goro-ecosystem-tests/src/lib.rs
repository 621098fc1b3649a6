//! Checks of what `docs/tokio-crates.md` says about crates that do not run
//! natively on goro: the async `reqwest::Client`, `reqwest::blocking` and
//! sqlx. The checks are this package's tests (`tests/`). They live apart
//! from the `goro` package so that these crates, and the tokio runtime,
//! smol executor and async-io reactor they bring, never enter goro's own
//! dependency graph (see `Cargo.toml`).
//!
//! The library holds only what two test files share: [`HelloServer`], a
//! `goro::http` server for reqwest to call, and [`new_threads`].

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use goro::CancelToken;
use goro::http::Server;
use goro::http::bytes::Bytes;
use goro::http::http::{Request, Response};
use goro::http::http_body_util::Full;
use goro::http::hyper::body::Incoming;
use goro::http::hyper::service::service_fn;
use goro::net::TcpListener;

/// A `goro::http` server on 127.0.0.1 that answers every request with
/// `hello from goro: PATH` and counts the requests it got.
#[derive(Debug)]
pub struct HelloServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    stop: CancelToken,
    done: goro::JoinHandle<io::Result<()>>,
}

impl HelloServer {
    /// Binds 127.0.0.1 on a free port and serves from a goro task. Call it
    /// inside a goro runtime.
    ///
    /// # Panics
    /// If it cannot bind.
    pub async fn start() -> HelloServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let app = service_fn(move |req: Request<Incoming>| {
            count.fetch_add(1, SeqCst);
            let body = format!("hello from goro: {}", req.uri().path());
            async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body)))) }
        });
        let stop = CancelToken::new();
        let server = Server::new().with_graceful_shutdown(stop.cancelled());
        let done = goro::go(server.serve(listener, app));
        HelloServer {
            addr,
            requests,
            stop,
            done,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests it has answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(SeqCst)
    }

    /// Stops serving and waits until the server task has returned.
    ///
    /// # Panics
    /// If serving failed.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.done
            .await
            .expect("the server task")
            .expect("serve's result");
    }
}

/// The threads of this process (their `/proc/self/task/*/comm` names, cut
/// to 15 bytes by Linux) that did not exist in `before` and are not goro's
/// (named `goro-*`), sorted.
///
/// Compare to a [`goro_testkit::threads::thread_names`] taken earlier in a
/// test binary with a single test, so that no other test starts threads
/// meanwhile.
pub fn new_threads(before: &[String]) -> Vec<String> {
    let mut old = before.to_vec();
    let mut new = Vec::new();
    for name in goro_testkit::threads::thread_names() {
        if let Some(i) = old.iter().position(|o| *o == name) {
            old.swap_remove(i);
        } else if !name.starts_with("goro-") {
            new.push(name);
        }
    }
    new.sort();
    new
}
