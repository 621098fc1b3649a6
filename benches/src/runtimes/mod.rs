//! The runtimes under comparison, each built with exactly [`WORKERS`]
//! worker threads and driven through the same small [`BenchRt`] / [`Spawn`]
//! traits, so each bench shape is written once, generically, and
//! monomorphised per runtime: the shapes cannot drift apart between
//! runtimes.
//!
//! * goro: [`GoroRt`] wraps `goro::Runtime` built with `maxprocs(WORKERS)`.
//! * tokio: [`TokioRt`] wraps a multi-thread runtime with `WORKERS` workers.
//! * smol: [`SmolRt`] owns an `async_executor::Executor` and `WORKERS` threads
//!   that each run `futures_lite::future::block_on(ex.run(shutdown))`; it stops
//!   and joins them on drop.
//! * smol, fast setup: [`SmolStaticRt`], the same threads running a leaked
//!   `async_executor::StaticExecutor` (`Executor::leak()`, the `static`
//!   feature), which keeps no slab of tasks behind a mutex.
//!
//! [`IoRt`] builds them with their reactors and timers on, for the I/O
//! benches; [`Offload`] is each one's blocking pool.

use std::future::Future;
use std::time::Instant;

mod goro_rt;
mod offload;
mod smol_rt;
mod tokio_rt;

pub use goro_rt::{GoroRt, GoroSpawner};
pub use offload::Offload;
pub use smol_rt::{
    SmolExecutor, SmolRt, SmolRtOn, SmolSpawner, SmolSpawnerOn, SmolStaticRt, SmolStaticSpawner,
};
pub use tokio_rt::{TokioRt, TokioSpawner};

/// Worker threads every runtime gets (the bench machine has 2 cores).
pub const WORKERS: usize = 2;

/// Which global allocator this build of the bench targets uses.
pub const ALLOCATOR: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else {
    "system"
};

/// A handle that tasks capture to spawn more tasks onto their own runtime,
/// plus the runtime's join and yield primitives.
pub trait Spawn: Clone + Send + Sync + 'static {
    /// The runtime's join handle for a task returning `T`.
    type Handle<T: Send + 'static>: Send + 'static;

    /// Spawns `fut`, keeping a handle to await it.
    fn spawn<F>(&self, fut: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `fut` and detaches it.
    fn spawn_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Awaits a handle; panics if the task failed.
    fn join<T: Send + 'static>(handle: Self::Handle<T>) -> impl Future<Output = T> + Send;

    /// The runtime's `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Sending half of the runtime's own single-reply channel (goro:
    /// `goro::sync::oneshot`; tokio: `tokio::sync::oneshot`; smol, which
    /// has none: `async_channel::bounded(1)`).
    type OneTx<T: Send + 'static>: Send + 'static;
    /// Receiving half of that channel.
    type OneRx<T: Send + 'static>: Send + 'static;

    /// A new single-reply channel.
    fn oneshot<T: Send + 'static>() -> (Self::OneTx<T>, Self::OneRx<T>);

    /// Sends the one reply; panics if the receiver is gone.
    fn send_one<T: Send + 'static>(tx: Self::OneTx<T>, value: T);

    /// Waits for the reply; panics if the sender was dropped without one.
    fn recv_one<T: Send + 'static>(rx: Self::OneRx<T>) -> impl Future<Output = T> + Send;
}

/// One runtime with [`WORKERS`] workers, as the benches drive it.
pub trait BenchRt: Sized {
    /// Criterion function name and table column: `goro`, `tokio`, `smol` or
    /// `smol_static`.
    const NAME: &'static str;
    /// What tasks use to spawn onto this runtime.
    type Spawner: Spawn;

    /// Builds the runtime with [`WORKERS`] worker threads.
    fn new() -> Self;

    /// A spawner for use inside tasks and inside [`BenchRt::block_on`].
    fn spawner(&self) -> Self::Spawner;

    /// Runs `fut` to completion on the calling thread.
    fn block_on<F: Future>(&self, fut: F) -> F::Output;

    /// Spawns from outside the runtime (the bench thread): a "remote" spawn.
    fn spawn_remote<F>(&self, fut: F) -> <Self::Spawner as Spawn>::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// A remote spawn whose task is detached.
    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static;
}

/// A runtime as the I/O benches build it: reactor and timers enabled,
/// [`crate::WORKERS`] workers.
pub trait IoRt: BenchRt {
    /// Builds the runtime with I/O and timers (goro: [`BenchRt::new`];
    /// tokio: [`TokioRt::with_io`]; smol: [`SmolRt::with_io`]).
    fn new_io() -> Self;

    /// The runtime's own `sleep_until`.
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static;
}
