//! Channels, Go's `chan T`: the [`async-channel`](async_channel) crate, in
//! thin wrappers whose `send` and `recv` tell the task dump what a task
//! waits on (`chan send`, `chan receive`); every other method is
//! `async-channel`'s, reached through `Deref`.
//!
//! Both ends are cheap to clone and may be shared by any number of tasks
//! (multi-producer, multi-consumer), like a Go channel value.
//!
//! | Go | goro |
//! |---|---|
//! | `make(chan T, n)` | [`bounded(n)`](bounded) (`n` ≥ 1) |
//! | `make(chan T)` (unbuffered) | no rendezvous channel: [`bounded(1)`](bounded) is the closest; [`bounded(0)`](bounded) panics saying so |
//! | no Go equivalent | [`unbounded()`](unbounded) |
//! | `ch <- v` | [`tx.send(v).await`](Sender::send) |
//! | `v := <-ch` | [`rx.recv().await`](Receiver::recv) |
//! | `v, ok := <-ch` | `match rx.recv().await { Ok(v) => .., Err(RecvError) => .. }` |
//! | `for v := range ch` | `while let Ok(v) = rx.recv().await` |
//! | `close(ch)` | [`tx.close()`](async_channel::Sender::close), or drop every [`Sender`] |
//! | `len(ch)`, `cap(ch)` | [`len`](async_channel::Sender::len), [`capacity`](async_channel::Sender::capacity) |
//! | `select` with `default:` | [`try_send`](async_channel::Sender::try_send), [`try_recv`](async_channel::Receiver::try_recv) |
//!
//! # Where it differs from Go
//!
//! - **Send on a closed channel is an error, not a panic.** Go panics with
//!   "send on closed channel"; here [`Sender::send`] returns
//!   [`SendError`] holding the value back.
//! - **Receive from a closed channel drains, then ends**, as in Go: values
//!   already buffered are still received; after them [`Receiver::recv`]
//!   returns [`RecvError`] (Go's zero value with `ok == false`).
//! - **Closing is not only for the sender.** Either end may call `close()`,
//!   and dropping every `Sender` closes the channel too (Go has no
//!   garbage-collection close). Dropping every `Receiver` also closes it,
//!   so a sender learns nobody listens instead of blocking forever.
//! - **No nil channels** and no unbuffered (capacity 0) channel:
//!   [`bounded(0)`](bounded) panics with a message that says what to use.
//!   A Go unbuffered send also waits until a receiver has the value; to
//!   get that, send a reply channel along and wait on it (the last
//!   example).
//!
//! # Examples
//!
//! ```
//! use goro::chan;
//!
//! goro::block_on(async {
//!     let (tx, rx) = chan::bounded(2);
//!     tx.send(1).await.unwrap();
//!     tx.send(2).await.unwrap();
//!     tx.close(); // close(ch)
//!
//!     // Send on a closed channel: an error, where Go panics.
//!     assert_eq!(tx.send(3).await, Err(chan::SendError(3)));
//!
//!     // Receive drains what is buffered, then reports the close.
//!     assert_eq!(rx.recv().await, Ok(1));
//!     assert_eq!(rx.recv().await, Ok(2));
//!     assert_eq!(rx.recv().await, Err(chan::RecvError));
//! });
//! ```
//!
//! A producer task and `for v := range ch`:
//!
//! ```
//! goro::block_on(async {
//!     let (tx, rx) = goro::chan::unbounded();
//!     goro::go(async move {
//!         for i in 0..5 {
//!             tx.send(i).await.unwrap();
//!         }
//!         // `tx` dropped here: the channel closes.
//!     });
//!     let mut sum = 0;
//!     while let Ok(v) = rx.recv().await {
//!         sum += v;
//!     }
//!     assert_eq!(sum, 10);
//! });
//! ```

//!
//! A hand-off that waits for the receiver, as Go's unbuffered send does:
//!
//! ```
//! use goro::chan;
//!
//! goro::block_on(async {
//!     let (tx, rx) = chan::bounded::<(u32, chan::Sender<()>)>(1);
//!     let worker = goro::go(async move {
//!         while let Ok((job, taken)) = rx.recv().await {
//!             let _ = taken.send(()).await; // "I have it"
//!             assert_eq!(job, 7);
//!         }
//!     });
//!     let (taken_tx, taken_rx) = chan::bounded(1);
//!     tx.send((7, taken_tx)).await.unwrap();
//!     taken_rx.recv().await.unwrap(); // the worker has the job now
//!     drop(tx);
//!     worker.await.unwrap();
//! });
//! ```

pub use async_channel::{RecvError, SendError, TryRecvError, TrySendError};

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::Stream;

use crate::WaitReason;
use crate::wait::Noting;

/// The sending end of a channel: `async-channel`'s, whose other methods
/// (`try_send`, `close`, `len`, `capacity`, `send_blocking`, ...) it
/// dereferences to. Its [`send`](Sender::send) tells the task dump that a
/// task waits on a full channel (`chan send`).
pub struct Sender<T>(async_channel::Sender<T>);

