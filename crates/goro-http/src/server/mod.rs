//! `serve`: an HTTP/1.1 and HTTP/2 server on goro, Go's `http.Server`.
//!
//! One goro task per connection, `TCP_NODELAY` on, hyper-util's auto
//! builder (HTTP/1.1 with keep-alive and upgrades, HTTP/2 with prior
//! knowledge; over TLS, the protocol ALPN picked), a header read timeout
//! (one timer per connection, see `watchdog`), a connection limit,
//! back-off on accept errors, and graceful shutdown.

mod backoff;
mod conn;
mod reject;
mod shutdown;
mod watchdog;

use std::future::Future;
use std::io;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use goro_reactor::net::TcpListener;
use hyper_util::server::conn::auto;

use crate::rt::{GoroExecutor, GoroTimer, spawn_at};
use crate::service::IntoHttpService;
use backoff::Backoff;
use shutdown::Tracker;

/// The client's address, on each request when
/// [`Server::remote_addr`] is on.
///
/// # Examples
///
/// ```
/// use axum::{Extension, Router, routing::get};
/// use goro::http::RemoteAddr;
///
/// let app: Router = Router::new().route(
///     "/whoami",
///     get(|Extension(RemoteAddr(addr)): Extension<RemoteAddr>| async move { addr.to_string() }),
/// );
/// # drop(app);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub std::net::SocketAddr);

/// What the server does with a connection past [`Server::max_connections`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverLimit {
    /// Answer `503 Service Unavailable` with `Retry-After: 1`, then close.
    #[default]
    Respond503,
    /// Close the connection at once.
    Close,
}

/// Which HTTP versions a plain-text connection may speak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocols {
    /// HTTP/1.1, and HTTP/2 with prior knowledge (h2c), told apart by the
    /// connection preface.
    #[default]
    Auto,
    /// HTTP/1.x only.
    Http1,
    /// HTTP/2 only (gRPC).
    Http2,
}

type ShutdownSignal = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Builds and runs a server: Go's `http.Server`.
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use hyper::{Request, Response, body::Incoming, service::service_fn};
///
/// goro::block_on(async {
///     let listener = goro::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let hello = service_fn(|_: Request<Incoming>| async {
///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("Hello, World!"))))
///     });
///     // Stops at once: nothing to serve in this example.
///     goro::http::Server::new()
///         .header_read_timeout(Duration::from_secs(10))
///         .with_graceful_shutdown(async {})
///         .serve(listener, hello)
///         .await
///         .unwrap();
/// });
/// ```
pub struct Server {
    pub(crate) header_read_timeout: Option<Duration>,
    max_connections: Option<usize>,
    over_limit: OverLimit,
    grace: Duration,
    nodelay: bool,
    protocols: Protocols,
    pub(crate) remote_addr: bool,
    shutdown: Option<ShutdownSignal>,
    #[cfg(feature = "tls")]
    tls: Option<Arc<futures_rustls::rustls::ServerConfig>>,
    site: &'static Location<'static>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Server");
        d.field("header_read_timeout", &self.header_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("over_limit", &self.over_limit)
            .field("grace", &self.grace)
            .field("nodelay", &self.nodelay)
            .field("protocols", &self.protocols)
            .field("remote_addr", &self.remote_addr)
            .field("graceful_shutdown", &self.shutdown.is_some());
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls.is_some());
        d.finish()
    }
}

impl Server {
    /// The default connection limit, lowered to fit the open-file limit.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

    /// A server with the defaults: a 30 s header read timeout, at most
    /// 10,000 connections (fewer if the open-file limit is lower) with
    /// `503` past that, a 10 s grace period, `TCP_NODELAY`, HTTP/1.1 and
    /// HTTP/2.
    #[track_caller]
    #[allow(clippy::new_without_default)] // `Default` would lose the caller's location
    pub fn new() -> Server {
        Server {
            header_read_timeout: Some(Duration::from_secs(30)),
            max_connections: None,
            over_limit: OverLimit::default(),
            grace: Duration::from_secs(10),
            nodelay: true,
            protocols: Protocols::default(),
            remote_addr: false,
            shutdown: None,
            #[cfg(feature = "tls")]
            tls: None,
            site: Location::caller(),
        }
    }

