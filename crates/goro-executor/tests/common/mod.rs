//! Pieces shared by the tests that plug a driver of their own into a
//! runtime (`Runtime::builder().driver(..)`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release, SeqCst};
use std::sync::{Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The poller role of a test driver: what `Driver::try_acquire`,
/// `release` and `is_polling` answer.
#[derive(Default)]
pub struct PollerRole(AtomicBool);

impl PollerRole {
    pub fn try_acquire(&self) -> bool {
        !self.0.swap(true, Acquire)
    }
    pub fn release(&self) {
        self.0.store(false, Release);
    }
    pub fn is_polling(&self) -> bool {
        self.0.load(SeqCst)
    }
}

/// A test driver's wait in `poll`: until `Driver::notify`, or `timeout`
/// capped at 50 ms, so that a test never hangs on a missed notify.
#[derive(Default)]
pub struct Nap {
    notified: Mutex<bool>,
    cv: Condvar,
}

impl Nap {
    pub fn sleep(&self, timeout: Option<Duration>) {
        let wait = timeout
            .unwrap_or(Duration::from_millis(50))
            .min(Duration::from_millis(50));
        let mut notified = self.notified.lock().unwrap();
        if !*notified && !wait.is_zero() {
            notified = self.cv.wait_timeout(notified, wait).unwrap().0;
        }
        *notified = false;
    }
    pub fn notify(&self) {
        *self.notified.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

/// Whether this thread is one of the runtime's workers (by its name).
pub fn on_worker() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|n| n.contains("worker"))
}

/// A future that is pending once, handing its waker to `register` (a test
/// driver keeps it to wake later), and ready when polled again.
pub struct PendingOnce<F>(Option<F>);

/// See [`PendingOnce`].
pub fn pending_once<F: FnOnce(&Waker) + Unpin>(register: F) -> PendingOnce<F> {
    PendingOnce(Some(register))
}

impl<F: FnOnce(&Waker) + Unpin> Future for PendingOnce<F> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.0.take() {
            Some(register) => {
                register(cx.waker());
                Poll::Pending
            }
            None => Poll::Ready(()),
        }
    }
}
