//! goro, built with `maxprocs(WORKERS)`.

use std::future::Future;
use std::time::Instant;

use super::{BenchRt, IoRt, Spawn, WORKERS};

/// goro with `maxprocs(WORKERS)`.
#[derive(Debug)]
pub struct GoroRt {
    rt: goro::Runtime,
}

/// Spawns with `goro::go`, onto the runtime of the current task / `block_on`.
#[derive(Debug, Clone, Copy)]
pub struct GoroSpawner;

impl Spawn for GoroSpawner {
    type Handle<T: Send + 'static> = goro::JoinHandle<T>;

    fn spawn<F>(&self, fut: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        goro::go(fut)
    }

    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(goro::go(fut));
    }

    async fn join<T: Send + 'static>(handle: Self::Handle<T>) -> T {
        match handle.await {
            Ok(v) => v,
            Err(_) => panic!("goro task failed"),
        }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        goro::yield_now()
    }

    type OneTx<T: Send + 'static> = goro::sync::oneshot::Sender<T>;
    type OneRx<T: Send + 'static> = goro::sync::oneshot::Receiver<T>;

    fn oneshot<T: Send + 'static>() -> (Self::OneTx<T>, Self::OneRx<T>) {
        goro::sync::oneshot::channel()
    }

    fn send_one<T: Send + 'static>(tx: Self::OneTx<T>, value: T) {
        assert!(tx.send(value).is_ok(), "goro oneshot receiver gone");
    }

    async fn recv_one<T: Send + 'static>(rx: Self::OneRx<T>) -> T {
        rx.await.expect("goro oneshot sender dropped")
    }
}

impl GoroRt {
    /// A runtime built some other way (another monitor setting, say),
    /// driven like the default one.
    pub fn from_runtime(rt: goro::Runtime) -> Self {
        Self { rt }
    }

    /// The runtime, for its stats.
    pub fn runtime(&self) -> &goro::Runtime {
        &self.rt
    }
}

impl BenchRt for GoroRt {
    const NAME: &'static str = "goro";
    type Spawner = GoroSpawner;

    fn new() -> Self {
        let rt = goro::Runtime::builder()
            .maxprocs(WORKERS)
            .build()
            .expect("build goro runtime");
        Self { rt }
    }

    fn spawner(&self) -> GoroSpawner {
        GoroSpawner
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn_remote<F>(&self, fut: F) -> goro::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.rt.go(fut)
    }

    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.rt.go(fut));
    }
}

impl IoRt for GoroRt {
    fn new_io() -> Self {
        Self::new()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        goro::time::sleep_until(deadline)
    }
}
