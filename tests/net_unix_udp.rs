//! Unix-domain sockets and UDP over the reactor.

use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro::net::{UdpSocket, UnixListener, UnixStream};

fn rt() -> goro::Runtime {
    goro::Runtime::builder().maxprocs(2).build().unwrap()
}

fn socket_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("goro-{name}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn unix_echo_and_half_close() {
    let path = socket_path("echo");
    rt().block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = goro::go(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            s.read_to_end(&mut all).await.unwrap();
            s.write_all(&all).await.unwrap();
            s.close().await.unwrap();
        });
        let mut c = UnixStream::connect(&path).await.unwrap();
        let msg: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        // Write and read concurrently through `&UnixStream`: the message is
        // larger than the socket buffers.
        let (mut rd, mut wr) = (&c, &c);
        let send = async {
            wr.write_all(&msg).await.unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
        };
        let recv = async {
            let mut back = Vec::new();
            rd.read_to_end(&mut back).await.unwrap();
            back
        };
        let ((), back) = futures_lite::future::zip(send, recv).await;
        assert_eq!(back, msg);
        server.await.unwrap();
        c.close().await.unwrap();
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unix_pair_round_trips_across_tasks() {
    rt().block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let t = goro::go(async move {
            let mut buf = [0; 4];
            for _ in 0..500 {
                b.read_exact(&mut buf).await.unwrap();
                b.write_all(&buf).await.unwrap();
            }
        });
        for i in 0..500u32 {
            a.write_all(&i.to_le_bytes()).await.unwrap();
            let mut buf = [0; 4];
            a.read_exact(&mut buf).await.unwrap();
            assert_eq!(u32::from_le_bytes(buf), i);
        }
        t.await.unwrap();
    });
}

#[test]
fn udp_round_trips() {
    rt().block_on(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let echo = goro::go(async move {
            let mut buf = [0; 1500];
            for _ in 0..200 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(addr).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        for i in 0..200u32 {
            client.send(&i.to_be_bytes()).await.unwrap();
            let mut buf = [0; 16];
            // Loopback UDP does not drop in practice; the timeout turns a
            // lost wakeup into a failure instead of a hang.
            let n = goro::time::timeout(Duration::from_secs(5), client.recv(&mut buf))
                .await
                .expect("datagram or wakeup lost")
                .unwrap();
            assert_eq!(&buf[..n], &i.to_be_bytes());
        }
        echo.await.unwrap();
    });
}

#[test]
fn async_wraps_any_descriptor() {
    rt().block_on(async {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (a, b) = (goro::Async::new(a).unwrap(), goro::Async::new(b).unwrap());
        let reader = goro::go(async move {
            b.readable().await.unwrap();
            let mut buf = [0; 3];
            let n = b
                .read_with(|s| std::io::Read::read(&mut &*s, &mut buf))
                .await
                .unwrap();
            buf[..n].to_vec()
        });
        goro::time::sleep(Duration::from_millis(10)).await;
        a.write_with(|s| std::io::Write::write(&mut &*s, b"abc"))
            .await
            .unwrap();
        assert_eq!(reader.await.unwrap(), b"abc");
        let std_a = a.into_inner().unwrap();
        assert!(std_a.peer_addr().is_ok());
    });
}
