//! The server's shared state for shutting down: a one-way "stop" flag that
//! every connection waits on, and the count of open connections that the
//! accept loop waits to reach zero.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use event_listener::{Event, listener};

/// One server's stop flag and open-connection count.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    stopping: AtomicBool,
    stop: Event,
    open: AtomicUsize,
    closed: Event,
}

impl Tracker {
    pub(crate) fn new() -> Arc<Tracker> {
        Arc::new(Tracker::default())
    }

    /// Tells every connection to finish its in-flight requests and close.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify(usize::MAX);
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Resolves once [`Tracker::stop`] has been called.
    pub(crate) async fn stopped(&self) {
        loop {
            if self.is_stopping() {
                return;
            }
            listener!(self.stop => l);
            if self.is_stopping() {
                return;
            }
            l.await;
        }
    }

    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Counts a connection as open until the guard drops.
    pub(crate) fn track(self: &Arc<Tracker>) -> ConnGuard {
        self.open.fetch_add(1, Ordering::SeqCst);
        ConnGuard(self.clone())
    }

    /// Resolves once no connection is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            if self.open() == 0 {
                return;
            }
            listener!(self.closed => l);
            if self.open() == 0 {
                return;
            }
            l.await;
        }
    }
}

/// An open connection, counted in its server's [`Tracker`].
#[derive(Debug)]
pub(crate) struct ConnGuard(Arc<Tracker>);

impl ConnGuard {
    pub(crate) fn tracker(&self) -> &Tracker {
        &self.0
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.closed.notify(usize::MAX);
        }
    }
}
