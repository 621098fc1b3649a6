//! How an idle worker thread sleeps and is woken: a token-based parker in the
//! style of `std::thread::park`, built on a mutex and condition variable so
//! loom can model-check it. An `unpark` that comes before the `park` is kept
//! as a token, so a wakeup is never lost.
//!
//! A thread may also sleep *in the driver* ([`Parker::park_polling`]): it
//! holds the poller role and blocks in [`Driver::poll`], and an `unpark`
//! interrupts that poll with [`Driver::notify`] (tokio's
//! `PARKED_CONDVAR`/`PARKED_DRIVER` split).

use std::sync::Arc;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::Duration;

use crate::driver::Driver;
use crate::sync::{AtomicUsize, Condvar, Mutex, lock};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;
const PARKED_DRIVER: usize = 3;

/// One per worker thread (and one per `block_on` call).
pub(crate) struct Parker {
    state: AtomicUsize,
    /// Times a thread went to sleep here (`Stats::parks`). A plain std
    /// atomic: statistics, not part of the protocol loom checks.
    parks: std::sync::atomic::AtomicU64,
    lock: Mutex<()>,
    cvar: Condvar,
    driver: Option<Arc<dyn Driver>>,
}

impl Parker {
    /// A parker with no token.
    pub(crate) fn new() -> Self {
        Self::with_driver(None)
    }

    /// A parker that can also sleep in `driver`.
    pub(crate) fn with_driver(driver: Option<Arc<dyn Driver>>) -> Self {
        Parker {
            state: AtomicUsize::new(EMPTY),
            parks: std::sync::atomic::AtomicU64::new(0),
            lock: Mutex::new(()),
            cvar: Condvar::new(),
            driver,
        }
    }

    /// Sleeps in the driver: takes the poller role and polls until I/O, a
    /// timer, `timeout`, or an [`Parker::unpark`]. Returns `None`, without
    /// sleeping, when there is no driver, nothing waits on it, or another
    /// thread holds the role: the caller then parks normally, since that
    /// thread polls for everyone. Otherwise returns whether a token was
    /// consumed (`false`: the poll returned for I/O or a timer).
    pub(crate) fn park_polling(&self, timeout: Option<Duration>) -> Option<bool> {
        let driver = self.driver.as_deref()?;
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return Some(true);
        }
        if !driver.has_waiters() || !driver.try_acquire() {
            return None;
        }
        if self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
            .is_err()
        {
            // Notified in between: consume the token (a swap, see `park`).
            self.state.swap(EMPTY, SeqCst);
            driver.release();
            return Some(true);
        }
        self.parks.fetch_add(1, Relaxed);
        driver.poll(timeout);
        let notified = self.state.swap(EMPTY, SeqCst) == NOTIFIED;
        driver.release();
        Some(notified)
    }

    /// Blocks until [`Parker::unpark`] is called (or was called since the
    /// last return), then consumes the token.
    pub(crate) fn park(&self) {
        self.park_inner(None);
    }

    /// Like [`Parker::park`], but returns after `timeout` at the latest.
    /// Returns whether a token was consumed.
    pub(crate) fn park_timeout(&self, timeout: Duration) -> bool {
        self.park_inner(Some(timeout))
    }

    fn park_inner(&self, timeout: Option<Duration>) -> bool {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return true;
        }
        let mut guard = lock(&self.lock);
        if let Err(actual) = self.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            debug_assert_eq!(actual, NOTIFIED, "only one thread parks on a parker");
            // A swap, not a store: reading the latest `NOTIFIED` makes this
            // thread synchronise with the *last* unpark, so it sees what that
            // unparker wrote before (say, a shutdown flag). A plain store
            // could swallow a second unpark without that (loom found it).
            self.state.swap(EMPTY, SeqCst);
            return true;
        }
        self.parks.fetch_add(1, Relaxed);
        loop {
            guard = match timeout {
                None => self.cvar.wait(guard).unwrap_or_else(|p| p.into_inner()),
                Some(t) => {
                    #[cfg(not(loom))]
                    {
                        let (g, res) = self
                            .cvar
                            .wait_timeout(guard, t)
                            .unwrap_or_else(|p| p.into_inner());
                        if res.timed_out() {
                            // Whatever happened meanwhile, leave the parker empty.
                            return self.state.swap(EMPTY, SeqCst) == NOTIFIED;
                        }
                        g
                    }
                    #[cfg(loom)]
                    {
                        let _ = t;
                        self.cvar.wait(guard).unwrap_or_else(|p| p.into_inner())
                    }
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return true;
            }
            // Spurious wakeup: wait again.
        }
    }

    /// Times a thread has gone to sleep on this parker.
    pub(crate) fn parks(&self) -> u64 {
        self.parks.load(Relaxed)
    }

    /// Whether a thread sleeps here now, on the parker or in the driver
    /// (racy: for the monitor's estimate of idle capacity).
    pub(crate) fn is_parked(&self) -> bool {
        matches!(self.state.load(Relaxed), PARKED | PARKED_DRIVER)
    }

    /// Wakes the thread parked here, or leaves a token for its next `park`.
    pub(crate) fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_DRIVER => {
                // The poll may have returned already; then the notification
                // only makes the next poll return early, which is harmless.
                if let Some(d) = &self.driver {
                    d.notify();
                }
            }
            PARKED => {
                // Take the lock so the notification cannot fall between the
                // parker's state check and its wait.
                drop(lock(&self.lock));
                self.cvar.notify_one();
            }
            _ => unreachable!("invalid parker state"),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn token_before_park_returns_at_once() {
        let p = Parker::new();
        p.unpark();
        p.unpark(); // tokens do not accumulate
        p.park();
        assert!(
            !p.park_timeout(Duration::from_millis(20)),
            "second park must time out"
        );
    }

    #[test]
    fn unpark_from_another_thread_wakes() {
        let p = Arc::new(Parker::new());
        let p2 = p.clone();
        let start = Instant::now();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            p2.unpark();
        });
        assert!(p.park_timeout(Duration::from_secs(10)));
        assert!(start.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
    }
}
