//! Why `goro-reactor` sends a small vectored write as one copied buffer
//! (`net/gather.rs`): the sending thread's CPU time per call of `writev`
//! with two slices, against copying the same slices into one buffer and
//! calling `send` (`std`'s `write` on a socket), on loopback TCP.
//!
//! A plain `main` (`harness = false`), no runtime: a connected pair with
//! `TCP_NODELAY`, a thread that drains the receiving end, and 200
//! interleaved rounds of 2,000 calls of each kind per size. Loopback runs
//! the receiver's side of TCP on the sending thread, as it does for a
//! server answering a local client. Prints the mean CPU time per call and
//! the ratio (copied ÷ `writev`) for a 100-byte head with bodies of 13,
//! 800, 3,800 and 16,000 bytes.
//!
//! ```sh
//! cargo bench -p goro-benches --bench gather_write
//! ```

use std::io::{IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};

const ROUNDS: usize = 200;
const CALLS: usize = 2_000;

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing to list.
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut tx = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut rx, _) = listener.accept().unwrap();
    tx.set_nodelay(true).unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0; 256 * 1024];
        while matches!(rx.read(&mut buf), Ok(n) if n > 0) {}
    });
    let head = vec![b'h'; 100];
    println!("gather_write: CPU per call on the sending thread, loopback TCP");
    for body_len in [13, 800, 3_800, 16_000] {
        let body = vec![b'b'; body_len];
        let mut copy = vec![0u8; head.len() + body.len()];
        let mut total = [0f64; 2];
        for _ in 0..ROUNDS {
            for (kind, sum) in total.iter_mut().enumerate() {
                let start = thread_cpu_ns();
                for _ in 0..CALLS {
                    if kind == 0 {
                        let bufs = [IoSlice::new(&head), IoSlice::new(&body)];
                        // A blocking socket takes the whole of a small write.
                        let n = tx.write_vectored(&bufs).unwrap();
                        assert_eq!(n, head.len() + body.len());
                    } else {
                        copy[..head.len()].copy_from_slice(&head);
                        copy[head.len()..].copy_from_slice(&body);
                        tx.write_all(&copy).unwrap();
                    }
                }
                *sum += (thread_cpu_ns() - start) / CALLS as f64;
            }
        }
        let (writev, copied) = (total[0] / ROUNDS as f64, total[1] / ROUNDS as f64);
        println!(
            "{:>6} bytes: writev {writev:.0} ns, copied + send {copied:.0} ns, copied ÷ writev {:.3}",
            head.len() + body_len,
            copied / writev
        );
    }
}
