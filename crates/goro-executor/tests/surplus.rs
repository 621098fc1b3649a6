//! A driver poll that makes a few tasks ready runs the first on the polling
//! worker and leaves the rest (fewer than `SURPLUS_WAKE`) on the shared
//! queue of woken tasks without waking another worker at once. If the first
//! then blocks the polling worker, the rest must not wait for it: the
//! monitor sees a P in the same poll at two looks and wakes a sleeping
//! worker for them. The driver here never asks for a fallback poll and
//! reports no timer, and retake is off for the test's length, so nothing
//! else brings the other worker in.

mod common;

use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use goro_executor::{Driver, Runtime};

use common::{Nap, PollerRole, on_worker, pending_once};

/// How long the runtime settles before the driver wakes the tasks.
const SETTLE: Duration = Duration::from_millis(300);
/// How long the first woken task blocks its worker.
const HOLD: Duration = Duration::from_millis(1500);
/// Tasks the one poll wakes besides the blocker: a small surplus.
const REST: usize = 3;

/// A driver whose first poll by a worker, [`SETTLE`] after the last task
/// registered, wakes every registered task in registration order.
#[derive(Default)]
struct Batch {
    role: PollerRole,
    nap: Nap,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    wakers: Vec<Waker>,
    last_registered: Option<Instant>,
}

impl Driver for Batch {
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
        let on_worker = on_worker();
        let mut st = self.state.lock().unwrap();
        let due = st.wakers.len() == REST + 1
            && st.last_registered.is_some_and(|at| at.elapsed() >= SETTLE);
        if on_worker && due {
            let wakers = std::mem::take(&mut st.wakers);
            drop(st);
            for w in wakers {
                w.wake();
            }
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
    fn needs_poll(&self, _stale: Duration) -> bool {
        false
    }
    fn timer_due_within(&self, _horizon: Duration) -> bool {
        false
    }
}

#[test]
fn a_small_surplus_does_not_wait_for_a_blocked_polling_worker() {
    let driver = Arc::new(Batch::default());
    let rt = Runtime::builder()
        .maxprocs(2)
        .retake_after(Duration::from_secs(60))
        .driver(driver.clone())
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Each task waits for the driver's one wake, then notes when it ran.
    // The blocker registers first, so the poll wakes it first and the
    // polling worker runs it; then it holds that worker.
    let spawn = |who: &'static str| {
        let (d, t) = (driver.clone(), tx.clone());
        rt.spawn(async move {
            pending_once(move |w: &Waker| {
                let mut st = d.state.lock().unwrap();
                st.wakers.push(w.clone());
                st.last_registered = Some(Instant::now());
            })
            .await;
            let woke = Instant::now();
            if who == "blocker" {
                std::thread::sleep(HOLD);
            }
            t.send((who, woke)).unwrap();
        })
    };
    spawn("blocker");
    while driver.state.lock().unwrap().wakers.is_empty() {
        std::thread::sleep(Duration::from_millis(1));
    }
    for _ in 0..REST {
        spawn("rest");
    }
    drop(tx);
    let mut blocker_woke = None;
    let mut rest = Vec::new();
    for (who, at) in rx.iter().take(REST + 1) {
        if who == "blocker" {
            blocker_woke = Some(at);
        } else {
            rest.push(at);
        }
    }
    drop(rt);
    let blocker_woke = blocker_woke.expect("the blocker ran");
    assert_eq!(rest.len(), REST);
    for at in rest {
        let waited = at.saturating_duration_since(blocker_woke);
        assert!(
            waited < HOLD / 3,
            "a task the same poll woke ran {waited:?} after the one that blocked the \
             polling worker for {HOLD:?}"
        );
    }
}
