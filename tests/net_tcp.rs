//! TCP over the reactor: echo, half-close, a 1 GiB transfer checked by hash,
//! 10,000 concurrent connections, EMFILE on accept, dropping a socket in the
//! middle of an operation, and the cooperative budget.

use std::io;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use goro::net::{TcpListener, TcpStream};

fn rt(n: usize) -> goro::Runtime {
    goro::Runtime::builder().maxprocs(n).build().unwrap()
}

async fn echo_server(listener: TcpListener) {
    let mut incoming = listener.incoming();
    while let Some(Ok(mut s)) = incoming.next().await {
        goro::go(async move {
            let mut buf = vec![0; 16 * 1024];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
}

#[test]
fn echo_round_trips() {
    rt(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        goro::go(echo_server(listener));
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        assert_eq!(c.peer_addr().unwrap(), addr);
        for i in 0..1000u32 {
            let msg = i.to_le_bytes();
            c.write_all(&msg).await.unwrap();
            let mut back = [0; 4];
            c.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg);
        }
    });
}

/// Vectored writes of every shape arrive as the concatenation of their
/// slices: small gathers go out as one copied `send`, large ones by
/// `writev`, and a write into a full send buffer comes back partial and is
/// resumed where it stopped.
#[test]
fn vectored_writes_small_and_large_arrive_in_order() {
    rt(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = goro::go(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            socket2::SockRef::from(&s)
                .set_recv_buffer_size(16 * 1024)
                .unwrap();
            // Let the writer fill the send buffer before draining it.
            goro::time::sleep(Duration::from_millis(100)).await;
            // A fixed buffer: `read_to_end` zero-fills its growing spare
            // capacity on every read, which a debug build does byte by byte.
            let (mut all, mut buf) = (Vec::new(), vec![0; 64 * 1024]);
            loop {
                match s.read(&mut buf).await.unwrap() {
                    0 => break all,
                    n => all.extend_from_slice(&buf[..n]),
                }
            }
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        // Small buffers, so writes fill them and come back partial.
        socket2::SockRef::from(&c)
            .set_send_buffer_size(16 * 1024)
            .unwrap();
        let mut expected = Vec::new();
        let mut partial = 0;
        let mut n = 0u32;
        let mut next = |len: usize| -> Vec<u8> {
            (0..len)
                .map(|_| {
                    n = n.wrapping_add(1);
                    (n % 251) as u8
                })
                .collect()
        };
        // (sizes of the slices of one write): empty slices, one slice, a
        // small gather, one just past the copy limit, large ones.
        let shapes: &[&[usize]] = &[
            &[0, 0],
            &[5],
            &[100, 0, 13],
            &[2048, 2048],
            &[2048, 2049],
            &[64 * 1024, 3, 200 * 1024],
        ];
        for _ in 0..10 {
            for shape in shapes {
                let slices: Vec<Vec<u8>> = shape.iter().map(|&len| next(len)).collect();
                for sl in &slices {
                    expected.extend_from_slice(sl);
                }
                let mut bufs: Vec<std::io::IoSlice<'_>> =
                    slices.iter().map(|b| std::io::IoSlice::new(b)).collect();
                let mut bufs = &mut bufs[..];
                while !bufs.is_empty() {
                    let want: usize = bufs.iter().map(|b| b.len()).sum();
                    let wrote = c.write_vectored(bufs).await.unwrap();
                    partial += usize::from(wrote < want);
                    if wrote == 0 && bufs.iter().all(|b| b.is_empty()) {
                        break;
                    }
                    std::io::IoSlice::advance_slices(&mut bufs, wrote);
                }
            }
        }
        c.close().await.unwrap();
        drop(c);
        assert!(
            partial > 0,
            "no write came back partial: the buffers never filled"
        );
        let got = reader.await.unwrap();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the bytes arrived out of order or changed");
    });
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    rt(1).block_on(async {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn half_close_delivers_eof_and_the_other_direction_keeps_working() {
    rt(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = goro::go(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            s.read_to_end(&mut all).await.unwrap(); // ends at the client's half-close
            // Still able to write after reading EOF.
            s.write_all(&all).await.unwrap();
            s.write_all(b"!").await.unwrap();
        });
        let c = TcpStream::connect(addr).await.unwrap();
        let (mut rd, mut wr) = c.into_split();
        wr.write_all(b"half").await.unwrap();
        wr.close().await.unwrap();
        let mut back = Vec::new();
        rd.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"half!");
        server.await.unwrap();
    });
}

#[test]
fn data_and_fin_arriving_together_still_read_eof() {
    // The peer writes and closes at once, so the data and the FIN usually
    // reach the server in one readiness edge: after reading the data, the
    // server must still read the EOF (a short read does not prove the
    // socket has nothing more to say).
    rt(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for round in 0..50u8 {
            let client = std::thread::spawn(move || {
                use std::io::Write;
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(&[round; 100]).unwrap();
                // Dropping closes: FIN right behind the data.
            });
            let (mut s, _) = listener.accept().await.unwrap();
            client.join().unwrap();
            // Let a poll deliver the edge first, so the reads below start
            // after it (the case that hangs if a short read is trusted).
            goro::time::sleep(Duration::from_millis(2)).await;
            let mut all = Vec::new();
            let n = goro::time::timeout(Duration::from_secs(5), s.read_to_end(&mut all))
                .await
                .expect("EOF never read")
                .unwrap();
            assert_eq!((n, all), (100, vec![round; 100]));
        }
    });
}

