//! tokio's multi-thread runtime with `WORKERS` workers.

use std::future::Future;
use std::time::Instant;

use super::{BenchRt, IoRt, Spawn, WORKERS};

/// tokio's multi-thread runtime with `worker_threads(WORKERS)`.
#[derive(Debug)]
pub struct TokioRt {
    pub(super) rt: tokio::runtime::Runtime,
}

/// Spawns with `tokio::spawn`, onto the runtime of the current context.
#[derive(Debug, Clone, Copy)]
pub struct TokioSpawner;

impl Spawn for TokioSpawner {
    type Handle<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn spawn<F>(&self, fut: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(fut)
    }

    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(fut));
    }

    async fn join<T: Send + 'static>(handle: Self::Handle<T>) -> T {
        handle.await.expect("tokio task failed")
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    type OneTx<T: Send + 'static> = tokio::sync::oneshot::Sender<T>;
    type OneRx<T: Send + 'static> = tokio::sync::oneshot::Receiver<T>;

    fn oneshot<T: Send + 'static>() -> (Self::OneTx<T>, Self::OneRx<T>) {
        tokio::sync::oneshot::channel()
    }

    fn send_one<T: Send + 'static>(tx: Self::OneTx<T>, value: T) {
        assert!(tx.send(value).is_ok(), "tokio oneshot receiver gone");
    }

    async fn recv_one<T: Send + 'static>(rx: Self::OneRx<T>) -> T {
        rx.await.expect("tokio oneshot sender dropped")
    }
}

impl TokioRt {
    /// The same runtime with tokio's I/O and time drivers enabled
    /// (`enable_all`), for the I/O benches. [`BenchRt::new`] leaves them off,
    /// so the scheduler benches park on a condvar as before.
    pub fn with_io() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .expect("build tokio runtime");
        Self { rt }
    }
}

impl BenchRt for TokioRt {
    const NAME: &'static str = "tokio";
    type Spawner = TokioSpawner;

    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .build()
            .expect("build tokio runtime");
        Self { rt }
    }

    fn spawner(&self) -> TokioSpawner {
        TokioSpawner
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn_remote<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.rt.handle().spawn(fut)
    }

    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.rt.handle().spawn(fut));
    }
}

impl IoRt for TokioRt {
    fn new_io() -> Self {
        Self::with_io()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep_until(deadline.into())
    }
}
