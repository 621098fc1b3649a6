//! Channels, Go's `chan T`: the [`async-channel`](async_channel) crate,
//! re-exported.
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
//! | `close(ch)` | [`tx.close()`](Sender::close), or drop every [`Sender`] |
//! | `len(ch)`, `cap(ch)` | [`Sender::len`], [`Sender::capacity`] |
//! | `select` with `default:` | [`Sender::try_send`], [`Receiver::try_recv`] |
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

pub use async_channel::{
    Receiver, Recv, RecvError, Send, SendError, Sender, TryRecvError, TrySendError, WeakReceiver,
    WeakSender, unbounded,
};

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
    async_channel::bounded(cap)
}
