//! A channel for exactly one value: Go's `make(chan T, 1)` used for one
//! reply, the way Go code hands a request a place to answer.
//!
//! [`channel`] returns a [`Sender`] and a [`Receiver`]. The sender sends at
//! most once ([`Sender::send`] consumes it); the receiver is a future that
//! resolves to the value, or to [`RecvError`] if the sender was dropped
//! without sending. A waiting receiver shows as `[chan receive]` in the task
//! dump, like a Go receive.
//!
//! It is cheaper than [`crate::chan::bounded(1)`](crate::chan::bounded): one
//! allocation shared by both halves, one atomic state word that is also the
//! reference count (no separate `Arc` counter), and at most three atomic
//! read-modify-writes per message (the send, the receiver's registration
//! when it has to wait, and the drop of whichever half goes last).
//!
//! | Go | goro |
//! |---|---|
//! | `reply := make(chan T, 1)` | `let (tx, rx) = oneshot::channel();` |
//! | `reply <- v` | `tx.send(v)` (never waits) |
//! | `v := <-reply` | `let v = rx.await?;` |
//!
//! # Where it differs from Go
//!
//! - One value, one sender, one receiver: neither half is `Clone`. Use
//!   [`crate::chan`] for anything else.
//! - Dropping the sender without sending closes the channel: the receiver
//!   gets [`RecvError`] instead of waiting forever (Go would block).
//! - Sending after the receiver is gone returns the value back as `Err`.
//!
//! # Examples
//!
//! ```
//! use goro::sync::oneshot;
//!
//! goro::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     goro::go(async move {
//!         tx.send(6 * 7).unwrap();
//!     });
//!     assert_eq!(rx.await, Ok(42));
//!
//!     // A sender dropped without sending: the receiver learns it.
//!     let (tx, rx) = oneshot::channel::<u32>();
//!     drop(tx);
//!     assert_eq!(rx.await, Err(oneshot::RecvError));
//! });
//! ```

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, Waker};

use crate::WaitReason;

/// The receiver has stored a waker in `Inner::waker`. While it is set and
/// the sender has not completed, the cell belongs to the sender (to wake it)
/// and the receiver leaves it alone.
const RX_WAKER: u8 = 1 << 0;
/// The sender is done: it sent (the value is in `Inner::value`) or was
/// dropped. After this the receiver may take the value.
const COMPLETE: u8 = 1 << 1;
/// The sender half is gone (it no longer touches `Inner`). Set with
/// `COMPLETE` in one step, unless the sender still has a waker to wake.
const TX_GONE: u8 = 1 << 2;
/// The receiver half is gone.
const RX_GONE: u8 = 1 << 3;

/// The state both halves share; freed by whichever half goes second.
struct Inner<T> {
    state: AtomicU8,
    /// Written by the sender before it sets `COMPLETE`; taken by the
    /// receiver after it sees `COMPLETE`.
    value: UnsafeCell<Option<T>>,
    /// The receiver's waker: see `RX_WAKER`.
    waker: UnsafeCell<Option<Waker>>,
}

/// Creates a channel for one value.
///
/// # Examples
///
/// ```
/// let (tx, rx) = goro::sync::oneshot::channel();
/// tx.send("done").unwrap();
/// assert_eq!(goro::block_on(rx), Ok("done"));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = NonNull::from(Box::leak(Box::new(Inner {
        state: AtomicU8::new(0),
        value: UnsafeCell::new(None),
        waker: UnsafeCell::new(None),
    })));
    (
        Sender {
            inner,
            _owns: PhantomData,
        },
        Receiver {
            inner,
            done: false,
            _owns: PhantomData,
        },
    )
}

/// The sending half: [`Sender::send`] once, or drop it to close the channel.
pub struct Sender<T> {
    inner: NonNull<Inner<T>>,
    _owns: PhantomData<T>,
}

/// The receiving half, a future of the value: `Ok(value)`, or
/// `Err(RecvError)` when the sender was dropped without sending.
///
/// Polling it again after it returned `Ready` panics.
pub struct Receiver<T> {
    inner: NonNull<Inner<T>>,
    /// Returned `Ready` already: the value is gone.
    done: bool,
    _owns: PhantomData<T>,
}

