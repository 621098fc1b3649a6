//! Networking: TCP, UDP and (on Unix) Unix-domain sockets whose operations
//! park the task, not the thread.
//!
//! The API follows `std::net` and tokio: `bind`, `accept`, `connect`,
//! `incoming`, addresses, `set_nodelay`, `shutdown`, and splitting a stream
//! into halves. Streams implement `futures-io`'s `AsyncRead` and
//! `AsyncWrite`, so `futures-lite`, `async-tungstenite` and friends work on
//! them; wrap one in `futures_lite::io::BufReader` for `AsyncBufRead`.
//!
//! Address arguments take `std::net::ToSocketAddrs`. A socket address or an
//! IP string resolves without I/O; a host name resolves with a blocking DNS
//! lookup on the calling thread, as `std` does.

#[cfg(unix)]
mod fd_limit;
mod gather;
mod read_uninit;
mod tcp;
mod udp;
#[cfg(unix)]
mod unix;

#[cfg(unix)]
pub use fd_limit::raise_fd_limit;
pub use read_uninit::{ReadUninit, ZeroFill};
pub use tcp::{Incoming, OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixListener, UnixStream};

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `addr` and tries `f` on each address in turn, returning the
/// first success or the last error.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, mut f: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match f(a).await {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}
