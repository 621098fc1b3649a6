//! What `serve` accepts: a tower `Service` (an axum `Router`,
//! `tower::service_fn`) or a hyper `Service` (`hyper::service::service_fn`).

use std::error::Error as StdError;
use std::future::Future;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::service::TowerToHyperService;

/// A boxed error, as hyper and tower use.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Something `serve` can answer requests with: a tower or a hyper service
/// that is `Clone` (one copy per connection) and sends.
///
/// The type parameter only tells the two kinds apart; it is inferred.
pub trait IntoHttpService<Kind>: Send + 'static {
    /// The hyper service it becomes.
    type Service: hyper::service::Service<
            Request<Incoming>,
            Response = Response<Self::Body>,
            Error = Self::Error,
            Future = Self::Future,
        > + Clone
        + Send
        + 'static;
    /// The response body.
    type Body: http_body::Body<Data = Self::Data, Error = Self::BodyError> + Send + 'static;
    /// The body's chunks.
    type Data: bytes::Buf + Send + 'static;
    /// The body's error.
    type BodyError: Into<BoxError>;
    /// The service's error.
    type Error: Into<BoxError>;
    /// The service's future.
    type Future: Future<Output = Result<Response<Self::Body>, Self::Error>> + Send + 'static;

    /// Converts it.
    fn into_http_service(self) -> Self::Service;
}

/// Marks a tower [`Service`](tower_service::Service) for [`IntoHttpService`].
#[derive(Debug)]
pub enum Tower {}

/// Marks a hyper [`Service`](hyper::service::Service) for [`IntoHttpService`].
#[derive(Debug)]
pub enum Hyper {}

impl<S, B> IntoHttpService<Tower> for S
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send + 'static,
    B::Error: Into<BoxError>,
{
    type Service = TowerToHyperService<S>;
    type Body = B;
    type Data = B::Data;
    type BodyError = B::Error;
    type Error = S::Error;
    type Future = hyper_util::service::TowerToHyperServiceFuture<S, Request<Incoming>>;

    fn into_http_service(self) -> Self::Service {
        TowerToHyperService::new(self)
    }
}

impl<S, B> IntoHttpService<Hyper> for S
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send + 'static,
    B::Error: Into<BoxError>,
{
    type Service = S;
    type Body = B;
    type Data = B::Data;
    type BodyError = B::Error;
    type Error = S::Error;
    type Future = S::Future;

    fn into_http_service(self) -> Self::Service {
        self
    }
}
