//! [`JoinSet`]: spawn many tasks, collect their results as they finish.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use goro_lock::lock;

use crate::{JoinError, JoinHandle, TaskId};

/// A set of tasks whose results are collected in the order they finish,
/// like tokio's `JoinSet`. Go has no such type: there you would send each
/// result on a channel and count them, which also works here (see
/// [`chan`](crate::chan)).
///
/// - [`spawn`](JoinSet::spawn) starts a task on the current runtime, as
///   [`go`](crate::go) does.
/// - [`join_next`](JoinSet::join_next) waits for whichever task finishes
///   next and returns its result, or `None` when the set is empty. A panic
///   or an abort comes back as a [`JoinError`], and the set carries on.
/// - [`abort_all`](JoinSet::abort_all) cancels every task; dropping the set
///   does too (Go has no such thing: a goroutine cannot be killed).
///
/// Each finished task costs `join_next` O(1): the set is not scanned.
///
/// For "the first error cancels the rest" without values, use
/// [`TaskGroup`](crate::TaskGroup); for values with that rule, give each
/// task a [`CancelToken`](crate::CancelToken) and cancel it on the first
/// `Err` that `join_next` returns (second example).
///
/// # Examples
///
/// ```
/// use goro::JoinSet;
///
/// goro::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u64 {
///         set.spawn(async move { i * i });
///     }
///     assert_eq!(set.len(), 10);
///     let mut sum = 0;
///     while let Some(res) = set.join_next().await {
///         sum += res.unwrap();
///     }
///     assert_eq!(sum, 285);
/// });
/// ```
///
/// Values, with the first error stopping the rest:
///
/// ```
/// use goro::{CancelToken, JoinSet};
///
/// let outcome = goro::block_on(async {
///     let token = CancelToken::new();
///     let mut set = JoinSet::new();
///     for i in 0..20u32 {
///         let token = token.clone();
///         set.spawn(async move {
///             // Stops at its next `.await` once the token is cancelled.
///             token
///                 .run_until_cancelled(async move {
///                     if i == 7 { Err(format!("job {i} failed")) } else { Ok(i) }
///                 })
///                 .await
///         });
///     }
///     let mut values = Vec::new();
///     while let Some(res) = set.join_next().await {
///         match res.unwrap() {
///             Some(Ok(v)) => values.push(v),
///             Some(Err(e)) => {
///                 token.cancel();
///                 set.abort_all();
///                 return Err(e);
///             }
///             None => {} // cancelled
///         }
///     }
///     Ok(values)
/// });
/// assert_eq!(outcome, Err("job 7 failed".to_string()));
/// ```
pub struct JoinSet<T> {
    /// The tasks, by slot; `None` is a free slot (in `free`).
    slots: Vec<Option<Entry<T>>>,
    free: Vec<usize>,
    len: usize,
    shared: Arc<Shared>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    slot_waker: Arc<SlotWaker>,
    /// `slot_waker` as a `Waker`, made once.
    waker: Waker,
}

/// What the tasks' wakers share with the set.
struct Shared {
    /// Slots whose task woke the set, to be polled by `join_next`.
    ready: Mutex<VecDeque<usize>>,
    /// The task waiting in `join_next`.
    waiter: Mutex<Option<Waker>>,
}

