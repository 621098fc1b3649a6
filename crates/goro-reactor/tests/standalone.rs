//! The reactor without any scheduler: plain threads in `block_on` share the
//! poller role, and each one's I/O and timers still complete.

use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro_reactor::block_on;
use goro_reactor::net::{TcpListener, TcpStream, UnixStream};
use goro_reactor::time::sleep;

#[test]
fn threads_in_block_on_share_the_poller() {
    // Eight threads, each its own echo pair: only one can hold the poller
    // role at a time, so the others rely on it to deliver their readiness.
    let threads: Vec<_> = (0..8u32)
        .map(|t| {
            std::thread::spawn(move || {
                block_on(async move {
                    let (mut a, mut b) = UnixStream::pair()?;
                    for i in 0..200u32 {
                        a.write_all(&(t * 1000 + i).to_le_bytes()).await?;
                        let mut buf = [0; 4];
                        b.read_exact(&mut buf).await?;
                        assert_eq!(u32::from_le_bytes(buf), t * 1000 + i);
                        if i % 50 == 0 {
                            sleep(Duration::from_millis(1)).await;
                        }
                    }
                    std::io::Result::Ok(())
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
}

#[test]
fn tcp_between_two_block_on_threads() {
    let listener = block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        block_on(async move {
            let (mut s, _) = listener.accept().await?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await?;
            s.write_all(&buf).await?;
            std::io::Result::Ok(())
        })
    });
    let echoed = block_on(async {
        let mut c = TcpStream::connect(addr).await?;
        c.write_all(&[5u8; 100_000]).await?;
        c.shutdown(std::net::Shutdown::Write)?;
        let mut back = Vec::new();
        c.read_to_end(&mut back).await?;
        std::io::Result::Ok(back)
    })
    .unwrap();
    server.join().unwrap().unwrap();
    assert_eq!(echoed, vec![5u8; 100_000]);
}

#[test]
fn sleeps_on_several_threads_are_never_early() {
    let threads: Vec<_> = (1..=6u64)
        .map(|k| {
            std::thread::spawn(move || {
                let d = Duration::from_millis(3 * k);
                let start = Instant::now();
                block_on(sleep(d));
                start.elapsed() >= d
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap(), "a sleep ended early");
    }
}
