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
/// (the waker runs) while the worker is still stuck. The worker stays stuck
/// until the test has looked (or a minute has passed), so there is no
/// wall-clock bound to miss on a loaded machine.
#[test]
fn monitor_polls_when_every_worker_is_stuck() {
    const GIVE_UP: Duration = Duration::from_secs(60);
    let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    let stuck = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let (s, r) = (stuck.clone(), release.clone());
    let blocker = rt.spawn(async move {
        s.store(1, Ordering::SeqCst);
        let t = Instant::now();
        while !r.load(Ordering::SeqCst) && t.elapsed() < GIVE_UP {
            std::thread::sleep(Duration::from_millis(1));
        }
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
    while !flag.0.load(Ordering::SeqCst) && sent.elapsed() < GIVE_UP {
        std::thread::sleep(Duration::from_millis(1));
    }
    let took = sent.elapsed();
    let still_stuck = stuck.load(Ordering::SeqCst);
    release.store(true, Ordering::SeqCst);
    assert!(flag.0.load(Ordering::SeqCst), "nobody polled the reactor");
    assert_eq!(
        still_stuck, 1,
        "delivered only after the worker was free ({took:?})"
    );
    assert!(matches!(a.poll_readable(&mut cx), Poll::Ready(Ok(()))));
    rt.block_on(blocker).unwrap();
}
