//! Connections past the server's limit: a `503` (or a plain close).

use std::panic::Location;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro_reactor::net::TcpStream;

use super::OverLimit;

const RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n\
content-type: text/plain\r\ncontent-length: 20\r\nconnection: close\r\n\r\n\
too many connections";

/// Turns away a connection the server has no room for. A `503` goes out
/// from its own short task: the response, a half-close, and a brief drain
/// of what the client sent, so the close is a FIN the client reads after
/// the response rather than a reset that would destroy it.
pub(crate) fn over_limit(stream: TcpStream, action: OverLimit, site: &'static Location<'static>) {
    if action == OverLimit::Close {
        return;
    }
    crate::rt::spawn_at(
        async move {
            let mut stream = stream;
            let _ = stream.set_nodelay(true);
            let respond = async {
                stream.write_all(RESPONSE).await?;
                stream.shutdown(std::net::Shutdown::Write)?;
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? > 0 {}
                std::io::Result::Ok(())
            };
            let _ = goro_reactor::time::timeout(Duration::from_secs(1), respond).await;
        },
        site,
        None,
    );
}
