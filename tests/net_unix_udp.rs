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

/// Fills the backlog of the listening socket at `path` with connections
/// that nobody accepts, until the kernel refuses one with `EAGAIN`.
fn fill_backlog(path: &std::path::Path) -> Vec<std::os::unix::net::UnixStream> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut held = Vec::new();
    loop {
        // SAFETY: plain system calls on a socket this function owns.
        let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0) };
        assert!(fd >= 0);
        // SAFETY: `fd` was just created and is owned here.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: all zeroes is a valid `sockaddr_un` (plain integers).
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let bytes = path.as_os_str().as_encoded_bytes();
        for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        // SAFETY: `addr` is a valid sockaddr_un of the given size.
        let rc = unsafe {
            libc::connect(
                fd,
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            assert_eq!(e.raw_os_error(), Some(libc::EAGAIN), "{e}");
            return held;
        }
        held.push(owned.into());
        assert!(held.len() < 100_000, "the backlog never filled");
    }
}

/// With the listener's backlog full, `UnixStream::connect` waits without
/// blocking its worker: on a runtime with one worker and no retake, another
/// task runs meanwhile, and the connect completes once the server accepts.
#[test]
fn connect_to_a_full_backlog_does_not_block_the_worker() {
    let path = socket_path("backlog");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let held = fill_backlog(&path);
    let rt = goro::Runtime::builder()
        .maxprocs(1)
        .retake_after(Duration::ZERO)
        .build()
        .unwrap();
    let p = path.clone();
    let connecting = rt.spawn(async move { UnixStream::connect(&p).await });
    let (ran_tx, ran_rx) = std::sync::mpsc::channel();
    let other = rt.spawn(async move {
        goro::time::sleep(Duration::from_millis(20)).await;
        ran_tx.send(()).unwrap();
    });
    // A minute: only a connect that blocks the only worker takes that long.
    let ran_while_connecting = ran_rx.recv_timeout(Duration::from_secs(60)).is_ok();
    assert!(!connecting.is_finished(), "connected to a full backlog");
    // Make room: accept every pending connection.
    listener.set_nonblocking(true).unwrap();
    let mut accepted = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !connecting.is_finished() && std::time::Instant::now() < deadline {
        match listener.accept() {
            Ok((s, _)) => accepted.push(s),
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    let stream = rt
        .block_on(connecting)
        .unwrap()
        .expect("connects once there is room");
    assert!(stream.peer_addr().is_ok());
    rt.block_on(other).unwrap();
    assert!(
        ran_while_connecting,
        "the other task waited behind a connect to a full backlog"
    );
    drop((held, accepted));
    let _ = std::fs::remove_file(&path);
}
