//! Waiting on several operations at once, Go's `select`.
//!
//! # The choice
//!
//! A Go `select` waits on several channel operations and runs the branch
//! of the first one ready, picking at random when several are. goro offers
//! two layers, both built on [`futures-lite`](futures_lite)'s combinators
//! rather than a procedural macro:
//!
//! - the [`select!`](crate::select!) macro, for Go's shape: each branch is
//!   `pattern = future => body`, the bodies have one type, and `return`,
//!   `break` and `?` in a body act on the enclosing function or loop;
//! - plain functions: [`either`] (two futures, possibly of different
//!   output types), [`race`] (same type, random preference), [`or`] (same
//!   type, first one preferred).
//!
//! The futures of the branches that lose are **dropped**, so only use
//! futures whose drop loses nothing: [`Receiver::recv`](crate::chan::Receiver::recv)
//! and [`Sender::send`](crate::chan::Sender::send) of [`goro::chan`](crate::chan)
//! are such (a dropped `send` did not send), as are
//! [`CancelToken::cancelled`](crate::CancelToken::cancelled) and
//! [`WaitGroup::wait`](crate::sync::WaitGroup::wait).
//!
//! Go's `default:` branch (don't wait at all) is `try_recv`/`try_send` on
//! the channel.
//!
//! # Timeouts
//!
//! Go's `case <-time.After(d):` needs timers, which wait on the reactor
//! issue (`goro::time`). Once it lands, a timeout is one more branch:
//! `_ = goro::time::sleep(d) => ...`. Until then, race against a
//! [`CancelToken`](crate::CancelToken) with a deadline, which also covers
//! Go's `case <-ctx.Done():`:
//!
//! ```
//! use std::time::Duration;
//!
//! goro::block_on(async {
//!     let (_tx, rx) = goro::chan::bounded::<u32>(1); // nobody sends
//!     let ctx = goro::CancelToken::new();
//!     ctx.cancel_after(Duration::from_millis(10));
//!     let got = goro::select! {
//!         v = rx.recv() => Some(v),
//!         _ = ctx.cancelled() => None, // timed out
//!     };
//!     assert_eq!(got, None);
//! });
//! ```
//!
//! # Fairness
//!
//! With two branches ready, each wins half the time. With more, the macro
//! nests [`either`], so the first branch is preferred with probability ½,
//! the second ¼ and so on down to the last two: every ready branch can
//! win, none starves, but the choice is not uniform as in Go.

use std::future::Future;

pub use futures_lite::future::{Or, Race, or, race};

/// The output of [`either`]: which of two futures finished first, and its
/// output.
///
/// # Examples
///
/// ```
/// use goro::select::Either;
/// let e: Either<u8, &str> = Either::Right("b");
/// assert!(matches!(e, Either::Right("b")));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Either<A, B> {
    /// The first future finished first.
    Left(A),
    /// The second future finished first.
    Right(B),
}

/// Waits for whichever of `a` and `b` finishes first and drops the other.
/// When both are ready, each is picked with probability ½.
///
/// # Examples
///
/// ```
/// use goro::select::{Either, either};
///
/// goro::block_on(async {
///     let (tx, rx) = goro::chan::unbounded::<i32>();
///     tx.send(7).await.unwrap();
///     let stop = goro::CancelToken::new();
///     match either(rx.recv(), stop.cancelled()).await {
///         Either::Left(v) => assert_eq!(v, Ok(7)),
///         Either::Right(()) => unreachable!("nobody cancelled"),
///     }
/// });
/// ```
pub async fn either<A, B>(a: A, b: B) -> Either<A::Output, B::Output>
where
    A: Future,
    B: Future,
{
    race(async { Either::Left(a.await) }, async {
        Either::Right(b.await)
    })
    .await
}

/// Waits on several futures and runs the branch of the first to finish,
/// like Go's `select`. Use it inside an `async` block or function.
///
/// ```text
/// goro::select! {
///     pattern = future => body,
///     pattern = future => { block }
///     ...
/// }
/// ```
///
/// All futures are created first, in order, then polled together; the
/// first to finish has its output matched against its pattern, the others
/// are dropped, and its body runs. Patterns must be irrefutable (`v`, `_`,
/// `(a, b)`): match on the value in the body instead. The bodies run in the
/// enclosing function, so `return`, `break`, `continue` and `?` work as in
/// a Go `select`. See the [module docs](mod@crate::select) for timeouts and
/// fairness.
///
/// # Examples
///
/// A worker that serves jobs until it is told to stop:
///
/// ```
/// goro::block_on(async {
///     let (jobs_tx, jobs) = goro::chan::unbounded::<u32>();
///     let stop = goro::CancelToken::new();
///     let worker = goro::go({
///         let stop = stop.clone();
///         async move {
///             let mut served = 0;
///             loop {
///                 goro::select! {
///                     job = jobs.recv() => match job {
///                         Ok(_) => served += 1,
///                         Err(_) => break, // channel closed
///                     },
///                     _ = stop.cancelled() => break,
///                 }
///             }
///             served
///         }
///     });
///     for j in 0..3 {
///         jobs_tx.send(j).await.unwrap();
///     }
///     drop(jobs_tx); // close: the worker drains the 3 jobs, then stops
///     assert_eq!(worker.await.unwrap(), 3);
/// });
/// ```
#[macro_export]
macro_rules! select {
    (@acc [$($done:tt)*]) => {
        $crate::__select_run!($($done)*)
    };
    (@acc [$($done:tt)*] , $($rest:tt)*) => {
        $crate::select!(@acc [$($done)*] $($rest)*)
    };
    (@acc [$($done:tt)*] $p:pat = $f:expr => $b:block $($rest:tt)*) => {
        $crate::select!(@acc [$($done)* ($p, $f, $b)] $($rest)*)
    };
    (@acc [$($done:tt)*] $p:pat = $f:expr => $b:expr , $($rest:tt)*) => {
        $crate::select!(@acc [$($done)* ($p, $f, { $b })] $($rest)*)
    };
    (@acc [$($done:tt)*] $p:pat = $f:expr => $b:expr) => {
        $crate::select!(@acc [$($done)* ($p, $f, { $b })])
    };
    ($($t:tt)+) => {
        $crate::select!(@acc [] $($t)+)
    };
}

/// Builds the future tree and the matching `match` for [`select!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __select_run {
    ($(($p:pat, $f:expr, $b:block))+) => {
        $crate::__select_match!(
            $crate::__select_fut!($(($p, $f, $b))+).await;
            $(($p, $f, $b))+
        )
    };
}

/// Nests the branches' futures with [`either`](crate::select::either).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_fut {
    (($p:pat, $f:expr, $b:block)) => {
        $f
    };
    (($p:pat, $f:expr, $b:block) $($rest:tt)+) => {
        $crate::select::either($f, $crate::__select_fut!($($rest)+))
    };
}

/// Unnests the [`Either`] tree of [`select!`]'s output into its branches.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_match {
    ($v:expr; ($p:pat, $f:expr, $b:block)) => {
        match $v {
            $p => $b,
        }
    };
    ($v:expr; ($p:pat, $f:expr, $b:block) $($rest:tt)+) => {
        match $v {
            $crate::select::Either::Left($p) => $b,
            $crate::select::Either::Right(rest) => $crate::__select_match!(rest; $($rest)+),
        }
    };
}
