//! The `polling` crate: `kqueue` (edge-triggered) on macOS and the BSDs,
//! IOCP (one-shot, armed per wait: `Source::arm`) on Windows.

use std::io;
use std::num::NonZeroUsize;
use std::time::Duration;

use polling::{Event, PollMode};

use super::Ready;
use crate::sys::RawSource;

/// How sources are registered with the poller.
#[cfg(unix)]
const MODE: PollMode = PollMode::Edge;
#[cfg(windows)]
const MODE: PollMode = PollMode::Oneshot;

/// `polling`'s poller.
#[derive(Debug)]
pub(crate) struct Poller {
    inner: polling::Poller,
}

/// Room for the events of one wait.
pub(crate) struct Events {
    inner: polling::Events,
}

impl Events {
    /// Room for `cap` events a wait.
    pub(crate) fn with_capacity(cap: usize) -> Events {
        Events {
            inner: polling::Events::with_capacity(NonZeroUsize::new(cap.max(1)).expect("nonzero")),
        }
    }

    /// Forgets the last wait's events.
    pub(crate) fn clear(&mut self) {
        self.inner.clear();
    }

    /// Whether the last wait reported no event.
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The sources' events of the last wait.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Ready> + '_ {
        self.inner.iter().map(|ev| Ready {
            key: ev.key,
            readable: ev.readable,
            writable: ev.writable,
            read_closed: false,
        })
    }
}

impl Poller {
    /// `polling`'s poller for this OS.
    pub(crate) fn new() -> io::Result<Poller> {
        Ok(Poller {
            inner: polling::Poller::new()?,
        })
    }

    /// Registers `fd` under `key`: edge-triggered for both directions on
    /// Unix; on Windows one-shot with no interest until armed.
    ///
    /// # Safety
    /// `fd` must stay open until [`Poller::delete`].
    pub(crate) unsafe fn add(&self, fd: RawSource, key: usize) -> io::Result<()> {
        #[cfg(unix)]
        let interest = Event::all(key);
        #[cfg(windows)]
        let interest = Event::none(key);
        // SAFETY: the caller keeps `fd` open until `delete`.
        unsafe { self.inner.add_with_mode(fd, interest, MODE) }
    }

    /// Deregisters `fd`.
    #[cfg(unix)]
    pub(crate) fn delete(&self, fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
        self.inner.delete(fd)
    }

    /// Deregisters `fd`.
    #[cfg(windows)]
    pub(crate) fn delete(&self, fd: std::os::windows::io::BorrowedSocket<'_>) -> io::Result<()> {
        self.inner.delete(fd)
    }

    /// Windows: arms the one-shot registration of `socket` for the
    /// directions asked.
    #[cfg(windows)]
    pub(crate) fn arm(
        &self,
        socket: std::os::windows::io::BorrowedSocket<'_>,
        key: usize,
        read: bool,
        write: bool,
    ) -> io::Result<()> {
        self.inner
            .modify_with_mode(socket, Event::new(key, read, write), MODE)
    }

    /// Waits for events for at most `timeout` (`None`: until one, or a
    /// [`Poller::notify`]).
    ///
    /// # Errors
    /// As the OS's wait.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.wait(&mut events.inner, timeout).map(drop)
    }

    /// Makes a blocked [`Poller::wait`] return, or the next one.
    pub(crate) fn notify(&self) -> io::Result<()> {
        self.inner.notify()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for Poller {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.as_raw_fd()
    }
}
