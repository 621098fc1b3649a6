//! [`TaskGroup`], Go's `errgroup.Group`: spawn many, wait for all, the
//! first error cancels the rest.

use std::fmt;
use std::future::Future;
use std::panic::resume_unwind;
use std::pin::pin;
use std::sync::{Arc, Mutex};

mod admission;

use crate::{CancelToken, JoinHandle};
use admission::Admission;

/// A group of tasks that succeed or fail together, as Go's
/// `errgroup.WithContext`.
///
/// Each task returns `Result<(), E>`. [`wait`](TaskGroup::wait) waits for
/// all of them and returns the first error, by time of failure. The first
/// error (or panic) also cancels the group's [`token`](TaskGroup::token),
/// which stops every other task at its next `.await`: its future is dropped
/// without being polled again. By the time `wait` returns, every task has
/// ended and its future has been dropped.
///
/// - **No tasks:** `wait` returns `Ok(())` at once.
/// - **Panics:** a task that panics counts as a failure (it cancels the
///   rest), and `wait` resumes the panic on its caller once every task has
///   ended, as Go's errgroup re-panics in `Wait`. A panic outranks an error.
/// - **Limit:** [`with_limit(n)`](TaskGroup::with_limit) (errgroup's
///   `SetLimit`) lets at most `n` tasks run their futures at once, and
///   starts them in spawn order, as errgroup does. Unlike Go's `g.Go`,
///   [`spawn`](TaskGroup::spawn) never blocks: tasks over the limit are
///   created and wait for their turn, at the cost of one small task each.
///   To bound how many exist, wait on a
///   [`Semaphore`](crate::sync::Semaphore) before spawning.
/// - **Values:** tasks return `Result<(), E>`. To collect values, use a
///   [`JoinSet`](crate::JoinSet) (its docs show the first error cancelling
///   the rest), or send them on a [`chan`](crate::chan) from the group's
///   tasks.
/// - **Drop:** dropping a group without waiting cancels its tasks (Go has no
///   such thing; Rust has no `defer g.Wait()`).
/// - Cancellation is cooperative: a task that never reaches an `.await`
///   keeps running until it does.
///
/// # Examples
///
/// ```
/// use goro::TaskGroup;
///
/// let result = goro::block_on(async {
///     let mut g = TaskGroup::new();
///     for i in 0..10 {
///         g.spawn(async move {
///             if i == 3 { Err(format!("job {i} failed")) } else { Ok(()) }
///         });
///     }
///     g.wait().await
/// });
/// assert_eq!(result, Err("job 3 failed".to_string()));
/// ```
///
/// A limit, like `g.SetLimit(2)`:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// goro::block_on(async {
///     let mut g = goro::TaskGroup::<()>::new().with_limit(2);
///     let done = Arc::new(AtomicUsize::new(0));
///     for _ in 0..20 {
///         let done = done.clone();
///         g.spawn(async move {
///             done.fetch_add(1, Ordering::Relaxed);
///             Ok(())
///         });
///     }
///     g.wait().await.unwrap();
///     assert_eq!(done.load(Ordering::Relaxed), 20);
/// });
/// ```
pub struct TaskGroup<E> {
    token: CancelToken,
    limit: Option<Arc<Admission>>,
    first_error: Arc<Mutex<Option<E>>>,
    handles: Vec<JoinHandle<()>>,
}

