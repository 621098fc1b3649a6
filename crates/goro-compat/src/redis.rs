//! redis on goro (feature `redis`): [`connect`] opens a goro socket for a
//! [`ConnectionInfo`] and builds a multiplexed connection on it with
//! `MultiplexedConnection::new_with_config`.
//!
//! The redis crate needs one of its runtime features to compile its async
//! code; goro uses `tokio-comp`, which compiles tokio's `rt`, `net` and
//! `time` modules but starts nothing. What would use them is avoided:
//! redis's own connect (`Client::get_multiplexed_async_connection`), its
//! response and connection timeouts (cleared by [`connect`]; use
//! `goro::time::timeout`), `aio::PubSub` and `ConnectionManager` (they
//! spawn with `tokio::spawn`, which panics outside a tokio runtime rather
//! than starting one). For pub/sub, use RESP3 and a push sender: see
//! [`connect`].

use std::future::Future;

use goro_reactor::net::TcpStream;
#[cfg(unix)]
use goro_reactor::net::UnixStream;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, RedisResult};

use crate::{Socket, TokioIo};

/// Connects to redis at `info` on a goro socket and returns the
/// multiplexed connection and its driver: spawn the driver as a goro task
/// (`goro::go(driver)`). The connection is `Clone`; clones share one
/// socket, pipelining their commands. When the server goes away the
/// driver ends and every command fails with an I/O error; connect again.
///
/// `config`'s response and connection timeouts are cleared (they would
/// need tokio's timer): wrap calls in `goro::time::timeout` instead.
/// Everything else in `config` applies, such as `set_push_sender` for
/// pub/sub over RESP3 (`redis://host:port/?protocol=resp3`), where
/// `MultiplexedConnection::subscribe` delivers messages to the sender.
///
/// # Errors
/// Connecting (an I/O error, with the address), the handshake (auth,
/// `SELECT`, `HELLO 3`), or a `rediss://` address: for TLS, open the
/// stream with tokio-rustls over [`TokioIo`] and call `new_with_config`.
///
/// # Examples
///
/// ```no_run
/// use goro::compat::redis;
/// use ::redis::{AsyncCommands, AsyncConnectionConfig, IntoConnectionInfo};
///
/// # goro::block_on(async {
/// let info = "redis://127.0.0.1:6379/".into_connection_info()?;
/// let (mut con, driver) = redis::connect(&info, AsyncConnectionConfig::new()).await?;
/// goro::go(driver);
/// con.set::<_, _, ()>("k", "v").await?;
/// assert_eq!(con.get::<_, String>("k").await?, "v");
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub async fn connect(
    info: &ConnectionInfo,
    config: AsyncConnectionConfig,
) -> RedisResult<(
    MultiplexedConnection,
    impl Future<Output = ()> + Send + 'static,
)> {
    let socket = match info.addr() {
        ConnectionAddr::Tcp(host, port) => {
            let s = TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|e| with_addr(e, &format!("{host}:{port}")))?;
            s.set_nodelay(true)?;
            Socket::Tcp(s)
        }
        #[cfg(unix)]
        ConnectionAddr::Unix(path) => Socket::Unix(
            UnixStream::connect(path)
                .await
                .map_err(|e| with_addr(e, &path.display().to_string()))?,
        ),
        other => {
            return Err(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "goro::compat::redis::connect opens plain TCP and Unix sockets only",
                format!(
                    "{other}: for TLS, wrap a goro TcpStream in TokioIo, run tokio-rustls over it and call MultiplexedConnection::new_with_config"
                ),
            )));
        }
    };
    let config = config
        .set_response_timeout(None)
        .set_connection_timeout(None);
    MultiplexedConnection::new_with_config(info.redis_settings(), TokioIo::new(socket), config)
        .await
}

fn with_addr(e: std::io::Error, addr: &str) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("cannot connect to redis at {addr}: {e}"))
}
