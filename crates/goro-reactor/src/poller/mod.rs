//! The OS poller under the reactor, and the readiness events it reports.
//!
//! - **Linux, Android** ([`epoll`]): goro calls `epoll` itself, as mio
//!   does, for two things the `polling` crate's `epoll` backend does not
//!   give: a wait that is one `epoll_wait` (polling's costs five syscalls:
//!   it arms a `timerfd`, re-arms it and its notifier with two
//!   `epoll_ctl`, and reads the notifier's `eventfd`), and the peer's
//!   half-close (`EPOLLRDHUP`), which lets a stream read that came up short
//!   skip the next `recv` until a new edge (tokio's rule; see
//!   `Source::poll_stream_io`).
//! - **Elsewhere** ([`portable`]): the `polling` crate (`kqueue` on macOS
//!   and the BSDs, IOCP on Windows). It reports no half-close, so
//!   [`REPORTS_READ_CLOSED`] is `false` and stream reads go on until
//!   `WouldBlock`, as Go's do.

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use epoll::{Events, Poller};

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod portable;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use portable::{Events, Poller};

/// Whether [`Ready::read_closed`] is ever set: the poller tells a peer's
/// half-close apart from plain readability.
pub(crate) const REPORTS_READ_CLOSED: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// One readiness event of a registered source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ready {
    /// The source's key in the reactor's slab.
    pub(crate) key: usize,
    /// Readable, or closed or failed (a read returns at once).
    pub(crate) readable: bool,
    /// Writable, or closed or failed (a write returns at once).
    pub(crate) writable: bool,
    /// The read side is done for good: the peer shut down its writing
    /// half, the connection hung up or failed. Only where
    /// [`REPORTS_READ_CLOSED`].
    pub(crate) read_closed: bool,
}
