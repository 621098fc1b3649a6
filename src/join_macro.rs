//! [`join!`](crate::join) and [`try_join!`](crate::try_join): await several
//! futures concurrently in one task, as tokio's macros of the same names.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Waits for every future and returns their outputs as a tuple, in the
/// order written: `let (a, b) = goro::join!(fa, fb);`. The futures run
/// concurrently in the calling task (not in parallel: for that, spawn them
/// with [`go`](crate::go) and await the handles, or use a
/// [`JoinSet`](crate::JoinSet)). Use it inside `async`.
///
/// Go has no such statement: there you would start goroutines and wait on
/// a `WaitGroup`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// goro::block_on(async {
///     let start = Instant::now();
///     let (a, b, c) = goro::join!(
///         async { goro::time::sleep(Duration::from_millis(50)).await; 1 },
///         async { goro::time::sleep(Duration::from_millis(50)).await; "two" },
///         async { 3.0 },
///     );
///     assert_eq!((a, b, c), (1, "two", 3.0));
///     // Concurrent: about 50 ms, not 100.
///     assert!(start.elapsed() < Duration::from_secs(5));
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),+ $(,)?) => {
        $crate::__join_impl!(@join [] [$($fut,)+]
            [_0 _1 _2 _3 _4 _5 _6 _7 _8 _9 _10 _11 _12 _13 _14 _15
             _16 _17 _18 _19 _20 _21 _22 _23 _24 _25 _26 _27 _28 _29 _30 _31])
    };
}

/// Waits for every future, each returning a `Result`, and returns `Ok` of
/// their values as a tuple, or the first `Err` as soon as one fails (the
/// others are then dropped, unfinished): tokio's `try_join!`. The error
/// types must agree.
///
/// # Examples
///
/// ```
/// goro::block_on(async {
///     let ok: Result<(u8, &str), String> =
///         goro::try_join!(async { Ok(1) }, async { Ok("two") });
///     assert_eq!(ok, Ok((1, "two")));
///
///     let failed: Result<(u8, ()), String> = goro::try_join!(
///         async { Ok(1) },
///         async { Err("disk full".to_string()) },
///     );
///     assert_eq!(failed, Err("disk full".to_string()));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($fut:expr),+ $(,)?) => {
        $crate::__join_impl!(@try [] [$($fut,)+]
            [_0 _1 _2 _3 _4 _5 _6 _7 _8 _9 _10 _11 _12 _13 _14 _15
             _16 _17 _18 _19 _20 _21 _22 _23 _24 _25 _26 _27 _28 _29 _30 _31])
    };
}

/// The body of [`join!`] and [`try_join!`]: pairs each future with a name
/// from the list, then polls them all in one `poll_fn`.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_impl {
    // Pair the next future with the next name.
    (@$mode:ident [$($done:tt)*] [$fut:expr, $($rest:expr,)*] [$name:ident $($names:ident)*]) => {
        $crate::__join_impl!(@$mode [$($done)* ($name $fut)] [$($rest,)*] [$($names)*])
    };
    (@$mode:ident [$($done:tt)*] [$fut:expr, $($rest:expr,)*] []) => {
        ::core::compile_error!("goro::join!/try_join!: at most 32 futures")
    };
    (@join [$(($name:ident $fut:expr))*] [] [$($unused:ident)*]) => {{
        $( let mut $name = ::core::pin::pin!($crate::__private::MaybeDone::new($fut)); )*
        ::core::future::poll_fn(|cx| {
            let mut all = true;
            $( all &= $name.as_mut().poll_done(cx); )*
            if all {
                ::core::task::Poll::Ready(($( $name.as_mut().take(), )*))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
    (@try [$(($name:ident $fut:expr))*] [] [$($unused:ident)*]) => {{
        $( let mut $name = ::core::pin::pin!($crate::__private::MaybeDone::new($fut)); )*
        ::core::future::poll_fn(|cx| {
            let mut all = true;
            $(
                if $name.as_mut().poll_done(cx) {
                    if $name.as_mut().is_err() {
                        let e = $name.as_mut().take().err().expect("checked is_err");
                        return ::core::task::Poll::Ready(::core::result::Result::Err(e));
                    }
                } else {
                    all = false;
                }
            )*
            if all {
                ::core::task::Poll::Ready(::core::result::Result::Ok((
                    $( $name.as_mut().take().ok().expect("checked not is_err"), )*
                )))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
}

/// A future, then its output, then nothing: one arm of a join.
#[doc(hidden)]
#[derive(Debug)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Future(F),
    /// Finished; the output waits to be taken.
    Done(F::Output),
    /// The output was taken.
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> Self {
        MaybeDone::Future(future)
    }

    /// Polls the future if it still runs; whether it has finished.
    pub fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: the future is never moved out of the pinned `self`: it is
        // only polled in place, and replaced (dropped in place) by `Done`.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Future(f) => {
                // SAFETY: `f` is pinned because `self` is, see above.
                match unsafe { Pin::new_unchecked(f) }.poll(cx) {
                    Poll::Ready(v) => {
                        *this = MaybeDone::Done(v);
                        true
                    }
                    Poll::Pending => false,
                }
            }
            MaybeDone::Done(_) => true,
            MaybeDone::Gone => panic!("goro::join!: polled after completion"),
        }
    }

    /// Takes the output.
    pub fn take(self: Pin<&mut Self>) -> F::Output {
        assert!(
            matches!(&*self, MaybeDone::Done(_)),
            "goro::join!: output taken before completion"
        );
        // SAFETY: the value is `Done`, which holds no pinned data (the
        // future was dropped in place when it finished), so it may move.
        let this = unsafe { self.get_unchecked_mut() };
        match std::mem::replace(this, MaybeDone::Gone) {
            MaybeDone::Done(v) => v,
            _ => unreachable!("checked above"),
        }
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> MaybeDone<F> {
    /// Whether the output is an `Err`.
    pub fn is_err(self: Pin<&mut Self>) -> bool {
        matches!(&*self, MaybeDone::Done(Err(_)))
    }
}
