//! smol: an `async_executor::Executor` run by `WORKERS` threads.

use std::future::Future;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use super::{BenchRt, IoRt, Spawn, WORKERS};

/// smol's `async_executor::Executor` run by [`WORKERS`] threads.
///
/// Each thread calls `futures_lite::future::block_on(ex.run(shutdown))`;
/// dropping the `SmolRt` closes the shutdown channel and joins the threads.
#[derive(Debug)]
pub struct SmolRt {
    ex: Arc<async_executor::Executor<'static>>,
    shutdown: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

/// Spawns onto a shared `async_executor::Executor`.
#[derive(Debug, Clone)]
pub struct SmolSpawner(Arc<async_executor::Executor<'static>>);

impl Spawn for SmolSpawner {
    type Handle<T: Send + 'static> = async_executor::Task<T>;

    fn spawn<F>(&self, fut: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(fut)
    }

    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Dropping an async-executor `Task` cancels it: detach explicitly.
        self.0.spawn(fut).detach();
    }

    fn join<T: Send + 'static>(handle: Self::Handle<T>) -> impl Future<Output = T> + Send {
        handle
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    type OneTx<T: Send + 'static> = async_channel::Sender<T>;
    type OneRx<T: Send + 'static> = async_channel::Receiver<T>;

    fn oneshot<T: Send + 'static>() -> (Self::OneTx<T>, Self::OneRx<T>) {
        async_channel::bounded(1)
    }

    fn send_one<T: Send + 'static>(tx: Self::OneTx<T>, value: T) {
        // Capacity 1 and one send: never full.
        assert!(tx.try_send(value).is_ok(), "smol reply receiver gone");
    }

    async fn recv_one<T: Send + 'static>(rx: Self::OneRx<T>) -> T {
        rx.recv().await.expect("smol reply sender dropped")
    }
}

impl SmolRt {
    /// The same executor and threads, but every worker thread runs
    /// `async_io::block_on(ex.run(..))`, so the workers themselves drive
    /// async-io's reactor and timers (what `smol::spawn`'s global executor
    /// does), instead of leaving that to async-io's fallback thread.
    /// Used by the I/O benches (`tcp_echo`, `timers`, `ws_echo`).
    pub fn with_io() -> Self {
        Self::build(true)
    }

    fn build(io: bool) -> Self {
        let ex = Arc::new(async_executor::Executor::new());
        let (shutdown, signal) = async_channel::bounded::<()>(1);
        let threads = (0..WORKERS)
            .map(|i| {
                let ex = ex.clone();
                let signal = signal.clone();
                thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        let run = ex.run(async move {
                            // Err once every sender is gone: that is the signal.
                            let _ = signal.recv().await;
                        });
                        if io {
                            async_io::block_on(run);
                        } else {
                            futures_lite::future::block_on(run);
                        }
                    })
                    .expect("spawn smol worker thread")
            })
            .collect();
        Self {
            ex,
            shutdown: Some(shutdown),
            threads,
        }
    }
}

impl BenchRt for SmolRt {
    const NAME: &'static str = "smol";
    type Spawner = SmolSpawner;

    fn new() -> Self {
        Self::build(false)
    }

    fn spawner(&self) -> SmolSpawner {
        SmolSpawner(self.ex.clone())
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        futures_lite::future::block_on(fut)
    }

    fn spawn_remote<F>(&self, fut: F) -> async_executor::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.ex.spawn(fut)
    }

    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.ex.spawn(fut).detach();
    }
}

impl Drop for SmolRt {
    fn drop(&mut self) {
        self.shutdown.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl IoRt for SmolRt {
    fn new_io() -> Self {
        Self::with_io()
    }

    async fn sleep_until(deadline: Instant) {
        async_io::Timer::at(deadline).await;
    }
}
