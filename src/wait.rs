//! [`Noting`]: a future that records a wait reason for the task dump when
//! the future it wraps returns `Pending` (see [`crate::note_wait`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::WaitReason;

/// Polls `F`; on `Pending`, notes `reason` for the task dump.
pub(crate) struct Noting<F> {
    reason: WaitReason,
    future: F,
}

impl<F> Noting<F> {
    pub(crate) fn new(reason: WaitReason, future: F) -> Noting<F> {
        Noting { reason, future }
    }

    /// The wrapped future, pinned.
    pub(crate) fn inner(self: Pin<&mut Self>) -> Pin<&mut F> {
        // SAFETY: structural pinning of `future`: `Noting` has no `Drop`,
        // is not `Unpin` unless `F` is, and never moves `future` out.
        unsafe { self.map_unchecked_mut(|n| &mut n.future) }
    }
}

impl<F: Future> Future for Noting<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let reason = self.reason;
        let out = self.inner().poll(cx);
        if out.is_pending() {
            crate::note_wait(reason);
        }
        out
    }
}

impl<F> fmt::Debug for Noting<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Noting")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}
