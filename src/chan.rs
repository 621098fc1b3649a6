//! Channels, Go's `chan T`: the [`async-channel`](async_channel) crate,
//! re-exported.
//!
//! Both ends are cheap to clone and may be shared by any number of tasks
//! (multi-producer, multi-consumer), like a Go channel value.
//!
//! | Go | goro |
//! |---|---|
//! | `make(chan T, n)` | [`bounded(n)`](bounded) (`n` ≥ 1) |
//! | `make(chan T)` (unbuffered) | no rendezvous channel: [`bounded(1)`](bounded) is the closest |
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
//!   [`bounded(0)`](bounded) panics.
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

pub use async_channel::{
    Receiver, Recv, RecvError, Send, SendError, Sender, TryRecvError, TrySendError, WeakReceiver,
    WeakSender, bounded, unbounded,
};
