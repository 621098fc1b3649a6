//! The monitor thread's network-poll fallback. Its own test binary (its own
//! process): a runtime of another test polling the same reactor would hide
//! a monitor that does not poll.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

struct Flag(AtomicBool);
impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// With the only worker stuck in a long poll and nobody else polling, the
/// monitor thread polls the reactor after 10 ms: readiness is delivered
/// (the waker runs) while the worker is still stuck.
#[test]
fn monitor_polls_when_every_worker_is_stuck() {
    let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    let stuck = Arc::new(AtomicUsize::new(0));
    let s = stuck.clone();
    let blocker = rt.spawn(async move {
        s.store(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(800));
        s.store(2, Ordering::SeqCst);
    });
    while stuck.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
    let a = goro::Async::new(a).unwrap();
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    // Register interest from this plain thread (no block_on: it would poll).
    assert!(a.poll_readable(&mut cx).is_pending());
    let sent = Instant::now();
    std::io::Write::write_all(&mut b, b"x").unwrap();
    while !flag.0.load(Ordering::SeqCst) && sent.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let took = sent.elapsed();
    assert!(flag.0.load(Ordering::SeqCst), "nobody polled the reactor");
    assert_eq!(
        stuck.load(Ordering::SeqCst),
        1,
        "delivered only after the worker was free ({took:?})"
    );
    assert!(matches!(a.poll_readable(&mut cx), Poll::Ready(Ok(()))));
    rt.block_on(blocker).unwrap();
}
