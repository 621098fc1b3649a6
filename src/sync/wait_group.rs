//! [`WaitGroup`]: wait for a collection of tasks to finish, as Go's
//! `sync.WaitGroup`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

use event_listener::{Event, Listener};

use crate::JoinHandle;

/// Waits for a number of tasks to finish, as Go's `sync.WaitGroup`.
///
/// [`add`](WaitGroup::add) raises the counter, [`done`](WaitGroup::done)
/// lowers it, and [`wait`](WaitGroup::wait) completes once it is zero. As in
/// Go:
///
/// - waiting on a counter that is already zero returns at once;
/// - the counter going below zero panics (`done` called too often);
/// - a group is reusable: once a wait has returned, `add` starts a new round.
///
/// Unlike Go's, it is a cheap handle: clones share one counter, so move a
/// clone into each task instead of passing a pointer. [`go`](WaitGroup::go)
/// (Go 1.25's `wg.Go`) spawns a task and counts it in one step, and its
/// `done` runs even if the task panics or is cancelled.
///
/// `wait` returning means every `done` has run, not that the tasks have
/// ended: [`goro::stats`](crate::stats)`().tasks` may still count them for
/// a moment (as Go's `NumGoroutine` may). Await their
/// [`JoinHandle`]s where you need them gone.
///
/// # Examples
///
/// ```
/// use goro::sync::WaitGroup;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// goro::block_on(async {
///     let wg = WaitGroup::new();
///     let n = Arc::new(AtomicUsize::new(0));
///     for _ in 0..100 {
///         wg.add(1);
///         let (wg, n) = (wg.clone(), n.clone());
///         goro::go(async move {
///             n.fetch_add(1, Ordering::Relaxed);
///             wg.done();
///         });
///     }
///     wg.wait().await;
///     assert_eq!(n.load(Ordering::Relaxed), 100);
/// });
/// ```
#[derive(Clone, Default)]
pub struct WaitGroup {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    count: AtomicIsize,
    zero: Event,
}

impl WaitGroup {
    /// A group with a zero counter.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// assert_eq!(wg.count(), 0);
    /// goro::block_on(wg.wait()); // zero: returns at once
    /// ```
    pub fn new() -> WaitGroup {
        WaitGroup::default()
    }

    /// Adds `delta`, which may be negative, to the counter (Go's
    /// `wg.Add(delta)`). When it reaches zero every waiter is released.
    ///
    /// # Panics
    /// When the counter would go below zero, as Go's
    /// "sync: negative WaitGroup counter". The counter is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(3);
    /// wg.add(-2);
    /// assert_eq!(wg.count(), 1);
    /// ```
    #[track_caller]
    pub fn add(&self, delta: isize) {
        let mut cur = self.inner.count.load(Ordering::Acquire);
        let new = loop {
            let new = match cur.checked_add(delta) {
                Some(n) if n >= 0 => n,
                _ => panic!("goro: negative WaitGroup counter ({cur} {delta:+})"),
            };
            match self.inner.count.compare_exchange_weak(
                cur,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break new,
                Err(actual) => cur = actual,
            }
        };
        if new == 0 && delta != 0 {
            self.inner.zero.notify(usize::MAX);
        }
    }

    /// Lowers the counter by one (Go's `wg.Done()`).
    ///
    /// # Panics
    /// When the counter is already zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// assert_eq!(wg.count(), 0);
    /// ```
    ///
    /// One `done` too many panics, as in Go:
    ///
    /// ```should_panic
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.done();
    /// ```
    #[track_caller]
    pub fn done(&self) {
        self.add(-1);
    }

    /// The counter now: a snapshot that can change at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(2);
    /// assert_eq!(wg.count(), 2);
    /// ```
    pub fn count(&self) -> usize {
        // Never negative: `add` refuses to take it below zero.
        self.inner.count.load(Ordering::Acquire).unsigned_abs()
    }

    /// Waits until the counter is zero (Go's `wg.Wait()`); at once if it is.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(1);
    /// let w = wg.clone();
    /// goro::go(async move { w.done() });
    /// goro::block_on(wg.wait());
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub async fn wait(&self) {
        while let Some(listener) = self.listen_unless_zero() {
            crate::wait::Noting::new(crate::WaitReason::WaitGroup, listener).await;
        }
    }

    /// Blocks the calling OS thread until the counter is zero, for code
    /// outside any task. Inside a task, `.await` [`wait`](WaitGroup::wait)
    /// instead: this would block a worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.go(async {});
    /// wg.wait_blocking();
    /// ```
    pub fn wait_blocking(&self) {
        while let Some(listener) = self.listen_unless_zero() {
            listener.wait();
        }
    }

    /// A listener for the counter's next zero, or `None` if it is zero now.
    fn listen_unless_zero(&self) -> Option<event_listener::EventListener> {
        if self.is_zero() {
            return None;
        }
        let listener = self.inner.zero.listen();
        // Checked again after listening, so a `done` in between is seen.
        if self.is_zero() { None } else { Some(listener) }
    }

    /// Spawns `future` as a task counted by this group: `add(1)` now, and
    /// `done()` when the task ends, whether it completes, panics or is
    /// cancelled (Go 1.25's `wg.Go(f)`).
    ///
    /// # Examples
    ///
    /// ```
    /// goro::block_on(async {
    ///     let wg = goro::sync::WaitGroup::new();
    ///     let h = wg.go(async { 1 + 1 });
    ///     wg.wait().await;
    ///     assert_eq!(h.await.unwrap(), 2);
    /// });
    /// ```
    #[track_caller]
    pub fn go<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.add(1);
        let guard = DoneOnDrop(self.clone());
        crate::go(async move {
            let _guard = guard;
            future.await
        })
    }

    fn is_zero(&self) -> bool {
        self.inner.count.load(Ordering::Acquire) == 0
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// Calls `done` when dropped: when the task's future finishes or is dropped.
struct DoneOnDrop(WaitGroup);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        self.0.done();
    }
}