impl<E: Send + 'static> TaskGroup<E> {
    /// An empty group with no limit and a fresh token.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = goro::TaskGroup::<std::io::Error>::new();
    /// assert!(goro::block_on(g.wait()).is_ok()); // zero tasks: Ok at once
    /// ```
    pub fn new() -> TaskGroup<E> {
        TaskGroup::with_token(&CancelToken::new())
    }

    /// An empty group whose token is a [`child`](CancelToken::child) of
    /// `parent`: cancelling `parent` cancels the group's tasks, while the
    /// group's first error does not reach `parent` (Go's
    /// `errgroup.WithContext(ctx)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let parent = goro::CancelToken::new();
    /// let mut g = goro::TaskGroup::<()>::with_token(&parent);
    /// g.spawn(std::future::pending());
    /// parent.cancel();
    /// assert_eq!(goro::block_on(g.wait()), Ok(()));
    /// ```
    pub fn with_token(parent: &CancelToken) -> TaskGroup<E> {
        TaskGroup {
            token: parent.child(),
            limit: None,
            first_error: Arc::new(Mutex::new(None)),
            handles: Vec::new(),
        }
    }

    /// Lets at most `n` of the group's tasks run their futures at once
    /// (errgroup's `SetLimit(n)`), started in the order they were spawned.
    /// Applies to tasks spawned after this call.
    ///
    /// # Panics
    /// When `n` is 0: no task could ever run.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = goro::TaskGroup::<()>::new().with_limit(10);
    /// # drop(g);
    /// ```
    #[track_caller]
    pub fn with_limit(mut self, n: usize) -> TaskGroup<E> {
        assert!(n > 0, "goro: TaskGroup limit must be at least 1");
        self.limit = Some(Arc::new(Admission::new(n)));
        self
    }

    /// The group's token: cancelled by the first error or panic, when
    /// [`wait`](TaskGroup::wait) returns, or when the group is dropped.
    /// Hand it to work that should stop with the group (Go's `ctx` from
    /// `errgroup.WithContext`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = goro::TaskGroup::new();
    /// let ctx = g.token();
    /// g.spawn(async { Err("boom") });
    /// goro::block_on(ctx.cancelled()); // the error cancelled it
    /// assert_eq!(goro::block_on(g.wait()), Err("boom"));
    /// ```
    pub fn token(&self) -> CancelToken {
        self.token.clone()
    }

    /// The number of tasks spawned and not yet waited for.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = goro::TaskGroup::<()>::new();
    /// g.spawn(async { Ok(()) });
    /// assert_eq!(g.len(), 1);
    /// # goro::block_on(g.wait()).unwrap();
    /// ```
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether no task has been spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(goro::TaskGroup::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Spawns `future` as a task of the group (errgroup's `g.Go(f)`), on the
    /// current runtime as [`go`](crate::go) does. Never waits, even over the
    /// limit. If the group is already cancelled, the future never runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = goro::TaskGroup::<String>::new();
    /// g.spawn(async { Ok(()) });
    /// assert_eq!(goro::block_on(g.wait()), Ok(()));
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let token = self.token.clone();
        // The place in line is taken here, in spawn order, not when the
        // task first runs.
        let ticket = self.limit.as_ref().map(|a| a.ticket());
        let first_error = self.first_error.clone();
        self.handles.push(crate::go(async move {
            let _slot = match ticket {
                Some(t) => match token.run_until_cancelled(t.admit()).await {
                    Some(slot) => Some(slot),
                    None => return,
                },
                None => None,
            };
            let out = token.run_until_cancelled(cancel_on_panic(&token, future));
            if let Some(Err(e)) = out.await {
                let mut slot = goro_lock::lock(&first_error);
                if slot.is_none() {
                    *slot = Some(e);
                }
                drop(slot);
                token.cancel();
            }
        }));
    }

    /// Waits for every task, then returns the first error (Go's
    /// `g.Wait()`), or `Ok(())` when all succeeded or there were none.
    /// Cancels the group's token on return.
    ///
    /// # Panics
    /// Resumes the panic of a task that panicked, after every task ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = goro::TaskGroup::new();
    /// g.spawn(async { Err(1) });
    /// g.spawn(async { Err(2) });
    /// let e = goro::block_on(g.wait()).unwrap_err();
    /// assert!(e == 1 || e == 2);
    /// ```
    pub async fn wait(mut self) -> Result<(), E> {
        let mut panic = None;
        for h in std::mem::take(&mut self.handles) {
            if self.token.is_cancelled() {
                // Tasks not started yet are dropped unpolled.
                h.abort();
            }
            match h.await {
                Ok(()) => {}
                Err(e) => {
                    if let Ok(payload) = e.try_into_panic() {
                        panic.get_or_insert(payload);
                    }
                    // Else cancelled: aborted above, or its runtime shut down.
                }
            }
        }
        self.token.cancel();
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
        let first = goro_lock::lock(&self.first_error).take();
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Polls `future`, cancelling `token` if a poll panics (the panic then goes
/// on to the task's `JoinHandle`).
async fn cancel_on_panic<F: Future>(token: &CancelToken, future: F) -> F::Output {
    struct Armed<'a>(&'a CancelToken);
    impl Drop for Armed<'_> {
        fn drop(&mut self) {
            self.0.cancel();
        }
    }
    let mut future = pin!(future);
    std::future::poll_fn(|cx| {
        let armed = Armed(token);
        let out = future.as_mut().poll(cx);
        std::mem::forget(armed);
        out
    })
    .await
}

impl<E: Send + 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("tasks", &self.handles.len())
            .field("limit", &self.limit.is_some())
            .field("cancelled", &self.token.is_cancelled())
            .finish()
    }
}