/// The receiving end of a channel: `async-channel`'s, whose other methods
/// (`try_recv`, `close`, `len`, `recv_blocking`, ...) it dereferences to.
/// Its [`recv`](Receiver::recv) and its [`Stream`] tell the task dump that
/// a task waits on the channel (`chan receive`).
pub struct Receiver<T>(async_channel::Receiver<T>);

impl<T> Sender<T> {
    /// Sends `msg`, waiting while the channel is full: Go's `ch <- v`.
    /// An error gives the value back if the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::chan::bounded(1);
    /// goro::block_on(tx.send(5)).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn send(&self, msg: T) -> Send<'_, T> {
        Send(Noting::new(WaitReason::ChanSend, self.0.send(msg)))
    }

    /// A weak sender, which does not keep the channel open.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender(self.0.downgrade())
    }

    /// The `async-channel` sender.
    pub fn into_inner(self) -> async_channel::Sender<T> {
        self.0
    }
}

impl<T> Receiver<T> {
    /// Receives a value, waiting while the channel is empty: Go's
    /// `v, ok := <-ch`, with `Err(RecvError)` for `!ok` once the channel is
    /// closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::chan::unbounded();
    /// tx.try_send("hi").unwrap();
    /// assert_eq!(goro::block_on(rx.recv()), Ok("hi"));
    /// ```
    pub fn recv(&self) -> Recv<'_, T> {
        Recv(Noting::new(WaitReason::ChanReceive, self.0.recv()))
    }

    /// A weak receiver, which does not keep the channel open.
    pub fn downgrade(&self) -> WeakReceiver<T> {
        WeakReceiver(self.0.downgrade())
    }

    /// The `async-channel` receiver.
    pub fn into_inner(self) -> async_channel::Receiver<T> {
        self.0
    }
}

impl<T> Deref for Sender<T> {
    type Target = async_channel::Sender<T>;

    fn deref(&self) -> &async_channel::Sender<T> {
        &self.0
    }
}

impl<T> Deref for Receiver<T> {
    type Target = async_channel::Receiver<T>;

    fn deref(&self) -> &async_channel::Receiver<T> {
        &self.0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver(self.0.clone())
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: structural pinning of the one field: `Receiver` has no
        // `Drop` and never moves it out while pinned.
        let inner = unsafe { self.map_unchecked_mut(|r| &mut r.0) };
        let out = inner.poll_next(cx);
        if out.is_pending() {
            crate::note_wait(WaitReason::ChanReceive);
        }
        out
    }
}

impl<T> From<async_channel::Sender<T>> for Sender<T> {
    fn from(s: async_channel::Sender<T>) -> Self {
        Sender(s)
    }
}

impl<T> From<async_channel::Receiver<T>> for Receiver<T> {
    fn from(r: async_channel::Receiver<T>) -> Self {
        Receiver(r)
    }
}

/// The future of [`Sender::send`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Send<'a, T>(Noting<async_channel::Send<'a, T>>);

/// The future of [`Receiver::recv`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Recv<'a, T>(Noting<async_channel::Recv<'a, T>>);

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of the one field, never moved out.
        unsafe { self.map_unchecked_mut(|s| &mut s.0) }.poll(cx)
    }
}

impl<T> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of the one field, never moved out.
        unsafe { self.map_unchecked_mut(|r| &mut r.0) }.poll(cx)
    }
}

/// A sender that does not keep the channel open; see [`Sender::downgrade`].
pub struct WeakSender<T>(async_channel::WeakSender<T>);

/// A receiver that does not keep the channel open; see
/// [`Receiver::downgrade`].
pub struct WeakReceiver<T>(async_channel::WeakReceiver<T>);

impl<T> WeakSender<T> {
    /// The sender again, if the channel is still open.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.0.upgrade().map(Sender)
    }
}

impl<T> WeakReceiver<T> {
    /// The receiver again, if the channel is still open.
    pub fn upgrade(&self) -> Option<Receiver<T>> {
        self.0.upgrade().map(Receiver)
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender(self.0.clone())
    }
}

impl<T> Clone for WeakReceiver<T> {
    fn clone(&self) -> Self {
        WeakReceiver(self.0.clone())
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T> fmt::Debug for WeakReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A channel with no capacity limit: sends never wait.
///
/// # Examples
///
/// ```
/// let (tx, rx) = goro::chan::unbounded();
/// for i in 0..1000 {
///     tx.try_send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = async_channel::unbounded();
    (Sender(tx), Receiver(rx))
}

/// A channel that holds at most `cap` values: Go's `make(chan T, cap)`. A
/// send waits while it is full.
///
/// # Panics
/// When `cap` is 0, with a message that says what to use instead: goro has
/// no unbuffered (rendezvous) channel.
///
/// # Examples
///
/// ```
/// let (tx, rx) = goro::chan::bounded(1);
/// assert!(tx.try_send(1).is_ok());
/// assert!(tx.try_send(2).is_err(), "full");
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
#[track_caller]
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        cap > 0,
        "goro::chan::bounded(0): goro has no unbuffered (rendezvous) channel, Go's make(chan T). \
         Use bounded(1) for a hand-off; for a send that waits until the receiver has the \
         value, send a reply channel with it and wait on that (see the goro::chan docs)"
    );
    let (tx, rx) = async_channel::bounded(cap);
    (Sender(tx), Receiver(rx))
}
