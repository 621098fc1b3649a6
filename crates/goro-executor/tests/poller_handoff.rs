//! A worker that sleeps in the driver and leaves it to run a task hands the
//! poller role on: if that task then blocks its thread, another worker polls
//! the driver (fires the timers, reads the I/O) in the meantime, instead of
//! every other worker sleeping with no deadline until the blocked task
//! returns. With a driver of our own whose fallback poll (`needs_poll`) never
//! asks, nothing else can make a second thread poll.

mod common;

use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use goro_executor::{Driver, Runtime};

use common::{Nap, PollerRole, on_worker, pending_once};

/// How long the runtime settles before the driver wakes the task.
const SETTLE: Duration = Duration::from_millis(300);

/// A driver whose poll wakes one registered task (on a worker thread only,
/// so the task then runs on the thread that polled), and otherwise waits
/// for `notify` or a short timeout.
#[derive(Default)]
struct OneShot {
    /// Reports no timer due, and a poll overdue after 1 ms but not after
    /// 10 ms: the worker leaving the driver does not hand the role on, and
    /// the monitor does not poll itself; only its hand-off can bring
    /// another thread to poll.
    lazy: bool,
    role: PollerRole,
    nap: Nap,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The task to wake at the first poll by a worker that starts
    /// [`SETTLE`] after it registered (by then the other worker sleeps on
    /// its own parker, the poller role being taken).
    waker: Option<(Waker, Instant)>,
    /// Every poll: which thread, and when it started.
    polls: Vec<(ThreadId, Instant)>,
}

impl Driver for OneShot {
    fn try_acquire(&self) -> bool {
        self.role.try_acquire()
    }
    fn release(&self) {
        self.role.release();
    }
    fn is_polling(&self) -> bool {
        self.role.is_polling()
    }
    fn poll(&self, timeout: Option<Duration>) {
        let me = std::thread::current();
        let mut st = self.state.lock().unwrap();
        st.polls.push((me.id(), Instant::now()));
        if on_worker()
            && st
                .waker
                .as_ref()
                .is_some_and(|(_, at)| at.elapsed() >= SETTLE)
        {
            let (w, _) = st.waker.take().unwrap();
            drop(st);
            w.wake();
            return;
        }
        drop(st);
        self.nap.sleep(timeout);
    }
    fn notify(&self) {
        self.nap.notify();
    }
    fn tick(&self, _proc: usize) {}
    fn has_waiters(&self) -> bool {
        true
    }
    fn needs_poll(&self, stale: Duration) -> bool {
        self.lazy && stale < Duration::from_millis(5)
    }
    fn timer_due_within(&self, _horizon: Duration) -> bool {
        !self.lazy
    }
}

#[test]
fn another_worker_polls_while_the_former_poller_blocks() {
    polls_while_the_former_poller_blocks(false);
}

/// With no timer due, the worker leaving the driver keeps the role to
/// itself (handing it on every time woke a worker for nothing thousands of
/// times a second under network load); the monitor hands it on once nobody
/// has polled for a millisecond.
#[test]
fn the_monitor_hands_the_poller_role_on_when_no_timer_is_due() {
    polls_while_the_former_poller_blocks(true);
}

fn polls_while_the_former_poller_blocks(lazy: bool) {
    const HOLD: Duration = Duration::from_millis(1500);
    let driver = Arc::new(OneShot {
        lazy,
        ..OneShot::default()
    });
    let rt = Runtime::builder()
        .maxprocs(2)
        // No retake during the hold (it too would bring a thread that
        // polls): only the hand-off is tested.
        .retake_after(Duration::from_secs(60))
        .driver(driver.clone())
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let d = driver.clone();
    // Spawned from outside the runtime: the main thread never polls.
    rt.spawn(async move {
        pending_once(move |w: &Waker| {
            d.state.lock().unwrap().waker = Some((w.clone(), Instant::now()));
        })
        .await;
        // Running on the worker that polled the driver: block it.
        let started = (std::thread::current().id(), Instant::now());
        std::thread::sleep(HOLD);
        tx.send(started).unwrap();
    });
    let (blocked_thread, blocked_at) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let polls = driver.state.lock().unwrap().polls.clone();
    let other = polls
        .iter()
        .filter(|(t, at)| *t != blocked_thread && *at > blocked_at && *at < blocked_at + HOLD)
        .count();
    drop(rt);
    assert!(
        other > 0,
        "no other thread polled the driver while its former poller blocked for {HOLD:?} \
         ({} polls in all)",
        polls.len()
    );
}
