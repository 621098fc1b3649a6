//! Wait reasons for the task dump, as Go's goroutine dump shows
//! `[chan receive]`, `[sleep]`, `[IO wait]`.
//!
//! A future that returns `Pending` because it waits on something calls
//! [`note_wait`] first: one store to a thread-local. When the task's poll
//! returns `Pending`, the poll (`task::Tracked`) copies the last reason
//! noted into the task's metadata, a byte in what was padding, written only
//! by the thread that polls the task: no shared atomic on the poll path,
//! and no memory per task. The outermost future that notes wins, since it
//! notes after its inner futures returned `Pending`.

use std::cell::Cell;
use std::fmt;

/// Why a waiting task waits: what the future it last returned `Pending`
/// from said, for [`TaskInfo::wait`](crate::TaskInfo::wait).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u8)]
pub enum WaitReason {
    /// A channel receive (`goro::chan`): Go's `chan receive`.
    ChanReceive = 1,
    /// A channel send on a full channel: Go's `chan send`.
    ChanSend,
    /// A timer: `sleep`, `timeout`, `interval`. Go's `sleep`.
    Sleep,
    /// I/O readiness of a socket, pipe or other descriptor: Go's
    /// `IO wait`.
    Io,
    /// A `JoinHandle` or `JoinSet`, waiting for another task.
    Join,
    /// `WaitGroup::wait`: Go's `sync.WaitGroup.Wait`.
    WaitGroup,
    /// A lock or semaphore (`goro::sync`): Go's `sync.Mutex.Lock`.
    Lock,
    /// `CancelToken::cancelled`: Go's `<-ctx.Done()` (`chan receive`).
    Cancel,
    /// A Unix signal (`goro::signal`).
    Signal,
    /// `goro::select!` (or `goro::select::either`) over several waits:
    /// Go's `select`.
    Select,
}

impl WaitReason {
    const ALL: [WaitReason; 10] = [
        WaitReason::ChanReceive,
        WaitReason::ChanSend,
        WaitReason::Sleep,
        WaitReason::Io,
        WaitReason::Join,
        WaitReason::WaitGroup,
        WaitReason::Lock,
        WaitReason::Cancel,
        WaitReason::Signal,
        WaitReason::Select,
    ];

    /// The reason stored as `code`, if any.
    pub(crate) fn from_code(code: u8) -> Option<WaitReason> {
        WaitReason::ALL.into_iter().find(|r| *r as u8 == code)
    }

    /// The label in the dump, after Go's where there is one.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::Sleep => "sleep",
            WaitReason::Io => "IO wait",
            WaitReason::Join => "join",
            WaitReason::WaitGroup => "WaitGroup.wait",
            WaitReason::Lock => "lock",
            WaitReason::Cancel => "cancelled",
            WaitReason::Signal => "signal",
            WaitReason::Select => "select",
        }
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

thread_local! {
    /// The last reason noted during the current poll; 0 for none.
    static NOTED: Cell<u8> = const { Cell::new(0) };
}

/// Records why the future being polled on this thread is about to return
/// `Pending`; the task dump shows it while the task waits. Call it right
/// before returning `Pending` from a future that waits on something. Cheap
/// (one thread-local store); does nothing outside a goro task's poll that
/// reaches `Pending`.
///
/// # Examples
///
/// ```
/// use std::task::Poll;
///
/// // A future of another crate, wrapped to say what it waits for.
/// let wait_forever = std::future::poll_fn(|_| {
///     goro::note_wait(goro::WaitReason::Lock);
///     Poll::<()>::Pending
/// });
/// # drop(wait_forever);
/// ```
#[inline]
pub fn note_wait(reason: WaitReason) {
    let _ = NOTED.try_with(|n| n.set(reason as u8));
}

/// Clears the noted reason before a task's poll.
#[inline]
pub(crate) fn clear() {
    let _ = NOTED.try_with(|n| n.set(0));
}

/// The reason noted since [`clear`].
#[inline]
pub(crate) fn noted() -> u8 {
    NOTED.try_with(Cell::get).unwrap_or(0)
}
