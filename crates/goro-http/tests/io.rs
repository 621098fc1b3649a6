//! The unsafe parts of the hyper adapters, under real traffic: `Io` reads
//! into hyper's uninitialised buffer, `FuturesIo` zero-fills before it
//! reads, `HyperStream` reads through hyper's `ReadBuf`. Bodies of many
//! sizes go both ways, byte for byte, with hyper's own HTTP/1 and HTTP/2
//! connections on goro sockets. CI runs this binary under valgrind.

use std::convert::Infallible;

use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro::http::{FuturesIo, GoroExecutor, HyperStream, Io};
use goro::net::{TcpListener, TcpStream, UnixStream};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

/// Echoes the request body back.
async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    Ok(Response::new(Full::new(body.unwrap_or_default())))
}

/// A deterministic body of `n` bytes.
fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// Sizes around hyper's buffer boundaries and `FuturesIo::MAX_READ`.
/// A POST of `body` to `uri`.
fn post(uri: &str, body: &[u8]) -> Request<Full<Bytes>> {
    Request::post(uri)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap()
}

/// Asserts that the response's body is `want`.
async fn assert_echoed(response: hyper::Result<Response<Incoming>>, want: &[u8]) {
    let got = response.unwrap().into_body().collect().await.unwrap();
    assert_eq!(got.to_bytes(), want, "{} bytes", want.len());
}

const SIZES: &[usize] = &[0, 1, 100, 8191, 8192, 8193, 16384, 16385, 100_000, 1 << 20];

#[goro::test]
async fn http1_bodies_round_trip_through_io_on_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    goro::go(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            goro::go(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(Io::new(s), hyper::service::service_fn(echo)),
            );
        }
    });
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .unwrap();
    goro::go(conn);
    for &n in SIZES {
        let want = body(n);
        // An HTTP/1 connection takes the next request once its task has
        // finished the last one.
        send.ready().await.unwrap();
        assert_echoed(send.send_request(post("/", &want)).await, &want).await;
    }
}

#[goro::test]
async fn http2_bodies_round_trip_through_futures_io_on_unix_sockets() {
    let (a, b) = UnixStream::pair().unwrap();
    let exec = GoroExecutor::new();
    goro::go(
        hyper::server::conn::http2::Builder::new(exec.clone())
            .serve_connection(FuturesIo::new(a), hyper::service::service_fn(echo)),
    );
    let (mut send, conn) = hyper::client::conn::http2::handshake(exec, FuturesIo::new(b))
        .await
        .unwrap();
    goro::go(conn);
    for &n in SIZES {
        let want = body(n);
        assert_echoed(send.send_request(post("http://x/", &want)).await, &want).await;
    }
}

#[goro::test]
async fn hyper_stream_reads_and_writes_futures_io_through_hyper_traits() {
    // goro socket -> hyper traits (Io) -> futures-io (HyperStream).
    let (a, b) = UnixStream::pair().unwrap();
    let mut a = HyperStream::new(Io::new(a));
    let mut b = HyperStream::new(Io::new(b));
    let want = body(300_000);
    let sent = want.clone();
    let writer = goro::go(async move {
        a.write_all(&sent).await.unwrap();
        a.close().await.unwrap();
    });
    let mut got = Vec::new();
    b.read_to_end(&mut got).await.unwrap();
    writer.await.unwrap();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the bytes differ");
}
