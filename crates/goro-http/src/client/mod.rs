//! An HTTP client, Go's `http.Client`: hyper-util's pooled client with a
//! goro connector. Connections are kept alive and reused per host, HTTP/2
//! is used when the server offers it by ALPN (or always, with
//! [`ClientBuilder::http2_only`]), host names resolve on the blocking pool,
//! and connecting has a timeout.

mod connector;

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy;

pub use connector::{Connection, Connector};

use crate::rt::{GoroExecutor, GoroTimer};
use crate::service::BoxError;

/// The error of a request: connecting, or the exchange itself. `Display`
/// says which; `std::error::Error::source` has the cause (an
/// [`std::io::Error`] for connect failures and timeouts).
pub type Error = legacy::Error;

/// A pooled HTTP/1.1 and HTTP/2 client; cheap to clone (clones share the
/// pool).
///
/// Requests take any body `B`; the default, `Full<Bytes>`, suits most
/// calls. For another body type name it when building:
/// `Client::builder().http2_only(true).build::<tonic::body::Body>()` makes
/// a tonic transport (`tonic::client::Grpc::with_origin(client, origin)`).
/// Inside a goro runtime only: its connections are goro tasks.
///
/// A refused connection reaches tonic as `Code::Unknown` with the cause in
/// its error chain, not `Unavailable` as tonic's own transport reports it.
///
/// # Examples
///
/// ```no_run
/// use http_body_util::BodyExt;
///
/// # goro::block_on(async {
/// let client = goro::http::Client::new();
/// let resp = client.get("http://127.0.0.1:8080/".parse().unwrap()).await?;
/// assert!(resp.status().is_success());
/// let body = resp.into_body().collect().await?.to_bytes();
/// println!("{}", String::from_utf8_lossy(&body));
/// # Ok::<_, goro::http::BoxError>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Client<B = Full<Bytes>> {
    inner: legacy::Client<Connector, B>,
}

impl<B> Clone for Client<B> {
    fn clone(&self) -> Self {
        Client {
            inner: self.inner.clone(),
        }
    }
}

impl Client {
    /// A client with the defaults: see [`ClientBuilder`].
    #[track_caller]
    #[allow(clippy::new_without_default)] // `Default` would lose the caller's location
    pub fn new() -> Client {
        ClientBuilder::new().build()
    }

    /// Configures a client.
    #[track_caller]
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }
}

impl<B> Client<B>
where
    B: http_body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Sends `req` and waits for the response head; the body streams from
    /// the returned response. The URI must be absolute (`http://` or
    /// `https://`).
    ///
    /// # Errors
    /// When connecting fails or times out, or the exchange breaks.
    pub async fn request(&self, req: Request<B>) -> Result<Response<Incoming>, Error> {
        self.inner.request(req).await
    }

    /// Sends a `GET` for `uri`.
    ///
    /// # Errors
    /// As [`Client::request`].
    pub async fn get(&self, uri: Uri) -> Result<Response<Incoming>, Error>
    where
        B: Default,
    {
        self.inner.get(uri).await
    }
}

impl<B> tower_service::Service<Request<B>> for Client<B>
where
    B: http_body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Incoming>;
    type Error = Error;
    type Future = legacy::ResponseFuture;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        tower_service::Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        tower_service::Service::call(&mut self.inner, req)
    }
}

/// Configures a [`Client`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let client: goro::http::Client = goro::http::Client::builder()
///     .connect_timeout(Duration::from_secs(2))
///     .pool_idle_timeout(Duration::from_secs(30))
///     .build();
/// # drop(client);
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    connector: Connector,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    http2_only: bool,
    exec: GoroExecutor,
}

impl ClientBuilder {
    #[track_caller]
    fn new() -> ClientBuilder {
        ClientBuilder {
            connector: Connector::new(),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: usize::MAX,
            http2_only: false,
            exec: GoroExecutor::new(),
        }
    }

    /// How long connecting to one host may take, DNS included. Default:
    /// 30 s, as Go's `net.Dialer` in `http.DefaultTransport`.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connector.connect_timeout = timeout;
        self
    }

    /// How long an idle pooled connection is kept. Default: 90 s, as Go's
    /// `IdleConnTimeout`. `None` keeps them until the server closes them.
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> ClientBuilder {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// The most idle connections kept per host. Default: no limit.
    pub fn pool_max_idle_per_host(mut self, n: usize) -> ClientBuilder {
        self.pool_max_idle_per_host = n;
        self
    }

    /// Speak HTTP/2 on every connection, also without TLS (h2c with prior
    /// knowledge): what gRPC needs. Default: HTTP/1.1, or HTTP/2 where
    /// TLS's ALPN picks it.
    pub fn http2_only(mut self, yes: bool) -> ClientBuilder {
        self.http2_only = yes;
        self
    }

    /// Trusts `ca` (DER) in addition to the default roots, for servers
    /// with a private certificate authority.
    #[cfg(feature = "tls")]
    pub fn add_root_certificate(
        mut self,
        ca: rustls_pki_types::CertificateDer<'static>,
    ) -> Result<ClientBuilder, futures_rustls::rustls::Error> {
        self.connector.tls.roots.add(ca)?;
        Ok(self)
    }

    /// Which roots verify servers: webpki's bundled Mozilla roots (the
    /// default) or the operating system's store.
    #[cfg(feature = "tls")]
    pub fn tls_roots(mut self, roots: crate::tls::Roots) -> ClientBuilder {
        self.connector.tls.source = roots;
        self
    }

    /// Uses `config` as it is for HTTPS, instead of building one from the
    /// roots: for client certificates or other rustls settings. Its ALPN
    /// list is set to `h2`, `http/1.1` if empty.
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: futures_rustls::rustls::ClientConfig) -> ClientBuilder {
        self.connector.tls.config = Some(config);
        self
    }

    /// Builds the client.
    ///
    /// # Panics
    /// With the `tls` feature, if the operating system's root store was
    /// asked for and none of its certificates loads.
    pub fn build<B>(self) -> Client<B>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
    {
        let mut connector = self.connector;
        connector.finish(self.http2_only);
        let mut b = legacy::Client::builder(self.exec);
        b.timer(GoroTimer)
            .pool_timer(GoroTimer)
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http2_only(self.http2_only);
        Client {
            inner: b.build(connector),
        }
    }
}
