//! The monitor thread (Go's `sysmon`): one per runtime with a driver, not a
//! worker, holding no P. Today it does one job, the network-poll fallback:
//! if tasks wait on I/O or timers and nobody has polled the driver for
//! [`POLL_STALE`] (every worker is stuck in a long poll), it polls, and the
//! tasks that makes ready go to the global queue for the next free worker.
//!
//! It wakes every [`PERIOD`] while any worker is awake. While every worker
//! sleeps (one of them in the driver), it backs off to [`MAX_PERIOD`], and
//! the first worker to wake brings it back.

use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::thread;
use std::time::Duration;

use crate::shared::Shared;
use crate::sync::lock;

/// Go's sysmon polls the network if nobody has for 10 ms.
pub(crate) const POLL_STALE: Duration = Duration::from_millis(10);
/// How often the monitor looks while workers are busy.
const PERIOD: Duration = Duration::from_millis(10);
/// The longest the monitor sleeps while every worker is idle.
const MAX_PERIOD: Duration = Duration::from_secs(1);

/// Starts the monitor thread of `shared`; it is joined with the workers.
pub(crate) fn start(shared: &Arc<Shared>) -> std::io::Result<()> {
    if shared.driver.is_none() {
        return Ok(());
    }
    let shared2 = shared.clone();
    let t = thread::Builder::new()
        .name("goro-monitor".into())
        .spawn(move || run(&shared2))?;
    lock(&shared.threads).push(t);
    Ok(())
}

/// The monitor's loop; it ends when the runtime shuts down (dropping the
/// `Runtime` unparks it).
fn run(shared: &Shared) {
    let mut period = PERIOD;
    loop {
        if shared.is_shutdown() {
            return;
        }
        let all_idle = shared.idle.num_sleeping() == shared.num_procs();
        if all_idle {
            shared.monitor_idle.store(true, SeqCst);
            period = (period * 2).min(MAX_PERIOD);
        } else {
            shared.monitor_idle.store(false, SeqCst);
            period = PERIOD;
        }
        if let Some(driver) = shared.driver.as_deref() {
            if driver.needs_poll(POLL_STALE) && driver.try_acquire() {
                driver.poll(Some(Duration::ZERO));
                driver.release();
            }
        }
        shared.monitor.park_timeout(period);
    }
}
