//! [`block_on`] without a runtime: the calling thread drives the reactor
//! itself while it waits. The `goro` facade's `block_on` does the same on
//! top of a runtime; this one serves the reactor's own docs and tests, and
//! programs that want I/O without worker threads.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::reactor::Reactor;

const IDLE: u8 = 0;
const WAITING: u8 = 1;
const POLLING: u8 = 2;
const NOTIFIED: u8 = 3;

struct Unparker {
    thread: Thread,
    state: AtomicU8,
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        match self.state.swap(NOTIFIED, SeqCst) {
            WAITING => self.thread.unpark(),
            POLLING => Reactor::get().notify(),
            _ => {}
        }
    }
}

/// Runs `future` to completion on this thread, polling the reactor while
/// it waits (or sleeping while another thread polls it).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// goro_reactor::block_on(goro_reactor::time::sleep(Duration::from_millis(1)));
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    let reactor = Reactor::get();
    let unparker = Arc::new(Unparker {
        thread: thread::current(),
        state: AtomicU8::new(IDLE),
    });
    let waker = Waker::from(unparker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        if reactor.try_acquire() {
            if unparker
                .state
                .compare_exchange(IDLE, POLLING, SeqCst, SeqCst)
                .is_ok()
            {
                reactor.poll(None);
            }
            reactor.release();
        } else if unparker
            .state
            .compare_exchange(IDLE, WAITING, SeqCst, SeqCst)
            .is_ok()
        {
            // Another thread polls; it may not know about our timers' exact
            // deadline changes, so wake up now and then to look ourselves.
            thread::park_timeout(std::time::Duration::from_millis(1));
        }
        unparker.state.store(IDLE, SeqCst);
    }
}

#[doc(hidden)]
pub fn __block_on_for_docs<F: Future>(future: F) -> F::Output {
    block_on(future)
}
