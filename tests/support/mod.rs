//! What the facade's HTTP tests share that needs goro itself (the rest is in
//! `goro-testkit`): a TCP proxy that counts the connections a client opens.
//!
//! Included with `mod support;` by the tests that use it.

/// A TCP forwarder to `target` that counts the connections it accepts:
/// how many connections the client really opened.
pub async fn counting_proxy(
    target: std::net::SocketAddr,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use goro::io::AsyncWriteExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let front = goro::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = front.local_addr().unwrap();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let accepted = count.clone();
    goro::go(async move {
        while let Ok((client, _)) = front.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            goro::go(async move {
                let Ok(server) = goro::net::TcpStream::connect(target).await else {
                    return;
                };
                let (cr, mut cw) = client.into_split();
                let (sr, mut sw) = server.into_split();
                goro::go(async move {
                    let _ = goro::io::copy(cr, &mut sw).await;
                    let _ = sw.close().await;
                });
                let _ = goro::io::copy(sr, &mut cw).await;
                let _ = cw.close().await;
            });
        }
    });
    (addr, count)
}
