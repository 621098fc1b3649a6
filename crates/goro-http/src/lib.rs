//! HTTP on goro: hyper, axum and tonic running natively on goro's workers
//! and reactor, with no tokio runtime. The `goro` crate re-exports this as
//! `goro::http` (feature `http`).
//!
//! - [`serve`] and [`Server`]: Go's `http.Serve` and `http.Server`, for any
//!   tower service (an axum `Router`) or hyper service: HTTP/1.1 with
//!   keep-alive and HTTP/2, one goro task per connection, a header read
//!   timeout, a connection limit, back-off on accept errors, graceful
//!   shutdown, and HTTPS with ALPN (feature `tls`).
//! - `Client` (feature `client`): hyper-util's pooled client with a goro
//!   connector, Go's `http.Client`: DNS on the blocking pool, a connect
//!   timeout, HTTPS against webpki or the OS's roots.
//! - `ws` (feature `ws`): WebSocket routes on an HTTP server, with
//!   async-tungstenite on the upgraded connection.
//! - [`TimeoutLayer`]: a tower request timeout on goro's timers.
//! - The runtime pieces for using hyper directly: [`Io`] and [`FuturesIo`]
//!   (hyper's I/O traits), [`GoroExecutor`], [`GoroTimer`].
//!
//! # What runs off tokio, and what does not
//!
//! axum's `Router`, extractors and responses, tonic's `Routes` and
//! generated clients, hyper and hyper-util's server and client run here.
//! Middleware that calls tokio's runtime panics with "there is no reactor
//! running" (tower-http's `TimeoutLayer` and body timeouts, tower's
//! `timeout`, `Buffer::new`, rate limiting, retry back-off, `ServeDir`'s
//! default backend), and so do axum's `serve`, its `WebSocketUpgrade`
//! (it calls `tokio::spawn`) and `Sse::keep_alive`. The replacements are
//! [`serve`], `ws` and [`TimeoutLayer`]; middleware that only transforms
//! requests and responses (tower-http's CORS, compression, tracing,
//! request ids, headers, `map_request`) needs no runtime and works.
//!
//! # tokio in the dependency graph
//!
//! tokio is compiled as a library of traits and buffers, never as a
//! runtime: its `rt` and `time` features stay off, so no tokio runtime,
//! reactor or timer can exist, and nothing here starts a thread. h2 (for
//! HTTP/2) uses tokio's `io-util` and `sync`; hyper-util's pooled client
//! (feature `client`) adds `net`, whose types it never uses here: the
//! client's sockets are goro's, its timer goro's, its tasks goro tasks.
//! `cargo tree -p goro --features http -e features -i tokio` shows it; see
//! `docs/http.md`.

#[cfg(feature = "client")]
mod client;
mod io;
mod rt;
mod server;
mod service;
mod timeout;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "ws")]
pub mod ws;

#[cfg(feature = "client")]
pub use client::{Client, ClientBuilder, Connection, Connector, Error as ClientError};
pub use timeout::{Timeout, TimeoutLayer};

pub use io::{FuturesIo, HyperStream, Io, ReadUninit};
pub use rt::{GoroExecutor, GoroTimer};
pub use server::{OverLimit, Protocols, RemoteAddr, Server, serve};
pub use service::{BoxError, Hyper, IntoHttpService, Tower};

pub use bytes;
pub use http;
pub use http_body_util;
pub use hyper;