    /// How long a client has to send a request's headers (Go's
    /// `ReadHeaderTimeout`). For a new connection it runs from the accept,
    /// across the TLS handshake, so a client that connects and sends
    /// nothing, or half a request line (slowloris), is closed once it
    /// passes. On an HTTP/1.1 keep-alive connection it runs again from the
    /// end of each response, so it is the idle timeout too (as hyper's
    /// own); a request in flight, however slow, is never cut by it.
    /// `None` turns it off. Default: 30 s, as hyper's.
    ///
    /// It costs one timer per connection, not one per request as hyper's
    /// `header_read_timeout` does.
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Server {
        self.header_read_timeout = timeout.into();
        self
    }

    /// The most connections open at once; past it, new ones get
    /// [`OverLimit`]'s treatment. Default: 10,000, or the open-file limit
    /// less 64 where that is lower.
    pub fn max_connections(mut self, n: usize) -> Server {
        self.max_connections = Some(n.max(1));
        self
    }

    /// What happens to a connection past the limit. Default: a `503`.
    pub fn over_limit(mut self, action: OverLimit) -> Server {
        self.over_limit = action;
        self
    }

    /// How long in-flight requests get to finish once shutdown starts,
    /// before their connections are closed. Default: 10 s.
    pub fn grace_period(mut self, grace: Duration) -> Server {
        self.grace = grace;
        self
    }

    /// Whether accepted sockets get `TCP_NODELAY`. Default: on, as in Go.
    pub fn nodelay(mut self, on: bool) -> Server {
        self.nodelay = on;
        self
    }

    /// Which HTTP versions plain-text connections may speak. Over TLS,
    /// ALPN decides.
    pub fn protocols(mut self, p: Protocols) -> Server {
        self.protocols = p;
        self
    }

    /// Puts the client's address on every request as a [`RemoteAddr`]
    /// extension (Go's `r.RemoteAddr`; axum's `ConnectInfo`, which needs
    /// axum's tokio feature): `Extension<RemoteAddr>` in an axum handler,
    /// `req.extensions().get::<RemoteAddr>()` elsewhere. Off by default: it
    /// costs an allocation per request.
    pub fn remote_addr(mut self, on: bool) -> Server {
        self.remote_addr = on;
        self
    }

