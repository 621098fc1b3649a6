//! Each runtime's blocking pool, as the offload benches drive it.

use std::future::Future;

use super::{BenchRt, GoroRt, SmolRt, TokioRt};

/// A runtime's way of running a blocking closure on its blocking pool:
/// `goro::unblock` (goro's global `goro_blocking::Pool`),
/// `tokio::runtime::Handle::spawn_blocking` and `blocking::unblock` (smol).
///
/// Every submission is eager: the closure is queued when [`Offload::submit`]
/// returns, whether or not the handle is ever awaited. Submission works from
/// any thread (a task, `block_on` or a plain OS thread).
pub trait Offload: BenchRt {
    /// What submits: `()` for the process-wide pools of goro and smol,
    /// tokio's runtime handle.
    type Submitter: Clone + Send + Sync + 'static;
    /// The handle of one offloaded closure returning `T`.
    type Blocking<T: Send + 'static>: Send + 'static;

    /// The submitter for this runtime.
    fn submitter(&self) -> Self::Submitter;

    /// Queues `f` on the blocking pool.
    fn submit<F, T>(s: &Self::Submitter, f: F) -> Self::Blocking<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Awaits an offloaded closure; panics if it failed.
    fn join_blocking<T: Send + 'static>(h: Self::Blocking<T>) -> impl Future<Output = T> + Send;

    /// The pool's own record of its most threads at once, where it keeps
    /// one (goro only).
    fn pool_peak_threads() -> Option<usize> {
        None
    }

    /// Jobs the runtime's idle workers ran instead of the pool's threads
    /// (goro's `Stats::blocking_jobs_helped`), where it counts them.
    fn jobs_helped(&self) -> Option<u64> {
        None
    }
}

impl Offload for GoroRt {
    type Submitter = ();
    type Blocking<T: Send + 'static> = goro::JoinHandle<T>;

    fn submitter(&self) {}

    fn submit<F, T>(_: &(), f: F) -> goro::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        goro::unblock(f)
    }

    async fn join_blocking<T: Send + 'static>(h: goro::JoinHandle<T>) -> T {
        match h.await {
            Ok(v) => v,
            Err(_) => panic!("goro::unblock closure failed"),
        }
    }

    fn pool_peak_threads() -> Option<usize> {
        Some(goro_blocking::Pool::global().peak_threads())
    }

    fn jobs_helped(&self) -> Option<u64> {
        Some(self.runtime().handle().stats().blocking_jobs_helped)
    }
}

impl Offload for TokioRt {
    type Submitter = tokio::runtime::Handle;
    type Blocking<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn submitter(&self) -> tokio::runtime::Handle {
        self.rt.handle().clone()
    }

    fn submit<F, T>(s: &tokio::runtime::Handle, f: F) -> tokio::task::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        s.spawn_blocking(f)
    }

    async fn join_blocking<T: Send + 'static>(h: tokio::task::JoinHandle<T>) -> T {
        h.await.expect("tokio spawn_blocking closure failed")
    }
}

impl Offload for SmolRt {
    type Submitter = ();
    type Blocking<T: Send + 'static> = blocking::Task<T>;

    fn submitter(&self) {}

    fn submit<F, T>(_: &(), f: F) -> blocking::Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        blocking::unblock(f)
    }

    fn join_blocking<T: Send + 'static>(h: blocking::Task<T>) -> impl Future<Output = T> + Send {
        h
    }
}
