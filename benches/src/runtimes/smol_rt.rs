//! smol: an `async_executor` executor run by `WORKERS` threads, in its two
//! setups:
//! - [`SmolRt`]: an `Arc<Executor>`, what most smol programs run;
//! - [`SmolStaticRt`]: smol's fastest setup, a leaked `StaticExecutor`
//!   (`Executor::leak()`, async-executor's `static` feature), which keeps
//!   no slab of tasks behind a mutex and takes no reference count per task.
//!
//! Both are [`SmolRtOn`] over an [`SmolExecutor`]: the threads, the
//! shutdown and the spawner are written once.

use std::future::Future;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use async_executor::{Executor, StaticExecutor};

use super::{BenchRt, IoRt, Spawn, WORKERS};

/// What both smol setups offer: an executor handle that threads share.
pub trait SmolExecutor: Clone + Send + Sync + 'static {
    /// The runtime's name in the bench tables.
    const NAME: &'static str;
    /// The prefix of its worker threads' names.
    const THREAD: &'static str;

    /// A new executor.
    fn make() -> Self;

    /// Spawns `fut` onto it.
    fn spawn<F>(&self, fut: F) -> async_executor::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Runs the executor on this thread until `until` ends.
    fn run_until(&self, until: impl Future<Output = ()> + Send, io: bool);
}

impl SmolExecutor for Arc<Executor<'static>> {
    const NAME: &'static str = "smol";
    const THREAD: &'static str = "smol-worker";

    fn make() -> Self {
        Arc::new(Executor::new())
    }

    fn spawn<F>(&self, fut: F) -> async_executor::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Executor::spawn(self, fut)
    }

    fn run_until(&self, until: impl Future<Output = ()> + Send, io: bool) {
        block_on_maybe_io(self.run(until), io);
    }
}

impl SmolExecutor for &'static StaticExecutor {
    const NAME: &'static str = "smol_static";
    const THREAD: &'static str = "smol-static-worker";

    fn make() -> Self {
        // Leaked: a few hundred bytes per runtime built, which the benches
        // build a handful of.
        Executor::new().leak()
    }

    fn spawn<F>(&self, fut: F) -> async_executor::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        StaticExecutor::spawn(self, fut)
    }

    fn run_until(&self, until: impl Future<Output = ()> + Send, io: bool) {
        block_on_maybe_io(self.run(until), io);
    }
}

/// `async_io::block_on` (the thread drives async-io's reactor and timers,
/// as `smol::spawn`'s global executor does) or futures-lite's.
fn block_on_maybe_io<T>(fut: impl Future<Output = T>, io: bool) -> T {
    if io {
        async_io::block_on(fut)
    } else {
        futures_lite::future::block_on(fut)
    }
}

/// A smol executor run by [`WORKERS`] threads, each calling
/// `block_on(ex.run(shutdown))`; dropping it closes the shutdown channel
/// and joins the threads.
#[derive(Debug)]
pub struct SmolRtOn<E> {
    ex: E,
    shutdown: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

/// smol's `async_executor::Executor` behind an `Arc`.
pub type SmolRt = SmolRtOn<Arc<Executor<'static>>>;
/// smol's leaked `StaticExecutor`.
pub type SmolStaticRt = SmolRtOn<&'static StaticExecutor>;

/// Spawns onto a smol executor.
#[derive(Debug, Clone)]
pub struct SmolSpawnerOn<E>(E);

/// Spawns onto a shared `async_executor::Executor`.
pub type SmolSpawner = SmolSpawnerOn<Arc<Executor<'static>>>;
/// Spawns onto a `&'static StaticExecutor`.
pub type SmolStaticSpawner = SmolSpawnerOn<&'static StaticExecutor>;

impl<E: SmolExecutor> Spawn for SmolSpawnerOn<E> {
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
        // smol has no reply channel of its own.
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

impl<E: SmolExecutor> SmolRtOn<E> {
    /// The same executor and threads, but every worker thread runs
    /// `async_io::block_on(ex.run(..))`, so the workers themselves drive
    /// async-io's reactor and timers (what `smol::spawn`'s global executor
    /// does), instead of leaving that to async-io's fallback thread.
    /// Used by the I/O benches (`tcp_echo`, `timers`, `ws_echo`).
    pub fn with_io() -> Self {
        Self::build(true)
    }

    fn build(io: bool) -> Self {
        let ex = E::make();
        let (shutdown, signal) = async_channel::bounded::<()>(1);
        let threads = (0..WORKERS)
            .map(|i| {
                let ex = ex.clone();
                let signal = signal.clone();
                thread::Builder::new()
                    .name(format!("{}-{i}", E::THREAD))
                    .spawn(move || {
                        let until = async move {
                            // Err once every sender is gone: that is the signal.
                            let _ = signal.recv().await;
                        };
                        ex.run_until(until, io);
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

impl<E: SmolExecutor> BenchRt for SmolRtOn<E> {
    const NAME: &'static str = E::NAME;
    type Spawner = SmolSpawnerOn<E>;

    fn new() -> Self {
        Self::build(false)
    }

    fn spawner(&self) -> SmolSpawnerOn<E> {
        SmolSpawnerOn(self.ex.clone())
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

impl<E> Drop for SmolRtOn<E> {
    fn drop(&mut self) {
        self.shutdown.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl<E: SmolExecutor> IoRt for SmolRtOn<E> {
    fn new_io() -> Self {
        Self::with_io()
    }

    async fn sleep_until(deadline: Instant) {
        async_io::Timer::at(deadline).await;
    }
}
