//! One connection's task: TLS (if configured), then hyper's auto builder,
//! the header read timeout (`watchdog`), and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use goro_reactor::net::TcpStream;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::server::conn::auto;

use super::shutdown::ConnGuard;
use super::watchdog::{Finish, Progress, Respond, Watchdog};
use super::{Protocols, Server, auto_builder};
use crate::io::Io;
use crate::rt::GoroExecutor;
use crate::service::{BoxError, Hyper, IntoHttpService};

/// What every connection of one server shares.
pub(crate) struct Shared {
    auto: auto::Builder<GoroExecutor>,
    http1: auto::Builder<GoroExecutor>,
    http2: auto::Builder<GoroExecutor>,
    protocols: Protocols,
    header_read_timeout: Option<Duration>,
    grace: Duration,
    remote_addr: bool,
    #[cfg(feature = "tls")]
    tls: Option<futures_rustls::TlsAcceptor>,
}

impl Shared {
    pub(crate) fn new(server: &Server, exec: GoroExecutor) -> Shared {
        // The header read timeout is the connection's `Watchdog`, not
        // hyper's timer per request.
        let b = || auto_builder(exec.clone());
        Shared {
            auto: b(),
            http1: b().http1_only(),
            http2: b().http2_only(),
            protocols: server.protocols,
            header_read_timeout: server.header_read_timeout,
            grace: server.grace,
            remote_addr: server.remote_addr,
            #[cfg(feature = "tls")]
            tls: server.tls.clone().map(futures_rustls::TlsAcceptor::from),
        }
    }

    fn builder(&self, p: Protocols) -> &auto::Builder<GoroExecutor> {
        match p {
            Protocols::Auto => &self.auto,
            Protocols::Http1 => &self.http1,
            Protocols::Http2 => &self.http2,
        }
    }
}

/// Serves one accepted connection to its end.
///
/// `service` is already a hyper service; going through
/// [`IntoHttpService`] (the identity for one) gives it the bounds that
/// trait declares, named once there.
pub(crate) async fn serve_stream<S: IntoHttpService<Hyper>>(
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    shared: Arc<Shared>,
    guard: ConnGuard,
) {
    let service = service.into_http_service();
    // The header read timeout runs from here, across the TLS handshake.
    let accepted = Instant::now();
    #[cfg(feature = "tls")]
    if let Some(acceptor) = shared.tls.clone() {
        let handshake = acceptor.accept(stream);
        let tls = match shared.header_read_timeout.map(|d| accepted + d) {
            Some(at) => match goro_reactor::time::timeout_at(at, handshake).await {
                Ok(r) => r,
                Err(_) => {
                    log::debug!("goro::http: {peer}: TLS handshake timed out");
                    return;
                }
            },
            None => handshake.await,
        };
        let tls = match tls {
            Ok(tls) => tls,
            Err(e) => {
                log::debug!("goro::http: {peer}: TLS handshake failed: {e}");
                return;
            }
        };
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let p = if h2 {
            Protocols::Http2
        } else {
            Protocols::Http1
        };
        let io = crate::io::FuturesIo::new(tls);
        return run::<_, S>(io, peer, p, service, &shared, accepted, &guard).await;
    }
    run::<_, S>(
        Io::new(stream),
        peer,
        shared.protocols,
        service,
        &shared,
        accepted,
        &guard,
    )
    .await
}

/// Runs hyper on `io` until the connection ends, waits for a request head
/// past the header read timeout, or shutdown's grace runs out.
async fn run<I, S>(
    io: I,
    peer: SocketAddr,
    protocols: Protocols,
    service: S::Service,
    shared: &Shared,
    accepted: Instant,
    guard: &ConnGuard,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: IntoHttpService<Hyper>,
{
    let progress = shared.header_read_timeout.map(|_| Progress::new(accepted));
    let mut watchdog = shared
        .header_read_timeout
        .zip(progress.clone())
        .map(|(t, p)| Watchdog::new(p, t));
    let service = PerRequest {
        inner: service,
        progress,
        peer: shared.remote_addr.then_some(peer),
    };
    let builder = shared.builder(protocols);
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    let tracker = guard.tracker();
    let mut stop = pin!(tracker.stopped());
    let mut stop_registered = false;
    let mut grace: Option<std::pin::Pin<Box<goro_reactor::time::Sleep>>> = None;
    let outcome = std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = conn.as_mut().poll(cx) {
            return Poll::Ready(r.map_err(Ended::Error));
        }
        if let Some(w) = watchdog.as_mut() {
            if w.poll_expired(cx).is_ready() {
                return Poll::Ready(Err(Ended::HeaderTimeout));
            }
        }
        // Poll the stop listener once, to register this task's waker with
        // it; after that the flag says whether it fired (the task's waker
        // does not change), which spares an event-listener poll per wake.
        let stopping = if stop_registered {
            tracker.is_stopping()
        } else {
            stop_registered = true;
            stop.as_mut().poll(cx).is_ready()
        };
        if grace.is_none() && stopping {
            conn.as_mut().graceful_shutdown();
            grace = Some(Box::pin(goro_reactor::time::sleep(shared.grace)));
            // Let hyper act on the shutdown (an idle connection closes now).
            if let Poll::Ready(r) = conn.as_mut().poll(cx) {
                return Poll::Ready(r.map_err(Ended::Error));
            }
        }
        if let Some(g) = grace.as_mut() {
            if g.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Ended::GraceOver));
            }
        }
        Poll::Pending
    })
    .await;
    match outcome {
        Ok(()) => {}
        Err(Ended::Error(e)) => log::debug!("goro::http: {peer}: connection error: {e}"),
        Err(Ended::HeaderTimeout) => {
            log::debug!("goro::http: {peer}: no request headers before the header read timeout")
        }
        Err(Ended::GraceOver) => {
            log::info!("goro::http: {peer}: closed at the end of the shutdown grace period")
        }
    }
}

enum Ended {
    Error(BoxError),
    HeaderTimeout,
    GraceOver,
}

/// The user's service, counting each request's head and response for the
/// header read timeout (when there is one), and giving each request the
/// client's address if asked to.
#[derive(Clone)]
struct PerRequest<S> {
    inner: S,
    progress: Option<Arc<Progress>>,
    peer: Option<SocketAddr>,
}

impl<S, B> Service<hyper::Request<Incoming>> for PerRequest<S>
where
    S: Service<hyper::Request<Incoming>, Response = hyper::Response<B>>,
{
    type Response = hyper::Response<Finish<B>>;
    type Error = S::Error;
    type Future = Respond<S::Future>;

    fn call(&self, mut req: hyper::Request<Incoming>) -> Self::Future {
        let mark = self.progress.as_ref().map(|p| p.begin(req.version()));
        if let Some(peer) = self.peer {
            req.extensions_mut().insert(crate::RemoteAddr(peer));
        }
        Respond::new(self.inner.call(req), mark)
    }
}
