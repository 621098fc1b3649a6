//! The header read timeout, one timer per connection.
//!
//! hyper's own `header_read_timeout` makes a timer per request: it boxes a
//! new `Sleep` whenever it starts reading a request head, registers it when
//! the read waits, and drops it once the head is parsed, and it polls the
//! head once more per request to do so. Measured on `benches/http_hello`
//! (callgrind, 20,000 keep-alive requests), that costs about 1,650
//! instructions per request, a sixth of the server's user-space work.
//!
//! goro does it per connection instead, as Go's `ReadHeaderTimeout` does
//! with one deadline per connection. The service wrapper counts requests
//! as their heads arrive ([`Progress::begin`]) and responses as hyper drops
//! their bodies ([`Finish`]), noting when the last one in flight finished.
//! The connection waits for a head exactly when every request begun has
//! finished, since the moment the last one did (or since the accept). One
//! goro timer watches that deadline lazily ([`Watchdog`]): it is armed for
//! a deadline no later than the real one, and when it fires it re-reads the
//! counts and either closes the connection or re-arms for the new deadline.
//! While a request is in flight (a slow handler, a long body) there is no
//! deadline: the watchdog only looks again one timeout later.
//!
//! HTTP/2 has no such timeout in hyper (streams multiplex, a connection
//! idles between them): once a connection's first request shows HTTP/2, the
//! watchdog retires.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::{Duration, Instant};

use goro_reactor::time::Sleep;
use http_body::{Body, Frame, SizeHint};

/// One connection's requests: begun, finished, and when it last went idle.
#[derive(Debug)]
pub(crate) struct Progress {
    /// The accept; idle times count from here.
    base: Instant,
    begun: AtomicU64,
    finished: AtomicU64,
    /// Milliseconds after `base` at which the last request in flight
    /// finished (0: none has, the connection waits since the accept).
    idle_since_ms: AtomicU64,
    h2: AtomicBool,
}

impl Progress {
    pub(crate) fn new(accepted: Instant) -> Arc<Progress> {
        Arc::new(Progress {
            base: accepted,
            begun: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            h2: AtomicBool::new(false),
        })
    }

    /// A request head arrived: until its response is done, no deadline.
    pub(crate) fn begin(self: &Arc<Self>, version: http::Version) -> Finish<()> {
        if version == http::Version::HTTP_2 {
            self.h2.store(true, Relaxed);
        }
        self.begun.fetch_add(1, AcqRel);
        Finish {
            inner: (),
            guard: Some(Guard(self.clone())),
        }
    }

    /// When the connection must have received the next request head:
    /// `Ok(None)` while a request is in flight, `Err(())` once it speaks
    /// HTTP/2.
    fn deadline(&self, timeout: Duration) -> Result<Option<Instant>, ()> {
        if self.h2.load(Relaxed) {
            return Err(());
        }
        // `finished` first: a response that finishes in between makes the
        // counts differ (busy), never look idle with a stale idle time.
        let finished = self.finished.load(Acquire);
        let begun = self.begun.load(Acquire);
        if finished != begun {
            return Ok(None);
        }
        let idle = Duration::from_millis(self.idle_since_ms.load(Acquire));
        Ok(Some(self.base + idle + timeout))
    }
}

/// Marks its request finished when dropped.
#[derive(Debug)]
struct Guard(Arc<Progress>);

impl Drop for Guard {
    fn drop(&mut self) {
        let p = &self.0;
        // Note the idle time before counting, so a reader that sees the
        // counts equal sees it too.
        if p.finished.load(Relaxed) + 1 == p.begun.load(Acquire) {
            let ms = p.base.elapsed().as_millis() as u64;
            p.idle_since_ms.fetch_max(ms, Release);
        }
        p.finished.fetch_add(1, AcqRel);
    }
}

pin_project_lite::pin_project! {
    /// A response body (or, before there is one, the request's future)
    /// that marks its request finished when hyper drops it: after writing
    /// it out, or on an error.
    #[derive(Debug)]
    pub(crate) struct Finish<B> {
        #[pin]
        inner: B,
        guard: Option<Guard>,
    }
}

impl Finish<()> {
    /// Carries the mark over to `inner`.
    pub(crate) fn wrap<B>(self, inner: B) -> Finish<B> {
        Finish {
            inner,
            guard: self.guard,
        }
    }
}

impl<B> Finish<B> {
    /// No mark: the server has no header read timeout.
    pub(crate) fn plain(inner: B) -> Finish<B> {
        Finish { inner, guard: None }
    }
}

impl<B: Body> Body for Finish<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// The service's future, moving the request's mark onto the body of
    /// the response it yields (dropped with the mark on an error).
    pub(crate) struct Respond<F> {
        #[pin]
        inner: F,
        mark: Option<Finish<()>>,
    }
}

impl<F> Respond<F> {
    pub(crate) fn new(inner: F, mark: Option<Finish<()>>) -> Respond<F> {
        Respond { inner, mark }
    }
}

impl<F, B, E> Future for Respond<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<Finish<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let resp = ready!(this.inner.poll(cx))?;
        let mark = this.mark.take();
        Poll::Ready(Ok(resp.map(|b| match mark {
            Some(m) => m.wrap(b),
            None => Finish::plain(b),
        })))
    }
}

/// The waker the timer holds: notes that it fired and wakes the task, so
/// the task's other wakes cost one load to tell apart.
struct Signal {
    fired: AtomicBool,
    task: Waker,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Release);
        self.task.wake_by_ref();
    }
}

/// The connection's one timer for its header read deadline.
pub(crate) struct Watchdog {
    progress: Arc<Progress>,
    timeout: Duration,
    sleep: Sleep,
    signal: Option<Arc<Signal>>,
    retired: bool,
}

impl Watchdog {
    pub(crate) fn new(progress: Arc<Progress>, timeout: Duration) -> Watchdog {
        let first = progress.base + timeout;
        Watchdog {
            progress,
            timeout,
            sleep: goro_reactor::time::sleep_until(first),
            signal: None,
            retired: false,
        }
    }

    /// `Ready` when the connection has waited for a request head for the
    /// whole timeout: close it.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.retired {
            return Poll::Pending;
        }
        if let Some(s) = &self.signal {
            if !s.fired.load(Acquire) && s.task.will_wake(cx.waker()) {
                return Poll::Pending;
            }
        }
        // The first poll, the timer fired, or the task's waker changed.
        loop {
            let now = Instant::now();
            let at = match self.progress.deadline(self.timeout) {
                Err(()) => {
                    self.retired = true;
                    self.signal = None;
                    // Cancels the timer.
                    self.sleep = goro_reactor::time::sleep_until(self.sleep.deadline());
                    return Poll::Pending;
                }
                Ok(Some(at)) if now >= at => return Poll::Ready(()),
                Ok(Some(at)) => at,
                // Busy: look again one timeout from now.
                Ok(None) => now + self.timeout,
            };
            if self.signal.is_none() || at != self.sleep.deadline() {
                self.sleep.reset(at);
            }
            let signal = Arc::new(Signal {
                fired: AtomicBool::new(false),
                task: cx.waker().clone(),
            });
            let waker = Waker::from(signal.clone());
            self.signal = Some(signal);
            if Pin::new(&mut self.sleep)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
            {
                return Poll::Pending;
            }
            // Due already (a clock tick between the two reads): decide again.
        }
    }
}
