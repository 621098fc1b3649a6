//! smol's fastest setup: a leaked `async_executor::StaticExecutor`
//! (`Executor::leak()`, async-executor's `static` feature) run by `WORKERS`
//! threads. It keeps no slab of tasks behind a mutex and takes no reference
//! count per task: what a smol user who cares about speed runs.

use std::future::Future;
use std::thread;

use async_executor::StaticExecutor;

use super::{BenchRt, SmolSpawner, Spawn, WORKERS};

/// A leaked `StaticExecutor` run by [`WORKERS`] threads, each calling
/// `futures_lite::future::block_on(ex.run(shutdown))`. Dropping it stops and
/// joins the threads; the executor itself stays leaked (a few hundred bytes
/// per runtime built, which the benches build a handful of).
#[derive(Debug)]
pub struct SmolStaticRt {
    ex: &'static StaticExecutor,
    shutdown: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

/// Spawns onto a `&'static StaticExecutor`.
#[derive(Debug, Clone, Copy)]
pub struct SmolStaticSpawner(&'static StaticExecutor);

impl Spawn for SmolStaticSpawner {
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
        SmolSpawner::oneshot()
    }

    fn send_one<T: Send + 'static>(tx: Self::OneTx<T>, value: T) {
        SmolSpawner::send_one(tx, value);
    }

    fn recv_one<T: Send + 'static>(rx: Self::OneRx<T>) -> impl Future<Output = T> + Send {
        SmolSpawner::recv_one(rx)
    }
}

impl BenchRt for SmolStaticRt {
    const NAME: &'static str = "smol_static";
    type Spawner = SmolStaticSpawner;

    fn new() -> Self {
        let ex: &'static StaticExecutor = async_executor::Executor::new().leak();
        let (shutdown, signal) = async_channel::bounded::<()>(1);
        let threads = (0..WORKERS)
            .map(|i| {
                let signal = signal.clone();
                thread::Builder::new()
                    .name(format!("smol-static-worker-{i}"))
                    .spawn(move || {
                        futures_lite::future::block_on(ex.run(async move {
                            // Err once every sender is gone: that is the signal.
                            let _ = signal.recv().await;
                        }));
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

    fn spawner(&self) -> SmolStaticSpawner {
        SmolStaticSpawner(self.ex)
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

impl Drop for SmolStaticRt {
    fn drop(&mut self) {
        self.shutdown.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
