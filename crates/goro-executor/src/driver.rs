//! The one thing the scheduler knows about I/O and timers: a [`Driver`] it
//! can poll and interrupt. The `goro` facade plugs its reactor in here; the
//! executor alone (and its loom models) runs without one.
//!
//! How the workers use it is on [`Driver`].

use std::time::Duration;

/// An I/O and timer driver the workers poll. Implemented by the `goro`
/// facade's reactor.
///
/// How workers use it, after Go's netpoller:
/// - every scheduling tick, [`Driver::tick`] fires the P's own due timers;
/// - a worker that runs out of local and global work polls without blocking
///   before it steals, and a busy worker polls every 61st tick;
/// - a worker about to sleep tries to become *the* poller and blocks in
///   [`Driver::poll`] until I/O, its nearest timer, or [`Driver::notify`];
///   the driver lets only one thread hold that role at a time, the others
///   park on their own condition variables;
/// - tasks a poll makes ready are queued on the polling worker's own P, and
///   idle workers are woken for the surplus;
/// - the runtime's monitor thread polls when nobody has for 10 ms.
///
/// Wakers woken inside [`Driver::poll`] and [`Driver::tick`] run on the
/// calling thread; the scheduler queues the tasks they schedule locally.
///
/// # Examples
///
/// A driver with no I/O that only counts how often it is polled:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
/// use std::time::Duration;
///
/// #[derive(Default)]
/// struct Counting {
///     polling: AtomicBool,
///     polls: AtomicUsize,
/// }
///
/// impl goro_executor::Driver for Counting {
///     fn try_acquire(&self) -> bool {
///         !self.polling.swap(true, Ordering::Acquire)
///     }
///     fn release(&self) {
///         self.polling.store(false, Ordering::Release);
///     }
///     fn is_polling(&self) -> bool {
///         self.polling.load(Ordering::Acquire)
///     }
///     fn poll(&self, timeout: Option<Duration>) {
///         self.polls.fetch_add(1, Ordering::Relaxed);
///         std::thread::sleep(timeout.unwrap_or(Duration::from_millis(1)).min(Duration::from_millis(1)));
///     }
///     fn notify(&self) {}
///     fn tick(&self, _proc: usize) {}
///     fn has_waiters(&self) -> bool {
///         true
///     }
///     fn needs_poll(&self, _stale: Duration) -> bool {
///         false
///     }
/// }
///
/// let driver = Arc::new(Counting::default());
/// let rt = goro_executor::Runtime::builder().maxprocs(2).driver(driver.clone()).build().unwrap();
/// rt.block_on(async { goro_executor::spawn(async {}).await.unwrap() });
/// drop(rt);
/// assert!(driver.polls.load(Ordering::Relaxed) > 0);
/// ```
pub trait Driver: Send + Sync + 'static {
    /// Tries to take the poller role. At most one thread holds it; only the
    /// holder calls [`Driver::poll`], then gives it back with
    /// [`Driver::release`].
    fn try_acquire(&self) -> bool;

    /// Gives the poller role back.
    fn release(&self);

    /// Whether a thread holds the poller role right now.
    fn is_polling(&self) -> bool;

    /// With the poller role held: fires due timers and waits for I/O for at
    /// most `timeout` (`None`: until an event, the nearest timer, or
    /// [`Driver::notify`]; `Some(ZERO)`: do not block), waking the tasks
    /// whose I/O or timers are ready.
    fn poll(&self, timeout: Option<Duration>);

    /// Makes a blocked [`Driver::poll`] return soon, or the next one return
    /// at once if none is blocked. Called from any thread.
    fn notify(&self);

    /// Fires the due timers that P `proc` owns. Called on every scheduling
    /// tick, so it must be a few loads when nothing is due.
    fn tick(&self, proc: usize);

    /// Whether any task waits on I/O or a timer. Workers skip polling when
    /// nothing does (Go's `netpollAnyWaiters`), so a runtime without I/O
    /// pays no syscalls for the driver.
    fn has_waiters(&self) -> bool;

    /// Whether a poll is overdue: some task waits on I/O or a timer, no
    /// thread is polling now, and the last poll finished more than `stale`
    /// ago. The monitor thread checks this every few milliseconds.
    fn needs_poll(&self, stale: Duration) -> bool;

    /// Whether a timer falls due within `horizon` from now. A worker that
    /// leaves its sleep in the driver to run a task wakes another to take
    /// the poller role only then (a timer needs someone asleep in the
    /// driver with its deadline); ready I/O can wait for a worker between
    /// tasks or for the monitor, which checks every millisecond. The
    /// default, `true`, hands the role on every time.
    fn timer_due_within(&self, horizon: Duration) -> bool {
        let _ = horizon;
        true
    }
}
