//! [`CancelToken`], cancellation that reads like Go's `context.Context`.
//!
//! | Go | goro |
//! |---|---|
//! | `ctx, cancel := context.WithCancel(parent)` | `let ctx = parent.child();` then `ctx.cancel()` |
//! | `defer cancel()` | `let _guard = ctx.clone().drop_guard();` |
//! | `<-ctx.Done()` | `ctx.cancelled().await` |
//! | `ctx.Err() != nil` | `ctx.is_cancelled()` |
//! | `context.WithTimeout(parent, d)` | `let ctx = parent.child(); ctx.cancel_after(d);` |
//! | `context.WithDeadline(parent, t)` | `let ctx = parent.child(); ctx.cancel_at(t);` |
//! | `context.Background()` | `CancelToken::new()` |
//!
//! A token carries no values (pass those as arguments) and does not tell a
//! deadline from a cancel (no `ctx.Err()` kinds, no `ctx.Deadline()`).
//!
//! # Deadlines
//!
//! [`CancelToken::cancel_after`] and [`CancelToken::cancel_at`] are timers
//! of [`goro::time`](crate::time), in the reactor's timer wheel: never
//! early, exact to the kernel's timer, and no thread or task of their own (the
//! timer's waker cancels the token). As for any goro timer, they fire while
//! a goro runtime runs (its workers and monitor fire due timers): in a
//! program with no runtime running, a deadline fires once one starts.
//! Cancelling the token, or dropping its last clone, removes its timers.
//!
//! For one operation, [`goro::time::timeout`](crate::time::timeout) is
//! simpler than a token.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{self, AtomicBool};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use goro_lock::lock;

use event_listener::{Event, EventListener};

use crate::time::Sleep;

/// A cancellation signal shared by a tree of tasks, like Go's
/// `context.Context` with its `cancel` function.
///
/// Clones share one signal. [`child`](CancelToken::child) makes a token that
/// is cancelled when its parent is, but whose own cancellation does not reach
/// the parent or its siblings. Cancelling is idempotent and wakes every
/// [`cancelled`](CancelToken::cancelled) future at once. A task reacts to
/// cancellation only at an `.await` (or where it checks
/// [`is_cancelled`](CancelToken::is_cancelled)): like Go, cancellation is
/// cooperative.
///
/// # Examples
///
/// ```
/// use goro::CancelToken;
///
/// let root = CancelToken::new();
/// let worker = root.child();
/// let h = goro::go({
///     let worker = worker.clone();
///     async move {
///         worker.cancelled().await; // <-ctx.Done()
///         "stopped"
///     }
/// });
/// root.cancel(); // reaches every child
/// assert_eq!(goro::block_on(h).unwrap(), "stopped");
/// assert!(worker.is_cancelled());
/// ```
#[derive(Clone, Default)]
pub struct CancelToken {
    node: Arc<Node>,
}

#[derive(Default)]
struct Node {
    cancelled: AtomicBool,
    event: Event,
    /// Live children; dead ones are pruned as the list grows.
    children: Mutex<Children>,
    /// Pending deadlines: reactor timers whose waker cancels this node.
    /// Dropping one (on cancel, or with the node) removes its timer.
    deadlines: Mutex<Vec<Sleep>>,
}

#[derive(Default)]
struct Children {
    list: Vec<Weak<Node>>,
    /// Prune dead entries when the list reaches this length.
    prune_at: usize,
}

impl Node {
    fn is_cancelled(&self) -> bool {
        self.cancelled.load(atomic::Ordering::Acquire)
    }
}

/// Cancels `root` and, without recursion, everything below it.
fn cancel_tree(root: Arc<Node>) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.cancelled.swap(true, atomic::Ordering::AcqRel) {
            continue; // whoever cancelled it first handles its children
        }
        node.event.notify(usize::MAX);
        let deadlines = std::mem::take(&mut *lock(&node.deadlines));
        drop(deadlines);
        let children = std::mem::take(&mut lock(&node.children).list);
        stack.extend(children.iter().filter_map(Weak::upgrade));
    }
}

impl CancelToken {
    /// A new root token, not cancelled (Go's `context.Background()` with a
    /// cancel function).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = goro::CancelToken::new();
    /// assert!(!t.is_cancelled());
    /// ```
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// A child token: cancelled when `self` is (at once, if `self` already
    /// is), while cancelling the child leaves `self` alone. Go's
    /// `context.WithCancel(parent)`.
    ///
    /// The parent keeps only a weak reference: a dropped child costs nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let parent = goro::CancelToken::new();
    /// let child = parent.child();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// let other = parent.child();
    /// parent.cancel();
    /// assert!(other.is_cancelled());
    /// ```
    pub fn child(&self) -> CancelToken {
        let child = CancelToken::new();
        let mut children = lock(&self.node.children);
        // `cancel_tree` sets the flag before it takes this lock to drain the
        // list, so under the lock either the flag is visible or the drain
        // has not happened yet and will find the new child.
        if self.node.is_cancelled() {
            drop(children);
            child.cancel();
            return child;
        }
        if children.list.len() >= children.prune_at {
            children.list.retain(|w| w.strong_count() > 0);
            children.prune_at = (children.list.len() * 2).max(8);
        }
        children.list.push(Arc::downgrade(&child.node));
        child
    }

