//! Streams, the async iterators: the [`Stream`] trait and its extension
//! [`StreamExt`] (`next`, `map`, `filter`, `collect`, ...), from
//! `futures-lite`, with constructors. [`crate::io::Lines`],
//! [`crate::signal::Signal`] and [`crate::chan::Receiver`] are streams.
//!
//! # Examples
//!
//! ```
//! use goro::stream::{self, StreamExt};
//!
//! goro::block_on(async {
//!     let (tx, rx) = goro::chan::bounded(4);
//!     goro::go(async move {
//!         for i in 1..=4 {
//!             tx.send(i).await.unwrap();
//!         }
//!     });
//!     let squares: Vec<i32> = rx.map(|i| i * i).collect().await;
//!     assert_eq!(squares, [1, 4, 9, 16]);
//!     assert_eq!(stream::iter([1, 2]).fold(0, |a, b| a + b).await, 3);
//! });
//! ```

pub use futures_lite::stream::{
    Stream, StreamExt, empty, iter, once, once_future, pending, poll_fn, repeat, repeat_with,
    try_unfold, unfold,
};