    /// Shuts down gracefully when `signal` resolves: the listener closes at
    /// once (new connections are refused), every connection finishes the
    /// requests it has in flight and closes (HTTP/2 sends GOAWAY), and
    /// whatever is still open after the [grace period](Server::grace_period)
    /// is closed. `serve` then returns. Go's `Server.Shutdown`.
    ///
    /// Pass `token.cancelled()` of a `goro::CancelToken`, or
    /// `goro::signal::ctrl_c()`.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Server {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Serves HTTPS with `config`, negotiating `h2` or `http/1.1` by ALPN
    /// (set to both when the config names none). The TLS handshake counts
    /// against the header read timeout.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, mut config: futures_rustls::rustls::ServerConfig) -> Server {
        if config.alpn_protocols.is_empty() {
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        }
        self.tls = Some(Arc::new(config));
        self
    }

    /// Serves `listener` with `service` until the graceful-shutdown signal
    /// (if any) and the grace period are over.
    ///
    /// `service` is a tower `Service` (an axum `Router`,
    /// `tower::service_fn`) or a hyper one (`hyper::service::service_fn`),
    /// cloned for each connection.
    ///
    /// # Errors
    /// Only when the listener itself breaks (`EBADF`, `EINVAL`). Accept
    /// errors such as running out of file descriptors are logged and
    /// retried after a back-off; connection errors are logged at debug
    /// level and end only that connection.
    pub async fn serve<S, K>(self, listener: TcpListener, service: S) -> io::Result<()>
    where
        S: IntoHttpService<K>,
    {
        let service = service.into_http_service();
        let max = self.max_connections.unwrap_or_else(default_max_connections);
        let tracker = Tracker::new();
        let shared = Arc::new(conn::Shared::new(&self, GoroExecutor::at(self.site)));
        let mut shutdown = self.shutdown;
        let mut backoff = Backoff::default();
        let result = loop {
            let accepted = match shutdown.as_mut() {
                Some(signal) => {
                    match futures_lite::future::or(async { Some(listener.accept().await) }, async {
                        signal.await;
                        None
                    })
                    .await
                    {
                        Some(r) => r,
                        None => break Ok(()),
                    }
                }
                None => listener.accept().await,
            };
            match accepted {
                Ok((stream, peer)) => {
                    backoff.reset();
                    if tracker.open() >= max {
                        reject::over_limit(stream, self.over_limit, self.site);
                        continue;
                    }
                    if self.nodelay {
                        let _ = stream.set_nodelay(true);
                    }
                    let guard = tracker.track();
                    let shared = shared.clone();
                    let service = service.clone();
                    spawn_at(
                        conn::serve_stream(stream, peer, service, shared, guard),
                        self.site,
                        None,
                    );
                }
                Err(e) if backoff::is_fatal(&e) => {
                    log::error!("goro::http: the listener failed: {e}");
                    break Err(e);
                }
                Err(e) => {
                    let wait = backoff.next();
                    log::warn!("goro::http: accept failed: {e}; retrying in {wait:?}");
                    goro_reactor::time::sleep(wait).await;
                }
            }
        };
        // Stop accepting: new connections are refused from here on.
        drop(listener);
        tracker.stop();
        let grace = goro_reactor::time::sleep(self.grace);
        futures_lite::future::or(tracker.all_closed(), async {
            grace.await;
        })
        .await;
        // Connections past their grace close themselves on the same deadline;
        // wait for them to finish dropping.
        tracker.all_closed().await;
        result
    }
}

/// Serves `listener` with `service` and the [`Server`] defaults, until the
/// listener breaks: Go's `http.Serve`. Use [`Server`] for graceful
/// shutdown, TLS and limits.
///
/// # Examples
///
/// ```no_run
/// use axum::{Router, routing::get};
///
/// # goro::block_on(async {
/// let app = Router::new().route("/", get(|| async { "Hello, World!" }));
/// let listener = goro::net::TcpListener::bind("127.0.0.1:8080").await?;
/// goro::http::serve(listener, app).await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn serve<S, K>(listener: TcpListener, service: S) -> impl Future<Output = io::Result<()>>
where
    S: IntoHttpService<K>,
{
    Server::new().serve(listener, service)
}

/// 10,000, lowered to the open-file limit less 64 for the listener, the
/// runtime and the program's own files.
fn default_max_connections() -> usize {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` writes only into the struct we pass.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
            let fit = (lim.rlim_cur as usize).saturating_sub(64).max(1);
            return Server::DEFAULT_MAX_CONNECTIONS.min(fit);
        }
    }
    Server::DEFAULT_MAX_CONNECTIONS
}

/// The auto builder with goro's executor and timer, shared by connections.
/// hyper's own header read timeout is off: `watchdog` keeps it, with one
/// timer per connection instead of one per request.
pub(crate) fn auto_builder(exec: GoroExecutor) -> auto::Builder<GoroExecutor> {
    let mut b = auto::Builder::new(exec);
    b.http1()
        .timer(GoroTimer)
        .keep_alive(true)
        .header_read_timeout(None);
    b.http2().timer(GoroTimer);
    b
}
