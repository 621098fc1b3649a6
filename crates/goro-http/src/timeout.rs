//! A request timeout for tower services on goro's timers, in place of
//! tower-http's `TimeoutLayer`, which sleeps on tokio's timer and panics
//! off tokio.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;

/// Answers `408 Request Timeout` (with an empty body) when the inner
/// service has not produced a response within the timeout, dropping its
/// future; the same contract as tower-http's `TimeoutLayer`. The time
/// covers producing the response head, not streaming its body.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new()
///     .route("/slow", get(|| async { goro::time::sleep(Duration::from_secs(60)).await; "late" }))
///     .layer(goro::http::TimeoutLayer::new(Duration::from_secs(5)));
/// # drop(app);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    timeout: Duration,
}

impl TimeoutLayer {
    /// A layer timing requests out after `timeout`.
    pub fn new(timeout: Duration) -> TimeoutLayer {
        TimeoutLayer { timeout }
    }
}

impl<S> tower_layer::Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            timeout: self.timeout,
        }
    }
}

/// The service [`TimeoutLayer`] wraps around another.
#[derive(Clone, Copy, Debug)]
pub struct Timeout<S> {
    inner: S,
    timeout: Duration,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for Timeout<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        TimeoutFuture {
            inner: self.inner.call(req),
            sleep: goro_reactor::time::sleep(self.timeout),
        }
    }
}

pin_project! {
    /// The future of [`Timeout`].
    #[derive(Debug)]
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        sleep: goro_reactor::time::Sleep,
    }
}

impl<F, B, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(r) = this.inner.poll(cx) {
            return Poll::Ready(r);
        }
        if Pin::new(this.sleep).poll(cx).is_ready() {
            let mut resp = Response::new(B::default());
            *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
            return Poll::Ready(Ok(resp));
        }
        Poll::Pending
    }
}
