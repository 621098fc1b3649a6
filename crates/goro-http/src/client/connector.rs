//! The client's connector: DNS on the blocking pool, a connect with a
//! timeout, `TCP_NODELAY`, and TLS for `https`.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use goro_reactor::net::TcpStream;
use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection as HyperConnection};

use crate::io::Io;

/// Opens connections for [`Client`](super::Client); usable on its own as a
/// tower `Service<Uri>`.
#[derive(Clone, Debug)]
pub struct Connector {
    pub(super) connect_timeout: Duration,
    #[cfg(feature = "tls")]
    pub(super) tls: crate::tls::ClientTls,
}

impl Connector {
    pub(super) fn new() -> Connector {
        Connector {
            connect_timeout: Duration::from_secs(30),
            #[cfg(feature = "tls")]
            tls: crate::tls::ClientTls::default(),
        }
    }

    pub(super) fn finish(&mut self, http2_only: bool) {
        #[cfg(feature = "tls")]
        self.tls.finish(http2_only);
        #[cfg(not(feature = "tls"))]
        let _ = http2_only;
    }

    async fn connect(self, uri: Uri) -> io::Result<Connection> {
        let scheme = uri.scheme_str().unwrap_or("http");
        let https = match scheme {
            "http" => false,
            "https" => true,
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unsupported URI scheme {other:?} in {uri}"),
                ));
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("no host in URI {uri}"))
            })?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let deadline = Instant::now() + self.connect_timeout;
        let within = |what: &'static str| {
            let host = host.clone();
            move |_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{what} {host}:{port} timed out"),
                )
            }
        };
        let addrs = goro_reactor::time::timeout_at(deadline, resolve(host.clone(), port))
            .await
            .map_err(within("resolving"))??;
        let stream = goro_reactor::time::timeout_at(deadline, connect_any(&addrs))
            .await
            .map_err(within("connecting to"))?
            .map_err(|e| io::Error::new(e.kind(), format!("connecting to {host}:{port}: {e}")))?;
        let _ = stream.set_nodelay(true);
        if !https {
            return Ok(Connection::plain(stream));
        }
        #[cfg(feature = "tls")]
        {
            let tls = goro_reactor::time::timeout_at(deadline, self.tls.connect(&host, stream))
                .await
                .map_err(within("TLS handshake with"))?
                .map_err(|e| {
                    io::Error::new(e.kind(), format!("TLS handshake with {host}:{port}: {e}"))
                })?;
            Ok(Connection::tls(tls))
        }
        #[cfg(not(feature = "tls"))]
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "https needs goro's `tls` feature",
        ))
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Connection;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Connection>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(self.clone().connect(uri))
    }
}

/// A host's addresses: at once for an IP literal, else from the system
/// resolver on the blocking pool, since `getaddrinfo` blocks.
async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let lookup = goro_blocking::unblock(move || {
        (host.as_str(), port)
            .to_socket_addrs()
            .map(|a| a.collect::<Vec<_>>())
            .map_err(|e| io::Error::new(e.kind(), format!("resolving {host}: {e}")))
    });
    lookup.await.map_err(|e| io::Error::other(e.to_string()))?
}

/// Connects to the first address that answers.
async fn connect_any(addrs: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut last = None;
    for a in addrs {
        match TcpStream::connect(*a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no addresses")))
}

/// A client connection: plain TCP or TLS over it.
#[derive(Debug)]
pub struct Connection {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Plain(Io<TcpStream>),
    #[cfg(feature = "tls")]
    Tls(Box<crate::io::FuturesIo<futures_rustls::client::TlsStream<TcpStream>>>),
}

impl Connection {
    fn plain(s: TcpStream) -> Connection {
        Connection {
            kind: Kind::Plain(Io::new(s)),
        }
    }

    #[cfg(feature = "tls")]
    fn tls(s: futures_rustls::client::TlsStream<TcpStream>) -> Connection {
        Connection {
            kind: Kind::Tls(Box::new(crate::io::FuturesIo::new(s))),
        }
    }
}

impl HyperConnection for Connection {
    fn connected(&self) -> Connected {
        match &self.kind {
            Kind::Plain(_) => Connected::new(),
            #[cfg(feature = "tls")]
            Kind::Tls(s) => {
                let c = Connected::new();
                if s.get_ref().get_ref().1.alpn_protocol() == Some(b"h2") {
                    c.negotiated_h2()
                } else {
                    c
                }
            }
        }
    }
}

macro_rules! each_kind {
    ($self:ident, $s:ident => $e:expr) => {
        match &mut $self.get_mut().kind {
            Kind::Plain($s) => $e,
            #[cfg(feature = "tls")]
            Kind::Tls($s) => $e,
        }
    };
}

impl hyper::rt::Read for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        each_kind!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl hyper::rt::Write for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_kind!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_kind!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match &self.kind {
            Kind::Plain(s) => hyper::rt::Write::is_write_vectored(s),
            #[cfg(feature = "tls")]
            Kind::Tls(s) => hyper::rt::Write::is_write_vectored(&**s),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_kind!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_kind!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}
