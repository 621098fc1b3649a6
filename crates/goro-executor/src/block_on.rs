//! `block_on` for a runtime with a driver: the calling thread (not a worker)
//! sleeps in the driver when it can take the poller role, so the I/O its
//! future waits for is polled even while every worker is busy.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::driver::Driver;
use crate::park::Parker;
use crate::shared::Shared;

struct ThreadWaker(Parker);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` to completion on this thread.
pub(crate) fn block_on<F: Future>(
    shared: &Shared,
    driver: &Arc<dyn Driver>,
    future: F,
) -> F::Output {
    let parker = Arc::new(ThreadWaker(Parker::with_driver(Some(driver.clone()))));
    let waker = Waker::from(parker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let mut polled = false;
    let out = loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            break out;
        }
        match parker.0.park_polling(None) {
            Some(_) => polled = true,
            None => parker.0.park(),
        }
    };
    if polled {
        // Workers may have parked on their condition variables while this
        // thread held the poller role.
        shared.hand_off_poller();
    }
    out
}
