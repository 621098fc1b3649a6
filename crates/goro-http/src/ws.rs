//! WebSocket routes inside an HTTP server: check the handshake, answer
//! `101 Switching Protocols`, and run async-tungstenite on the upgraded
//! connection as a goro task.
//!
//! axum's own `WebSocketUpgrade` cannot be used on goro: its `on_upgrade`
//! calls `tokio::spawn`. [`upgrade`] is the replacement and works from an
//! axum handler (take the whole `Request`) or a hyper `service_fn`.
//!
//! ```
//! use axum::{Router, body::Body, extract::Request, response::Response, routing::get};
//! use futures_lite::StreamExt;
//!
//! async fn echo(mut req: Request) -> Response {
//!     match goro::http::ws::upgrade::<_, Body>(&mut req, None) {
//!         Ok((response, pending)) => {
//!             pending.on_upgrade(|mut ws| async move {
//!                 while let Some(Ok(msg)) = ws.next().await {
//!                     if msg.is_text() || msg.is_binary() {
//!                         if ws.send(msg).await.is_err() {
//!                             break;
//!                         }
//!                     }
//!                 }
//!             });
//!             response
//!         }
//!         Err(e) => e.into_response(),
//!     }
//! }
//!
//! let app: Router = Router::new().route("/ws", get(echo));
//! # drop(app);
//! ```

use std::fmt;
use std::future::Future;
use std::panic::Location;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::handshake::derive_accept_key;
use async_tungstenite::tungstenite::protocol::Role;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::upgrade::{OnUpgrade, Upgraded};

use crate::io::HyperStream;

pub use async_tungstenite::tungstenite::{self, Message, protocol::WebSocketConfig};

/// A server-side WebSocket on an upgraded HTTP connection: a `Stream` of
/// [`Message`]s and a `Sink` for them (async-tungstenite's).
pub type WebSocket = WebSocketStream<HyperStream<Upgraded>>;

/// Checks that `req` is a WebSocket handshake (RFC 6455 section 4.2.1) and
/// returns the `101` response to send and the upgrade to wait for.
///
/// # Errors
/// An [`UpgradeError`] saying what is wrong, with the status to answer:
/// `405` for a method other than `GET`, `400` for a missing or malformed
/// header, `426` with `Sec-WebSocket-Version: 13` for another version or
/// a connection that cannot upgrade (HTTP/2).
pub fn upgrade<B, R: Default>(
    req: &mut Request<B>,
    config: Option<WebSocketConfig>,
) -> Result<(Response<R>, PendingWebSocket), UpgradeError> {
    let key = check(req.method(), req.headers())?;
    let on_upgrade = req
        .extensions_mut()
        .remove::<OnUpgrade>()
        .ok_or(UpgradeError::new(
            StatusCode::UPGRADE_REQUIRED,
            "this connection cannot be upgraded (WebSockets need HTTP/1.1)",
        ))?;
    let mut resp = Response::new(R::default());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let accept = derive_accept_key(key.as_bytes());
    h.insert(
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_str(&accept).expect("base64 is a valid header value"),
    );
    Ok((resp, PendingWebSocket { on_upgrade, config }))
}

/// The handshake's checks; returns the client's key.
fn check(method: &Method, h: &HeaderMap) -> Result<HeaderValue, UpgradeError> {
    if method != Method::GET {
        return Err(UpgradeError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "a WebSocket handshake is a GET request",
        ));
    }
    let has_token = |name: header::HeaderName, token: &str| {
        h.get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    if !has_token(header::CONNECTION, "upgrade") {
        return Err(UpgradeError::new(
            StatusCode::BAD_REQUEST,
            "missing `Connection: upgrade`",
        ));
    }
    if !has_token(header::UPGRADE, "websocket") {
        return Err(UpgradeError::new(
            StatusCode::BAD_REQUEST,
            "missing `Upgrade: websocket`",
        ));
    }
    if h.get(header::SEC_WEBSOCKET_VERSION).map(|v| v.as_bytes()) != Some(b"13") {
        return Err(UpgradeError::new(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported Sec-WebSocket-Version: this server speaks version 13",
        ));
    }
    match h.get(header::SEC_WEBSOCKET_KEY) {
        Some(k) if k.len() == 24 => Ok(k.clone()),
        _ => Err(UpgradeError::new(
            StatusCode::BAD_REQUEST,
            "missing or malformed Sec-WebSocket-Key",
        )),
    }
}

/// The WebSocket that the client will speak once the `101` has gone out.
#[derive(Debug)]
#[must_use = "the WebSocket exists only once the upgrade is awaited or on_upgrade is called"]
pub struct PendingWebSocket {
    on_upgrade: OnUpgrade,
    config: Option<WebSocketConfig>,
}

impl PendingWebSocket {
    /// Waits for the upgrade (after the `101` response is sent) and wraps
    /// the connection.
    ///
    /// # Errors
    /// When the connection closed before the upgrade.
    pub async fn accept(self) -> Result<WebSocket, hyper::Error> {
        let upgraded = self.on_upgrade.await?;
        Ok(
            WebSocketStream::from_raw_socket(HyperStream::new(upgraded), Role::Server, self.config)
                .await,
        )
    }

    /// Runs `handler` on the WebSocket in its own goro task once the
    /// upgrade completes; a failed upgrade is logged at debug level.
    #[track_caller]
    pub fn on_upgrade<F, Fut>(self, handler: F)
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let site = Location::caller();
        crate::rt::spawn_at(
            async move {
                match self.accept().await {
                    Ok(ws) => handler(ws).await,
                    Err(e) => log::debug!("goro::http::ws: upgrade failed: {e}"),
                }
            },
            site,
            None,
        );
    }
}

/// Why a request is not a WebSocket handshake, with the status to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeError {
    status: StatusCode,
    reason: &'static str,
}

impl UpgradeError {
    fn new(status: StatusCode, reason: &'static str) -> UpgradeError {
        UpgradeError { status, reason }
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer: the status, the reason as a plain-text body, and
    /// `Sec-WebSocket-Version: 13` on a `426`.
    pub fn into_response<B: From<&'static str>>(self) -> Response<B> {
        let mut resp = Response::new(B::from(self.reason));
        *resp.status_mut() = self.status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if self.status == StatusCode::UPGRADE_REQUIRED {
            resp.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        resp
    }
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.status)
    }
}

impl std::error::Error for UpgradeError {}