/// The waker `join_next` polls one task's `JoinHandle` with: waking it
/// queues the slot and wakes the set's waiter.
struct SlotWaker {
    slot: usize,
    /// Already in `ready` (saves queueing a slot twice).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        lock(&self.shared.ready).push_back(self.slot);
        if let Some(w) = lock(&self.shared.waiter).take() {
            w.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = goro::JoinSet::<()>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            shared: Arc::new(Shared {
                ready: Mutex::new(VecDeque::new()),
                waiter: Mutex::new(None),
            }),
        }
    }

    /// The number of tasks in the set: spawned and not yet returned by
    /// `join_next`, finished or not.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = goro::JoinSet::new();
    /// set.spawn(async { 1 });
    /// assert_eq!(set.len(), 1);
    /// goro::block_on(set.join_next());
    /// assert_eq!(set.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set has no tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(goro::JoinSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a task spawned elsewhere (with [`go`](crate::go),
    /// [`Runtime::spawn`](crate::Runtime::spawn), ...) to the set.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::new().unwrap();
    /// let mut set = goro::JoinSet::new();
    /// set.insert(rt.spawn(async { "on rt" }));
    /// assert_eq!(rt.block_on(set.join_next()).unwrap().unwrap(), "on rt");
    /// ```
    pub fn insert(&mut self, handle: JoinHandle<T>) -> TaskId {
        let id = handle.id();
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let waker = Arc::new(SlotWaker {
            slot,
            queued: AtomicBool::new(false),
            shared: self.shared.clone(),
        });
        // A new task has not been polled with our waker yet: queue it so
        // that `join_next` polls it once and registers the waker.
        waker.wake_by_ref();
        self.slots[slot] = Some(Entry {
            handle,
            waker: Waker::from(waker.clone()),
            slot_waker: waker,
        });
        self.len += 1;
        id
    }

    /// Cancels every task of the set. They stay in the set: `join_next`
    /// returns each one's result, a [`JoinError::is_cancelled`] for those
    /// that had not finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = goro::JoinSet::new();
    /// set.spawn(std::future::pending::<()>());
    /// set.abort_all();
    /// let err = goro::block_on(set.join_next()).unwrap().unwrap_err();
    /// assert!(err.is_cancelled());
    /// ```
    pub fn abort_all(&mut self) {
        for e in self.slots.iter().flatten() {
            e.handle.abort();
        }
    }

    /// Cancels every task and waits until each has ended, leaving the set
    /// empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = goro::JoinSet::new();
    /// for _ in 0..3 {
    ///     set.spawn(std::future::pending::<()>());
    /// }
    /// goro::block_on(set.shutdown());
    /// assert!(set.is_empty());
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for the next task to finish and returns its result: `None`
    /// when the set is empty. Cancel-safe: dropping the future loses no
    /// result.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::new();
    ///     set.spawn(async { goro::time::sleep(Duration::from_millis(50)).await; "slow" });
    ///     set.spawn(async { "fast" });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "fast");
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "slow");
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next(cx))
            .await
            .map(|r| r.map(|(_, v)| v))
    }

    /// Like [`join_next`](JoinSet::join_next), with the id of the task that
    /// finished (as [`insert`](JoinSet::insert) and
    /// [`spawn`](JoinSet::spawn) returned it).
    ///
    /// # Examples
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::new();
    ///     let id = set.spawn(async { 5 });
    ///     assert_eq!(set.join_next_with_id().await.unwrap().unwrap(), (id, 5));
    /// });
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Returns the result of a task that has finished, without waiting:
    /// `None` when none has (or the set is empty).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = goro::JoinSet::<()>::new();
    /// set.spawn(std::future::pending());
    /// assert!(set.try_join_next().is_none());
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_join_next(&mut cx) {
            Poll::Ready(r) => r.map(|r| r.map(|(_, v)| v)),
            Poll::Pending => None,
        }
    }

    /// Waits for every task and returns their outputs, in the order they
    /// finished.
    ///
    /// # Panics
    /// Resumes the panic of a task that panicked, and panics if a task was
    /// cancelled: use [`join_next`](JoinSet::join_next) to handle those.
    ///
    /// # Examples
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::new();
    ///     for i in 0..4 {
    ///         set.spawn(async move { i });
    ///     }
    ///     let mut all = set.join_all().await;
    ///     all.sort();
    ///     assert_eq!(all, [0, 1, 2, 3]);
    /// });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(r) = self.join_next().await {
            match r {
                Ok(v) => out.push(v),
                Err(e) => match e.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(e) => panic!("goro::JoinSet::join_all: {e}"),
                },
            }
        }
        out
    }

    /// Polls for the next finished task; see [`join_next`](JoinSet::join_next).
    pub fn poll_join_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(TaskId, T), JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        // Register first, so that a wake between draining `ready` and
        // returning `Pending` is not lost.
        *lock(&self.shared.waiter) = Some(cx.waker().clone());
        loop {
            let Some(slot) = lock(&self.shared.ready).pop_front() else {
                crate::note_wait(crate::WaitReason::Join);
                return Poll::Pending;
            };
            let Some(entry) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
                continue; // a stale wake of a slot since freed
            };
            // Clear `queued` before the poll: a wake during or after it
            // queues the slot again.
            entry.slot_waker.queued.store(false, Ordering::Release);
            let mut task_cx = Context::from_waker(&entry.waker);
            if let Poll::Ready(res) = Pin::new(&mut entry.handle).poll(&mut task_cx) {
                let id = entry.handle.id();
                self.slots[slot] = None;
                self.free.push(slot);
                self.len -= 1;
                lock(&self.shared.waiter).take();
                return Poll::Ready(Some(res.map(|v| (id, v))));
            }
        }
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` as a task of the set, on the current runtime (else
    /// the global one) as [`go`](crate::go) does, and returns its id.
    ///
    /// # Examples
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> TaskId
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::go(future))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    /// Cancels every task still in the set.
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
