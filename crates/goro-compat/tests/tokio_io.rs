//! `TokioIo` and `FromTokio` on real goro sockets: reads land in tokio's
//! `ReadBuf` without initialising its spare part, vectored writes, EOF
//! after shutdown, and the two adapters stacked.

use std::future::poll_fn;
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::pin::Pin;

use goro::compat::{FromTokio, TokioIo};
use goro::net::{TcpListener, TcpStream, UnixStream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn reads_into_an_uninitialised_read_buf_without_zero_filling() {
    goro::block_on(async {
        let (client, server) = pair().await;
        let mut client = TokioIo::new(client);
        let mut server = TokioIo::new(server);
        client.write_all(b"hello").await.unwrap();

        let mut storage = [MaybeUninit::<u8>::uninit(); 64 * 1024];
        let mut buf = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| Pin::new(&mut server).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"hello");
        // Only what the socket wrote was initialised: a zero-filling
        // adapter would have initialised all 64 KiB first.
        assert_eq!(buf.initialized().len(), 5);

        // The same through a futures-io stream: at most 16 KiB zero-filled.
        let (a, b) = UnixStream::pair().unwrap();
        let mut a = TokioIo::new(a);
        let mut b = TokioIo::from_futures_io(b);
        a.write_all(b"xy").await.unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 64 * 1024];
        let mut buf = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"xy");
    });
}

#[test]
fn vectored_writes_shutdown_and_both_adapters_stacked() {
    goro::block_on(async {
        let (client, server) = pair().await;
        let mut client = TokioIo::new(client);
        assert!(tokio::io::AsyncWrite::is_write_vectored(&client));
        let n = client
            .write_vectored(&[IoSlice::new(b"abc"), IoSlice::new(b"def")])
            .await
            .unwrap();
        assert_eq!(n, 6, "one writev for both slices");
        client.shutdown().await.unwrap();

        // futures-io over tokio over goro: FromTokio(TokioIo(TcpStream)).
        let mut server = FromTokio::new(TokioIo::new(server));
        let mut got = Vec::new();
        futures_lite::AsyncReadExt::read_to_end(&mut server, &mut got)
            .await
            .unwrap();
        assert_eq!(got, b"abcdef");

        // And the peer sees EOF through tokio's traits too.
        let (c, s) = pair().await;
        drop(c);
        let mut s = TokioIo::new(s);
        let mut rest = Vec::new();
        assert_eq!(s.read_to_end(&mut rest).await.unwrap(), 0);
    });
}