/// A fast 64-bit hash over 8-byte words (FNV-1a style), for checking that a
/// long stream arrives intact and in order, whatever sizes it is read in.
struct StreamHash {
    h: u64,
    carry: Vec<u8>,
}

impl StreamHash {
    fn new() -> Self {
        StreamHash {
            h: 0xcbf2_9ce4_8422_2325,
            carry: Vec::with_capacity(8),
        }
    }

    fn word(&mut self, w: [u8; 8]) {
        self.h = (self.h ^ u64::from_le_bytes(w)).wrapping_mul(0x0000_0100_0000_01B3);
    }

    fn update(&mut self, mut bytes: &[u8]) {
        if !self.carry.is_empty() {
            let take = (8 - self.carry.len()).min(bytes.len());
            self.carry.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.carry.len() < 8 {
                return;
            }
            let w: [u8; 8] = self.carry[..].try_into().unwrap();
            self.carry.clear();
            self.word(w);
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.word(w.try_into().unwrap());
        }
        self.carry.extend_from_slice(words.remainder());
    }

    fn finish(mut self) -> u64 {
        let mut last = [0u8; 8];
        last[..self.carry.len()].copy_from_slice(&self.carry);
        if !self.carry.is_empty() {
            self.word(last);
        }
        self.h
    }
}

#[test]
fn one_gib_transfer_arrives_intact() {
    const TOTAL: usize = 1 << 30;
    const CHUNK: usize = 256 * 1024;
    rt(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = goro::go(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; CHUNK];
            let (mut h, mut n) = (StreamHash::new(), 0usize);
            loop {
                let k = s.read(&mut buf).await.unwrap();
                if k == 0 {
                    break;
                }
                h.update(&buf[..k]);
                n += k;
            }
            (h.finish(), n)
        });
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut chunk = vec![0u8; CHUNK];
        let (mut h, mut x) = (StreamHash::new(), 0x9E37_79B9_7F4A_7C15u64);
        for _ in 0..TOTAL / CHUNK {
            for w in chunk.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                w.copy_from_slice(&x.to_le_bytes());
            }
            h.update(&chunk);
            s.write_all(&chunk).await.unwrap();
        }
        s.close().await.unwrap();
        let (got, n) = receiver.await.unwrap();
        assert_eq!(n, TOTAL);
        assert_eq!(
            got,
            h.finish(),
            "the received stream differs from the sent one"
        );
    });
}

/// The child half of the 10,000-connection test: opens `n` connections to
/// the address in `GORO_TEST_CONNECT`, echoes through all of them at once,
/// and exits 0 only if every echo matched.
fn many_connections_client() {
    let addr: std::net::SocketAddr = std::env::var("GORO_TEST_CONNECT").unwrap().parse().unwrap();
    let n: usize = std::env::var("GORO_TEST_CONNS").unwrap().parse().unwrap();
    goro::net::raise_fd_limit().expect("raising the open-file limit");
    let ok = rt(2).block_on(async move {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            conns.push(TcpStream::connect(addr).await.unwrap());
        }
        // Every connection is open at once; now each echoes in its own task.
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                goro::go(async move {
                    let msg = (i as u64).to_le_bytes();
                    c.write_all(&msg).await?;
                    let mut back = [0; 8];
                    c.read_exact(&mut back).await?;
                    io::Result::Ok(back == msg)
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().unwrap() {
                ok += 1;
            }
        }
        ok
    });
    std::process::exit(if ok == n { 0 } else { 1 });
}

#[test]
fn ten_thousand_concurrent_connections() {
    if std::env::var_os("GORO_TEST_CONNECT").is_some() {
        return many_connections_client();
    }
    let limit = goro::net::raise_fd_limit().expect("raising the open-file limit");
    // The server holds one descriptor per connection; the client runs in a
    // child process with its own descriptor table.
    let n = 10_000.min(limit.saturating_sub(100) as usize);
    if n < 10_000 {
        goro_testkit::skip(&format!(
            "RLIMIT_NOFILE hard limit is {limit}: testing {n} connections, not 10,000"
        ));
    }
    let rt = rt(2);
    let accepted = Arc::new(AtomicUsize::new(0));
    let (addr, server) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = accepted.clone();
        let server = goro::go(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                accepted.fetch_add(1, Ordering::SeqCst);
                goro::go(async move {
                    let mut buf = [0; 8];
                    if s.read_exact(&mut buf).await.is_ok() {
                        let _ = s.write_all(&buf).await;
                    }
                    // Hold the connection until the client closes it.
                    let _ = s.read(&mut buf).await;
                });
            }
        });
        (addr, server)
    });
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ten_thousand_concurrent_connections",
            "--nocapture",
        ])
        .env("GORO_TEST_CONNECT", addr.to_string())
        .env("GORO_TEST_CONNS", n.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "the client saw a failed or wrong echo");
    assert_eq!(accepted.load(Ordering::SeqCst), n);
    server.abort();
}

