//! hyper's runtime hooks on goro: an [`Executor`](hyper::rt::Executor) that
//! spawns with goro's scheduler and a [`Timer`](hyper::rt::Timer) on
//! goro's per-worker timers.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use goro_executor::Handle;

/// Spawns hyper's background futures (HTTP/2 streams, client connections)
/// as goro tasks, so they show in `goro::dump_tasks()`.
///
/// Each task records the place where the executor was made (the `serve`
/// call, the client builder) as its spawn site, since the real caller is
/// inside hyper.
///
/// # Panics
/// `execute` panics outside a goro runtime (a task or a `block_on`), with
/// a message that says so, unless the executor was made inside one.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
///
/// goro::block_on(async {
///     let exec = goro::http::GoroExecutor::new();
///     let (tx, rx) = goro::chan::bounded(1);
///     exec.execute(async move { tx.send(7).await.unwrap() });
///     assert_eq!(rx.recv().await.unwrap(), 7);
/// });
/// ```
#[derive(Clone, Debug)]
pub struct GoroExecutor {
    site: &'static Location<'static>,
    handle: Option<Handle>,
}

impl GoroExecutor {
    /// An executor whose tasks record the caller as their spawn site and
    /// run on the current runtime (the one at hand when they are spawned,
    /// else the one at hand now).
    #[track_caller]
    #[allow(clippy::new_without_default)] // `Default` would lose the caller's location
    pub fn new() -> GoroExecutor {
        GoroExecutor::at(Location::caller())
    }

    /// Like [`GoroExecutor::new`], with the spawn site given.
    pub fn at(site: &'static Location<'static>) -> GoroExecutor {
        GoroExecutor {
            site,
            handle: Handle::try_current(),
        }
    }

    /// Spawns `future` as a detached goro task.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_at(future, self.site, self.handle.as_ref());
    }
}

impl<F> hyper::rt::Executor<F> for GoroExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        self.spawn(future);
    }
}

/// Spawns on the current runtime, else on `fallback`.
pub(crate) fn spawn_at<F>(
    future: F,
    site: &'static Location<'static>,
    fallback: Option<&Handle>,
) -> goro_executor::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Handle::with_current(|h| match h.or(fallback) {
        Some(h) => h.spawn_at(future, site),
        None => panic!(
            "goro::http: no goro runtime here: run the server or client inside a goro task, \
             goro::block_on or #[goro::main]"
        ),
    })
}

/// hyper's timer on goro's timers: `header_read_timeout`, HTTP/2 keep-alive
/// pings and the client pool's idle reaper use it. `reset` moves the
/// existing timer in place.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer;
///
/// # goro::block_on(async {
/// let start = Instant::now();
/// goro::http::GoroTimer.sleep(Duration::from_millis(5)).await;
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GoroTimer;

impl hyper::rt::Timer for GoroTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(GoroSleep::new(goro_reactor::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(GoroSleep::new(goro_reactor::time::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<GoroSleep>() {
            Some(s) => s.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A goro sleep seen as hyper's `Sleep`.
///
/// hyper moves its header-read deadline forward on every request of a
/// keep-alive connection. Moving a registered timer later is lazy here:
/// only `deadline` changes, the timer stays where it is, and when it fires
/// early the sleep re-arms for the real deadline. That saves a timer
/// cancel and insert per request; moving it earlier re-arms at once.
struct GoroSleep {
    timer: goro_reactor::time::Sleep,
    deadline: Instant,
}

impl GoroSleep {
    fn new(timer: goro_reactor::time::Sleep) -> GoroSleep {
        GoroSleep {
            deadline: timer.deadline(),
            timer,
        }
    }

    fn reset(&mut self, deadline: Instant) {
        if deadline < self.timer.deadline() {
            self.timer.reset(deadline);
        }
        self.deadline = deadline;
    }
}

impl Future for GoroSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if Pin::new(&mut self.timer).poll(cx).is_pending() {
                return Poll::Pending;
            }
            if self.timer.deadline() >= self.deadline {
                return Poll::Ready(());
            }
            // The timer was armed for an earlier deadline: re-arm.
            let at = self.deadline;
            self.timer.reset(at);
        }
    }
}

impl hyper::rt::Sleep for GoroSleep {}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer;

    #[test]
    fn a_deadline_moved_later_fires_then_and_not_at_the_old_one() {
        goro_reactor::block_on(async {
            let t0 = Instant::now();
            let mut s = GoroTimer.sleep(Duration::from_millis(20));
            // Register the timer at +20 ms, then move the deadline to +80 ms.
            assert!(futures_lite::future::poll_once(s.as_mut()).await.is_none());
            GoroTimer.reset(&mut s, t0 + Duration::from_millis(80));
            s.as_mut().await;
            assert!(
                t0.elapsed() >= Duration::from_millis(80),
                "{:?}",
                t0.elapsed()
            );
        });
    }

    #[test]
    fn a_deadline_moved_earlier_fires_early() {
        goro_reactor::block_on(async {
            let t0 = Instant::now();
            let mut s = GoroTimer.sleep(Duration::from_secs(3600));
            assert!(futures_lite::future::poll_once(s.as_mut()).await.is_none());
            GoroTimer.reset(&mut s, t0 + Duration::from_millis(10));
            s.as_mut().await;
            let took = t0.elapsed();
            assert!(took >= Duration::from_millis(10), "{took:?}");
            assert!(took < Duration::from_secs(60), "{took:?}");
        });
    }
}
