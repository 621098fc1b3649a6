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
        Box::pin(GoroSleep(goro_reactor::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(GoroSleep(goro_reactor::time::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<GoroSleep>() {
            Some(mut s) => s.0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A goro sleep seen as hyper's `Sleep`.
struct GoroSleep(goro_reactor::time::Sleep);

impl Future for GoroSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for GoroSleep {}