/// The child half of the EMFILE test.
fn emfile_child() {
    let rt = rt(1);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // A connection waits in the backlog (the kernel completes the
        // handshake without a descriptor of ours) ...
        let client = std::net::TcpStream::connect(addr).unwrap();
        // ... and then every descriptor is used up.
        let mut hog = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            hog.push(f);
        }
        let err = goro::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .expect("accept must report EMFILE, not hang")
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "got {err}");
        // Free descriptors: the same listener accepts the waiting connection.
        hog.truncate(hog.len().saturating_sub(10));
        let (s, _) = goro::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .expect("accept after EMFILE must not hang")
            .unwrap();
        drop(s);
        drop(hog);
        drop(client);
    });
    // The parent looks for this line: an exit status alone would also be 0
    // if the child ran no test at all.
    println!("\nEMFILE CHILD OK: accept reported EMFILE, then accepted");
    std::process::exit(0);
}

#[test]
fn accept_survives_emfile() {
    if std::env::var_os("GORO_TEST_EMFILE").is_some() {
        return emfile_child();
    }
    // A child process: exhausting descriptors here would break other tests.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "accept_survives_emfile",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GORO_TEST_EMFILE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("EMFILE CHILD OK: accept reported EMFILE"),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn dropping_a_socket_mid_read_closes_it_for_the_peer() {
    rt(2).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (s, _) = listener.accept().await.unwrap();
        let reading = Arc::new(AtomicBool::new(false));
        let r = reading.clone();
        let reader = goro::go(async move {
            let mut s = s;
            r.store(true, Ordering::SeqCst);
            let mut buf = [0; 8];
            let _ = s.read(&mut buf).await; // parks: the client sends nothing
            unreachable!("the task is aborted while parked");
        });
        while !reading.load(Ordering::SeqCst) {
            goro::yield_now().await;
        }
        goro::time::sleep(Duration::from_millis(20)).await;
        reader.abort();
        assert!(reader.await.unwrap_err().is_cancelled());
        // The aborted task dropped the stream: the client reads EOF.
        let mut buf = [0; 8];
        let n = goro::time::timeout(Duration::from_secs(5), c.read(&mut buf))
            .await
            .expect("peer must see the close")
            .unwrap();
        assert_eq!(n, 0);
        // The registration is gone too: new sockets keep working.
        let c2 = TcpStream::connect(addr).await.unwrap();
        drop(c2);
    });
}

#[test]
fn a_hot_connection_yields_to_other_tasks() {
    // One worker. Task A reads a socket that always has data, one byte at a
    // time; task B only counts. Without the budget, B runs after A is done.
    rt(1).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (mut s, _) = listener.accept().await.unwrap();
        c.write_all(&vec![7u8; 100_000]).await.unwrap();
        let b_ran = Arc::new(AtomicUsize::new(0));
        let seen_by_a = Arc::new(AtomicUsize::new(usize::MAX));
        let (b, seen) = (b_ran.clone(), seen_by_a.clone());
        let a = goro::go(async move {
            let mut byte = [0; 1];
            for _ in 0..50_000 {
                s.read_exact(&mut byte).await.unwrap();
            }
            seen.store(b.load(Ordering::SeqCst), Ordering::SeqCst);
        });
        let b = b_ran.clone();
        let counter = goro::go(async move {
            for _ in 0..100 {
                b.fetch_add(1, Ordering::SeqCst);
                goro::yield_now().await;
            }
        });
        a.await.unwrap();
        counter.await.unwrap();
        let seen = seen_by_a.load(Ordering::SeqCst);
        assert!(seen > 0, "task B never ran while A read 50,000 ready bytes");
    });
}

#[test]
fn block_on_drives_io_while_every_worker_is_busy() {
    let rt = rt(1);
    let busy = Arc::new(AtomicBool::new(true));
    let b = busy.clone();
    // Occupy the only worker without any await point.
    // Until the test is done (or a minute has passed): no wall-clock bound.
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let blocker = rt.spawn(async move {
        let t = Instant::now();
        while !d.load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(1));
        }
        b.store(false, Ordering::SeqCst);
    });
    std::thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"ping").unwrap();
            let mut b = [0; 4];
            s.read_exact(&mut b).unwrap();
        });
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0; 4];
        s.read_exact(&mut buf).await.unwrap();
        s.write_all(&buf).await.unwrap();
        peer.join().unwrap();
    });
    let still_busy = busy.load(Ordering::SeqCst);
    done.store(true, Ordering::SeqCst);
    assert!(
        still_busy,
        "block_on finished only after the worker was free ({:?})",
        start.elapsed()
    );
    rt.block_on(blocker).unwrap();
}