    /// Cancels this token and all its descendants, and wakes everything
    /// waiting in [`cancelled`](CancelToken::cancelled). Doing it again does
    /// nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = goro::CancelToken::new();
    /// t.cancel();
    /// t.cancel();
    /// assert!(t.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        cancel_tree(self.node.clone());
    }

    /// Whether this token has been cancelled (Go's `ctx.Err() != nil`).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = goro::CancelToken::new();
    /// assert!(!t.is_cancelled());
    /// t.cancel();
    /// assert!(t.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }

    /// A future that completes when this token is cancelled (Go's
    /// `<-ctx.Done()`). It owns a reference to the token, so it can be moved
    /// into a task or raced in [`select!`](crate::select!).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = goro::CancelToken::new();
    /// let done = t.cancelled();
    /// t.cancel();
    /// goro::block_on(done);
    /// ```
    pub fn cancelled(&self) -> Cancelled {
        Cancelled {
            node: self.node.clone(),
            listener: None,
        }
    }

    /// Runs `future` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`, and `future` is dropped). If the token is already
    /// cancelled, `future` is not polled at all.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = goro::CancelToken::new();
    /// let out = goro::block_on(t.run_until_cancelled(async { 5 }));
    /// assert_eq!(out, Some(5));
    /// t.cancel();
    /// let out = goro::block_on(t.run_until_cancelled(std::future::pending::<()>()));
    /// assert_eq!(out, None);
    /// ```
    pub async fn run_until_cancelled<F: Future>(&self, future: F) -> Option<F::Output> {
        // Biased: cancellation is checked first on every poll.
        futures_lite::future::or(
            async {
                self.cancelled().await;
                None
            },
            async { Some(future.await) },
        )
        .await
    }

    /// Cancels this token when `timeout` has passed (Go's
    /// `context.WithTimeout`, applied to this token: call it on a
    /// [`child`](CancelToken::child) to leave the parent alone).
    ///
    /// A timer of [`goro::time`](crate::time), with no thread or task of
    /// its own; see the [module docs](crate::cancel#deadlines).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let ctx = goro::CancelToken::new().child();
    /// let start = Instant::now();
    /// ctx.cancel_after(Duration::from_millis(20));
    /// goro::block_on(ctx.cancelled());
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// ```
    pub fn cancel_after(&self, timeout: Duration) {
        // A deadline further away than the clock can say is never.
        if let Some(at) = Instant::now().checked_add(timeout) {
            self.cancel_at(at);
        }
    }

    /// Cancels this token at `deadline` (Go's `context.WithDeadline`); at
    /// once if the deadline has passed. A timer of
    /// [`goro::time`](crate::time); see the
    /// [module docs](crate::cancel#deadlines).
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = goro::CancelToken::new();
    /// ctx.cancel_at(std::time::Instant::now());
    /// assert!(ctx.is_cancelled());
    /// ```
    pub fn cancel_at(&self, deadline: Instant) {
        if self.is_cancelled() {
            return;
        }
        if deadline <= Instant::now() {
            self.cancel();
            return;
        }
        let mut timer = crate::time::sleep_until(deadline);
        let waker = Waker::from(Arc::new(DeadlineWaker(Arc::downgrade(&self.node))));
        // Registers the timer with the reactor, the waker as its waker.
        if Pin::new(&mut timer)
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            self.cancel();
            return;
        }
        lock(&self.node.deadlines).push(timer);
        // `cancel_tree` sets the flag before it takes the deadlines: under
        // a cancel racing with us, either it took our timer or we see the
        // flag and drop the timer here.
        if self.node.is_cancelled() {
            let late = std::mem::take(&mut *lock(&self.node.deadlines));
            drop(late);
        }
    }

    /// A guard that cancels this token when dropped: Go's `defer cancel()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = goro::CancelToken::new();
    /// {
    ///     let _guard = ctx.clone().drop_guard();
    /// }
    /// assert!(ctx.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The future returned by [`CancelToken::cancelled`]: completes when the
/// token is cancelled.
///
/// # Examples
///
/// ```
/// let t = goro::CancelToken::new();
/// let h = goro::go(t.cancelled());
/// t.cancel();
/// goro::block_on(h).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Cancelled {
    node: Arc<Node>,
    listener: Option<EventListener>,
}

impl Future for Cancelled {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.node.is_cancelled() {
                self.listener = None;
                return Poll::Ready(());
            }
            match &mut self.listener {
                // Listen, then check the flag again (the loop), so that a
                // cancel between the check and `listen` is not missed.
                None => self.listener = Some(self.node.event.listen()),
                Some(l) => {
                    if Pin::new(l).poll(cx).is_pending() {
                        crate::note_wait(crate::WaitReason::Cancel);
                        return Poll::Pending;
                    }
                    self.listener = None;
                }
            }
        }
    }
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled")
            .field("cancelled", &self.node.is_cancelled())
            .finish()
    }
}

/// Cancels its token when dropped; see [`CancelToken::drop_guard`].
///
/// # Examples
///
/// ```
/// let ctx = goro::CancelToken::new();
/// let guard = ctx.clone().drop_guard();
/// let token = guard.disarm(); // keep it alive after all
/// assert!(!token.is_cancelled());
/// ```
#[must_use = "dropping the guard cancels the token at once"]
#[derive(Debug)]
pub struct DropGuard {
    token: Option<CancelToken>,
}

impl DropGuard {
    /// Returns the token without cancelling it.
    pub fn disarm(mut self) -> CancelToken {
        match self.token.take() {
            Some(t) => t,
            None => unreachable!("the token is taken only here and in drop"),
        }
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(t) = self.token.take() {
            t.cancel();
        }
    }
}

/// The waker of a deadline's timer: cancels the token's tree when the
/// reactor fires the timer (after releasing its timer locks). Holds the
/// node weakly, so a pending deadline does not keep a dropped token alive.
struct DeadlineWaker(Weak<Node>);

impl Wake for DeadlineWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(node) = self.0.upgrade() {
            cancel_tree(node);
        }
    }
}
