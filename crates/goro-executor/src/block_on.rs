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
    poll_until_ready(&parker, future, |parker| {
        if driver.is_polling() {
            // A worker polls for everyone (the usual case): just sleep, as
            // tokio's `block_on` does. Ready I/O then wakes tasks straight
            // onto that worker instead of through the global queue.
            parker.park();
        } else if shared.idle.num_sleeping() == 0 {
            // Every worker is busy, maybe stuck in a long poll: poll the
            // driver ourselves, for a slice, so that a worker going idle
            // soon can take the role back.
            if crate::context::remote_poll(|| parker.park_polling(Some(POLL_SLICE))).is_some() {
                shared.hand_off_poller();
            } else {
                parker.park();
            }
        } else {
            // Workers sleep but none polls (they went to sleep before this
            // thread registered its I/O): wake one to take the role.
            shared.hand_off_poller();
            parker.park();
        }
    })
}

/// Polls `future` with `parker` as its waker, calling `wait` between polls
/// until it is ready.
fn poll_until_ready<F: Future>(
    parker: &Arc<ThreadWaker>,
    future: F,
    mut wait: impl FnMut(&Parker),
) -> F::Output {
    let waker = Waker::from(parker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        wait(&parker.0);
    }
}

/// How long a `block_on` thread polls the driver at a time when it has to.
const POLL_SLICE: std::time::Duration = std::time::Duration::from_millis(10);

#[cfg(loom)]
loom::thread_local! {
    /// The parker of this model thread's `block_on`s. Made once, before
    /// the model spawns tasks ([`prepare_parker`]): the waker reaches a
    /// worker through async-task's std atomics, which loom cannot see, so
    /// only a parker made before the task was queued is ordered before the
    /// worker's wake in loom's eyes (as it is in fact).
    static PARKER: Arc<ThreadWaker> = Arc::new(ThreadWaker(Parker::new()));
}

/// Makes this model thread's `block_on` parker now; see `PARKER`.
#[cfg(all(test, loom))]
pub(crate) fn prepare_parker() {
    PARKER.with(|_| ());
}

/// Polls `future` to completion on this thread, sleeping on a [`Parker`]
/// between polls: `block_on` without a driver under loom, where
/// `futures_lite`'s std parking would block the model.
#[cfg(loom)]
pub(crate) fn block_on_parker<F: Future>(future: F) -> F::Output {
    let parker = PARKER.with(Arc::clone);
    poll_until_ready(&parker, future, Parker::park)
}