// SAFETY: a `Sender` moves a `T` to whichever thread holds the receiver, so
// `T: Send` suffices; the shared state is only touched through the atomic
// protocol described at the `RX_WAKER`..`RX_GONE` constants.
unsafe impl<T: Send> Send for Sender<T> {}
// SAFETY: `&Sender` only reads the atomic state (`is_closed`).
unsafe impl<T: Send> Sync for Sender<T> {}
// SAFETY: as for `Sender`: the receiver only takes a `T` the sender sent.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: `&Receiver` gives access to nothing (polling needs `&mut`).
unsafe impl<T: Send> Sync for Receiver<T> {}
// The value lives in the shared allocation, never inside the receiver, so
// moving a receiver between polls is fine whatever `T` is.
impl<T> Unpin for Receiver<T> {}

/// The sender was dropped without sending a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

impl<T> Inner<T> {
    /// Frees the state of a channel both halves have left.
    ///
    /// # Safety
    /// `this` came from `channel`, and the caller's read-modify-write set
    /// the second of `TX_GONE` / `RX_GONE` (so no half touches it again).
    unsafe fn free(this: NonNull<Inner<T>>) {
        // SAFETY: the caller's contract: allocated by `Box` in `channel`,
        // and nobody else refers to it any more.
        drop(unsafe { Box::from_raw(this.as_ptr()) });
    }
}

impl<T> Sender<T> {
    /// Sends the value, waking the receiver if it waits. Never waits itself.
    ///
    /// # Errors
    /// Gives the value back if the receiver has been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let inner = self.inner;
        std::mem::forget(self);
        // SAFETY: the sender is alive, so `inner` is; until it sets
        // `COMPLETE` the sender alone may write the value.
        let shared = unsafe { inner.as_ref() };
        // SAFETY: as above.
        unsafe { *shared.value.get() = Some(value) };
        // SAFETY: `inner` is this channel's; the sender is consumed.
        match unsafe { complete(inner) } {
            Some(value) => Err(value),
            None => Ok(()),
        }
    }

    /// Whether the receiver has been dropped, so a send would fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::sync::oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        // SAFETY: the sender is alive, so `inner` is.
        unsafe { self.inner.as_ref() }.state.load(Acquire) & RX_GONE != 0
    }
}

/// The sender finishes: with the value stored (a send) or without (a drop).
/// Returns the value back if the receiver is gone.
///
/// # Safety
/// `inner` is the channel of a sender that is being consumed: nothing
/// touches it on the sender's side afterwards.
unsafe fn complete<T>(inner: NonNull<Inner<T>>) -> Option<T> {
    // SAFETY: the sender has not set `TX_GONE` yet, so `inner` is alive.
    let shared = unsafe { inner.as_ref() };
    let mut state = shared.state.load(Acquire);
    loop {
        if state & RX_WAKER != 0 {
            break;
        }
        // No waker to wake: complete and leave in one step.
        match shared
            .state
            .compare_exchange_weak(state, state | COMPLETE | TX_GONE, AcqRel, Acquire)
        {
            Ok(_) => {
                if state & RX_GONE != 0 {
                    // SAFETY: the receiver is gone and never took the
                    // value; we set the second `_GONE` bit.
                    let value = unsafe { (*shared.value.get()).take() };
                    // SAFETY: as above.
                    unsafe { Inner::free(inner) };
                    return value;
                }
                return None;
            }
            Err(now) => state = now,
        }
    }
    // The receiver waits: complete first, then wake it, then leave.
    let prev = shared.state.fetch_or(COMPLETE, AcqRel);
    debug_assert!(prev & RX_WAKER != 0 && prev & RX_GONE == 0);
    // SAFETY: `RX_WAKER` was set when `COMPLETE` was: the cell is ours
    // (the receiver only writes it after clearing `RX_WAKER` itself, which
    // then returns `COMPLETE` and makes it leave the cell alone).
    let waker = unsafe { (*shared.waker.get()).take() };
    let prev = shared.state.fetch_or(TX_GONE, AcqRel);
    if prev & RX_GONE != 0 {
        // SAFETY: both halves gone now; the receiver saw `COMPLETE`, so it
        // took the value or left it for this drop.
        unsafe { Inner::free(inner) };
    }
    if let Some(waker) = waker {
        waker.wake();
    }
    None
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // SAFETY: the sender is being dropped; nothing touches it after.
        drop(unsafe { complete(self.inner) });
    }
}

