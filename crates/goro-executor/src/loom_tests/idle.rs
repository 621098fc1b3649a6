//! Sleeping and waking: the parker, the poller role, and the sleep/wake
//! protocol (`idle`) as the real worker loop runs it.

use std::sync::atomic::Ordering::SeqCst;

use loom::sync::Arc;
use loom::thread;

use super::{loom_runtime, model};
use crate::park::Parker;

/// A task spawned from outside the workers goes to the global queue and
/// wakes a worker that may be running, searching, about to sleep or
/// asleep; its `JoinHandle` then wakes the thread blocked on it. A lost
/// wakeup on either side deadlocks.
#[test]
fn loom_runtime_a_task_spawned_from_outside_runs() {
    model(2).check(|| {
        let rt = loom_runtime(1, None);
        let task = rt.spawn(async { 7 });
        assert_eq!(rt.block_on(task).unwrap(), 7);
    });
}

/// Two workers, two tasks from outside: each is run exactly once, by
/// whichever worker finds it (global queue, or stolen), and neither worker
/// sleeps through one.
#[test]
fn loom_runtime_two_workers_run_two_outside_spawns() {
    model(1).check(|| {
        let rt = loom_runtime(2, None);
        let a = rt.spawn(async { 1 });
        let b = rt.spawn(async { 2 });
        let sum = rt.block_on(async { a.await.unwrap() + b.await.unwrap() });
        assert_eq!(sum, 3);
    });
}

/// A task spawns another from a worker (its `runnext`, which the other
/// worker may steal) and waits for it: the child's completion wakes the
/// parent from whichever worker ran it (`with_local_core`, or the global
/// queue).
#[test]
fn loom_runtime_a_task_woken_by_a_task() {
    model(1).check(|| {
        let rt = loom_runtime(2, None);
        let parent = rt.spawn(async {
            let child = crate::spawn(async { 3 });
            child.await.unwrap() + 1
        });
        assert_eq!(rt.block_on(parent).unwrap(), 4);
    });
}

/// A task that yields wakes itself during its poll: it is queued after the
/// poll, on the reclaimed P (`defer_yield`), and runs again.
#[test]
fn loom_runtime_a_yielding_task_runs_again() {
    model(2).check(|| {
        let rt = loom_runtime(1, None);
        let task = rt.spawn(async {
            crate::yield_now().await;
            5
        });
        assert_eq!(rt.block_on(task).unwrap(), 5);
    });
}

#[test]
fn loom_parker_token_is_never_lost() {
    loom::model(|| {
        let p = Arc::new(Parker::new());
        let p2 = p.clone();
        let t = thread::spawn(move || p2.unpark());
        p.park();
        t.join().unwrap();
    });
}

/// A driver whose `poll` blocks until `notify`, like an epoll wait with
/// nothing ready: it models the poller role and the wakeup path, not I/O.
struct MockDriver {
    polling: loom::sync::atomic::AtomicBool,
    notified: loom::sync::Mutex<bool>,
    cvar: loom::sync::Condvar,
}

impl MockDriver {
    fn new() -> Self {
        MockDriver {
            polling: loom::sync::atomic::AtomicBool::new(false),
            notified: loom::sync::Mutex::new(false),
            cvar: loom::sync::Condvar::new(),
        }
    }
}

impl crate::driver::Driver for MockDriver {
    fn try_acquire(&self) -> bool {
        !self.polling.swap(true, SeqCst)
    }
    fn release(&self) {
        self.polling.store(false, SeqCst);
    }
    fn is_polling(&self) -> bool {
        self.polling.load(SeqCst)
    }
    fn poll(&self, timeout: Option<std::time::Duration>) {
        let mut n = self.notified.lock().unwrap();
        if timeout != Some(std::time::Duration::ZERO) {
            while !*n {
                n = self.cvar.wait(n).unwrap();
            }
        }
        *n = false;
    }
    fn notify(&self) {
        *self.notified.lock().unwrap() = true;
        self.cvar.notify_one();
    }
    fn tick(&self, _: usize) {}
    fn has_waiters(&self) -> bool {
        true
    }
    fn needs_poll(&self, _: std::time::Duration) -> bool {
        false
    }
}

/// Parks the way a worker does: in the driver if it can take the role,
/// else on its condition variable.
fn park_like_a_worker(p: &Parker) {
    if p.park_polling(None).is_none() {
        p.park();
    }
}

#[test]
fn loom_unpark_reaches_a_thread_sleeping_in_the_driver() {
    loom::model(|| {
        let driver: std::sync::Arc<dyn crate::driver::Driver> =
            std::sync::Arc::new(MockDriver::new());
        let p = Arc::new(Parker::with_driver(Some(driver)));
        let p2 = p.clone();
        let t = thread::spawn(move || p2.unpark());
        // Whether the unpark lands before, during or after the poll, this
        // returns: a lost wakeup is a deadlock, which loom reports.
        park_like_a_worker(&p);
        t.join().unwrap();
    });
}

#[test]
fn loom_two_sleepers_share_the_poller_role_and_both_wake() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(2);
    builder.check(|| {
        let driver: std::sync::Arc<dyn crate::driver::Driver> =
            std::sync::Arc::new(MockDriver::new());
        let a = Arc::new(Parker::with_driver(Some(driver.clone())));
        let b = Arc::new(Parker::with_driver(Some(driver)));
        let (a2, b2) = (a.clone(), b.clone());
        // One of them polls, the other parks on its condvar; each unpark
        // must reach its own parker either way.
        let ta = thread::spawn(move || park_like_a_worker(&a2));
        let tb = thread::spawn(move || park_like_a_worker(&b2));
        a.unpark();
        b.unpark();
        ta.join().unwrap();
        tb.join().unwrap();
    });
}