impl<T> Receiver<T> {
    /// The sender is done: take its value, if it sent one.
    fn take(&mut self) -> Result<T, RecvError> {
        self.done = true;
        // SAFETY: `COMPLETE` was seen with acquire ordering: the sender
        // wrote the value before and never touches it again.
        unsafe { (*self.inner.as_ref().value.get()).take() }.ok_or(RecvError)
    }

    /// Stores `waker` for the sender and publishes it. Returns whether the
    /// sender completed meanwhile (then the value can be taken now).
    ///
    /// Only called while `RX_WAKER` is clear, as seen by the receiver's own
    /// last access to the state, and `COMPLETE` was not set then.
    fn store_waker(&mut self, waker: &Waker) -> bool {
        // SAFETY: the receiver is alive, so `inner` is.
        let shared = unsafe { self.inner.as_ref() };
        // SAFETY: `RX_WAKER` is clear, so the sender does not touch the cell.
        unsafe { *shared.waker.get() = Some(waker.clone()) };
        shared.state.fetch_or(RX_WAKER, AcqRel) & COMPLETE != 0
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !this.done,
            "goro: oneshot::Receiver polled after it returned Ready"
        );
        // SAFETY: the receiver is alive, so `inner` is.
        let shared = unsafe { this.inner.as_ref() };
        let state = shared.state.load(Acquire);
        if state & COMPLETE != 0 {
            return Poll::Ready(this.take());
        }
        if state & RX_WAKER != 0 {
            // Polled again while waiting. The sender may complete at any
            // moment and then take the waker, so take the cell back before
            // looking at it: clear `RX_WAKER` first.
            let prev = shared.state.fetch_and(!RX_WAKER, AcqRel);
            if prev & COMPLETE != 0 {
                // The sender owns the cell now; the value is ready.
                return Poll::Ready(this.take());
            }
            // SAFETY: `RX_WAKER` is clear and the sender had not completed:
            // the cell is the receiver's again.
            let same = unsafe { &*shared.waker.get() }
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()));
            if same {
                if shared.state.fetch_or(RX_WAKER, AcqRel) & COMPLETE != 0 {
                    return Poll::Ready(this.take());
                }
                crate::note_wait(WaitReason::ChanReceive);
                return Poll::Pending;
            }
        }
        if this.store_waker(cx.waker()) {
            return Poll::Ready(this.take());
        }
        crate::note_wait(WaitReason::ChanReceive);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // SAFETY: the receiver is alive until this returns.
        let shared = unsafe { self.inner.as_ref() };
        let prev = shared.state.fetch_or(RX_GONE, AcqRel);
        if prev & TX_GONE != 0 {
            // SAFETY: we set the second `_GONE` bit. A value not taken is
            // dropped with the state.
            unsafe { Inner::free(self.inner) };
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver")
            .field("done", &self.done)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::sync::atomic::Ordering::SeqCst;

    /// Counts drops of the values sent, to check none leaks or drops twice.
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn value_left_unreceived_is_dropped_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel();
        tx.send(Counted(drops.clone())).ok().unwrap();
        assert_eq!(drops.load(SeqCst), 0);
        drop(rx);
        assert_eq!(drops.load(SeqCst), 1);

        let (tx, rx) = channel();
        drop(rx);
        let back = tx.send(Counted(drops.clone())).err().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
        drop(back);
        assert_eq!(drops.load(SeqCst), 2);
    }

    #[test]
    fn a_new_waker_replaces_the_old_one() {
        let (tx, mut rx) = channel::<u8>();
        let woken = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let first = Waker::noop();
        assert!(
            Pin::new(&mut rx)
                .poll(&mut Context::from_waker(first))
                .is_pending()
        );
        let second = Waker::from(Arc::new(Count(woken.clone())));
        assert!(
            Pin::new(&mut rx)
                .poll(&mut Context::from_waker(&second))
                .is_pending()
        );
        // The same waker again: still pending, nothing changes.
        assert!(
            Pin::new(&mut rx)
                .poll(&mut Context::from_waker(&second))
                .is_pending()
        );
        tx.send(7).unwrap();
        assert_eq!(woken.load(SeqCst), 1, "the latest waker is woken");
        assert_eq!(
            Pin::new(&mut rx).poll(&mut Context::from_waker(&second)),
            Poll::Ready(Ok(7))
        );
    }
}
