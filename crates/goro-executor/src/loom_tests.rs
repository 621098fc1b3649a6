//! loom model checks of the scheduler's lock-free core: the ring (push, pop,
//! steal, overflow), the runnext hand-off, and the sleep/wake protocol.
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p goro-executor --lib --release loom`.

use std::ptr::NonNull;
use std::sync::atomic::Ordering::SeqCst;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::thread;

use crate::idle::{Idle, Wake};
use crate::park::Parker;
use crate::ring::{self, CAPACITY, IntoRaw, RunNext};

/// A numbered item standing in for a task; boxed so a double take or a
/// lost item shows up as a wrong count.
struct Item(usize);

impl IntoRaw for Box<Item> {
    fn into_raw(self) -> NonNull<()> {
        NonNull::new(Box::into_raw(self).cast()).unwrap()
    }
    unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        // SAFETY: `ptr` came from `Box::into_raw` in `into_raw`.
        unsafe { Box::from_raw(ptr.as_ptr().cast()) }
    }
}

/// Steals once into a fresh ring and drains it: what one thief gets.
fn steal_all(stealer: &ring::Stealer<Box<Item>>) -> Vec<usize> {
    let (mut mine, _) = ring::new::<Box<Item>>();
    let mut got = Vec::new();
    if let Some(t) = stealer.steal_into(&mut mine) {
        got.push(t.0);
    }
    while let Some(t) = mine.pop() {
        got.push(t.0);
    }
    got
}

fn assert_each_once(mut seen: Vec<usize>, n: usize) {
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>(), "every item exactly once");
}

#[test]
fn loom_ring_push_pop_steal_conserve_items() {
    loom::model(|| {
        let (mut owner, stealer) = ring::new::<Box<Item>>();
        let thief = thread::spawn(move || steal_all(&stealer));
        let mut seen = Vec::new();
        for i in 0..3 {
            owner.push_back(Box::new(Item(i)), |t| seen.push(t.0));
        }
        if let Some(t) = owner.pop() {
            seen.push(t.0);
        }
        while let Some(t) = owner.pop() {
            seen.push(t.0);
        }
        seen.extend(thief.join().unwrap());
        assert_each_once(seen, 3);
    });
}

#[test]
fn loom_ring_overflow_races_with_steal() {
    loom::model(|| {
        let (mut owner, stealer) = ring::new::<Box<Item>>();
        for i in 0..CAPACITY {
            owner.push_back(Box::new(Item(i)), |_| unreachable!("not full yet"));
        }
        let thief = thread::spawn(move || steal_all(&stealer));
        // Full ring: this push either overflows half, or finds room the
        // thief made.
        let mut seen = Vec::new();
        owner.push_back(Box::new(Item(CAPACITY)), |t| seen.push(t.0));
        while let Some(t) = owner.pop() {
            seen.push(t.0);
        }
        seen.extend(thief.join().unwrap());
        assert_each_once(seen, CAPACITY + 1);
    });
}

#[test]
fn loom_runnext_handoff_conserves_items() {
    loom::model(|| {
        let slot = Arc::new(RunNext::<Box<Item>>::new());
        let (mut owner, _stealer) = ring::new::<Box<Item>>();
        let thief = {
            let slot = slot.clone();
            thread::spawn(move || slot.take().map(|t| t.0))
        };
        let mut seen = Vec::new();
        for i in 0..2 {
            if let Some(prev) = slot.replace(Box::new(Item(i))) {
                owner.push_back(prev, |_| unreachable!());
            }
        }
        if let Some(t) = slot.take() {
            seen.push(t.0);
        }
        while let Some(t) = owner.pop() {
            seen.push(t.0);
        }
        seen.extend(thief.join().unwrap());
        assert_each_once(seen, 2);
    });
}

/// A miniature runtime around the real `Idle` and `Parker`: workers take
/// from one queue, sleep through `Idle::sleep`, producers push then call
/// `Idle::notify`. A lost wakeup leaves a worker parked with work queued:
/// loom reports the deadlock.
///
/// The queue is an atomic count, like the runtime's queues (atomics all):
/// loom applies `fence(SeqCst)` to atomics but not to its `Mutex`, so a
/// mutex-guarded queue would show store-buffering outcomes that the real,
/// atomic queues cannot have.
struct Model {
    idle: Idle,
    parkers: Vec<Parker>,
    queue: AtomicUsize,
    processed: AtomicUsize,
    shutdown: AtomicBool,
    total: usize,
}

impl Model {
    fn new(workers: usize, total: usize) -> Arc<Self> {
        Arc::new(Model {
            idle: Idle::new(workers),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
            queue: AtomicUsize::new(0),
            processed: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            total,
        })
    }

    fn has_work(&self) -> bool {
        self.queue.load(SeqCst) > 0
    }

    fn pop(&self) -> bool {
        let mut n = self.queue.load(SeqCst);
        while n > 0 {
            match self.queue.compare_exchange(n, n - 1, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(actual) => n = actual,
            }
        }
        false
    }

    fn notify(&self) {
        self.idle
            .notify(|| self.has_work(), |i| self.parkers[i].unpark());
    }

    fn produce(&self) {
        self.queue.fetch_add(1, SeqCst);
        self.notify();
    }

    fn work(&self, index: usize) {
        let mut spinning = false;
        loop {
            if self.shutdown.load(SeqCst) {
                return;
            }
            if self.pop() {
                if std::mem::take(&mut spinning) && self.idle.stop_spinning() {
                    self.notify();
                }
                if self.processed.fetch_add(1, SeqCst) + 1 == self.total {
                    self.shutdown.store(true, SeqCst);
                    for p in &self.parkers {
                        p.unpark();
                    }
                    return;
                }
                continue;
            }
            if !spinning && self.idle.try_start_spinning() {
                // A real worker would steal here; the model's only queue
                // was just checked, so go straight to the sleep protocol.
                spinning = true;
            }
            match self.idle.sleep(
                index,
                std::mem::take(&mut spinning),
                &self.parkers[index],
                || self.has_work(),
                || self.shutdown.load(SeqCst),
                |p| {
                    p.park();
                    true
                },
            ) {
                Wake::Search => spinning = true,
                Wake::TimedOut => {}
                Wake::Shutdown => return,
            }
        }
    }
}

#[test]
fn loom_no_lost_wakeup_one_worker_two_producers() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(2);
    builder.check(|| {
        let m = Model::new(1, 2);
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || m.produce())
            })
            .collect();
        m.work(0);
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(m.processed.load(SeqCst), 2);
    });
}

#[test]
fn loom_no_lost_wakeup_two_workers_one_producer() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(2);
    builder.check(|| {
        let m = Model::new(2, 1);
        let other = {
            let m = m.clone();
            thread::spawn(move || m.work(1))
        };
        let producer = {
            let m = m.clone();
            thread::spawn(move || m.produce())
        };
        m.work(0);
        producer.join().unwrap();
        other.join().unwrap();
        assert_eq!(m.processed.load(SeqCst), 1);
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

/// The retake protocol: a worker lends its P for a poll, wakes a task onto
/// it from inside the poll, and reclaims it; the monitor tries to take it
/// at the same time. Exactly one of them ends up holding the P, every task
/// is either on the P or handed back to go elsewhere (never lost, never
/// both), and the two never touch the P at once (loom's `UnsafeCell`
/// checks that).
#[test]
fn loom_retake_races_with_the_polling_thread() {
    use crate::lend::Slot;
    loom::model(|| {
        let slot = Arc::new(Slot::<Vec<u32>>::new());
        slot.lend(vec![1], 1);
        let observed = slot.observe();
        let monitor = {
            let slot = slot.clone();
            thread::spawn(move || slot.take(observed))
        };
        // The poll wakes task 2 onto the P; if the P is gone, task 2 comes
        // back to be queued globally.
        let mut elsewhere = Vec::new();
        let mut woken = Some(2);
        slot.with_lent(1, |p| p.push(woken.take().unwrap()));
        elsewhere.extend(woken);
        let mine = slot.reclaim(1);
        let taken = monitor.join().unwrap();
        assert!(mine.is_some() != taken.is_some(), "exactly one holder");
        let mut all: Vec<u32> = mine.or(taken).unwrap();
        all.extend(elsewhere);
        all.sort_unstable();
        assert_eq!(all, vec![1, 2], "no task lost or duplicated");
    });
}

/// A wake from inside a poll while the monitor retakes the P and, as a
/// resize would, retires it at once, emptying `runnext` and the P's ring
/// into the global queue (`Core::release`). The poller wakes the task as
/// `worker::with_local_core` does: it borrows the lent P back
/// (`Slot::with_lent`), puts the task in `runnext` and appends a displaced
/// one to the ring, or queues it globally if the P is gone. Every task must
/// end up exactly once on the P the poller kept or in the global queue;
/// one left in a retired P's `runnext` would be stranded.
///
/// Putting the task in `runnext` without borrowing the P, then checking
/// that the P is still lent, would save a compare-and-swap, but it is a
/// store-load (Dekker) pattern: it needs `SeqCst` on every access, or a
/// fence costing what it saves, and loom (which checks `SeqCst` as
/// `AcqRel`) finds the stranding interleaving.
#[test]
fn loom_a_wake_during_a_retaken_poll_is_never_stranded() {
    use crate::lend::Slot;
    for occupied in [false, true] {
        loom::model(move || {
            let slot = Arc::new(Slot::<Vec<usize>>::new());
            let runnext = Arc::new(RunNext::<Box<Item>>::new());
            if occupied {
                assert!(runnext.replace(Box::new(Item(0))).is_none());
            }
            slot.lend(Vec::new(), 1);
            let observed = slot.observe();
            let monitor = {
                let (slot, runnext) = (slot.clone(), runnext.clone());
                thread::spawn(move || {
                    let mut global = Vec::new();
                    if let Some(ring) = slot.take(observed) {
                        global.extend(runnext.take().map(|t| t.0));
                        global.extend(ring);
                    }
                    global
                })
            };
            let mut seen = Vec::new();
            let mut task = Some(Box::new(Item(1)));
            slot.with_lent(1, |ring| {
                if let Some(prev) = runnext.replace(task.take().expect("taken once")) {
                    ring.push(prev.0);
                }
            });
            seen.extend(task.map(|t| t.0)); // the P was gone: global queue
            if let Some(ring) = slot.reclaim(1) {
                seen.extend(ring);
                seen.extend(runnext.take().map(|t| t.0));
            }
            seen.extend(monitor.join().unwrap());
            assert!(
                runnext.take().is_none(),
                "a task was stranded in a retired P's runnext (occupied: {occupied}, seen: {seen:?})"
            );
            seen.sort_unstable();
            let first = usize::from(!occupied);
            assert_eq!(seen, (first..2).collect::<Vec<_>>(), "each task once");
        });
    }
}

/// A live resize retiring a worker, over the real `Idle` and `Parker`:
/// worker 1 holds one task in its own queue; a resizer lowers the active
/// count to 1 and wakes worker 1 if it sleeps (`Idle::wake_sleeper`), as
/// `resize` does. Worker 1 must notice, whether it is running, about to
/// sleep or asleep, move its task to the global queue and stop; worker 0
/// must then run that task. A retirement slept through, or a moved task
/// nobody is woken for, leaves a thread parked forever: loom reports the
/// deadlock.
struct ResizeModel {
    idle: Idle,
    parkers: Vec<Parker>,
    global: AtomicUsize,
    active: AtomicUsize,
    processed: AtomicUsize,
    shutdown: AtomicBool,
    total: usize,
}

impl ResizeModel {
    fn has_work(&self) -> bool {
        self.global.load(SeqCst) > 0
    }

    fn notify(&self) {
        self.idle
            .notify(|| self.has_work(), |i| self.parkers[i].unpark());
    }

    fn pop_global(&self) -> bool {
        let mut n = self.global.load(SeqCst);
        while n > 0 {
            match self.global.compare_exchange(n, n - 1, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(actual) => n = actual,
            }
        }
        false
    }

    /// Runs worker `index` with `local` tasks in its own queue; returns
    /// whether it retired (rather than seeing the shutdown).
    fn work(&self, index: usize, mut local: usize) -> bool {
        let mut spinning = false;
        loop {
            if self.shutdown.load(SeqCst) {
                return false;
            }
            if index >= self.active.load(SeqCst) {
                // `Core::release` + `Shared::retire`.
                self.global.fetch_add(std::mem::take(&mut local), SeqCst);
                if std::mem::take(&mut spinning) {
                    self.idle.stop_spinning();
                }
                self.notify();
                return true;
            }
            let found = if local > 0 {
                local -= 1;
                true
            } else {
                self.pop_global()
            };
            if found {
                if std::mem::take(&mut spinning) && self.idle.stop_spinning() {
                    self.notify();
                }
                if self.processed.fetch_add(1, SeqCst) + 1 == self.total {
                    // Only active workers hear of the shutdown: a retired
                    // one must have stopped by itself.
                    self.shutdown.store(true, SeqCst);
                    for p in &self.parkers[..self.active.load(SeqCst)] {
                        p.unpark();
                    }
                    return false;
                }
                continue;
            }
            if !spinning && self.idle.try_start_spinning() {
                spinning = true;
            }
            match self.idle.sleep(
                index,
                std::mem::take(&mut spinning),
                &self.parkers[index],
                || self.has_work() || index >= self.active.load(SeqCst),
                || self.shutdown.load(SeqCst),
                |p| {
                    p.park();
                    true
                },
            ) {
                Wake::Search => spinning = true,
                Wake::TimedOut => {}
                Wake::Shutdown => return false,
            }
        }
    }
}

#[test]
fn loom_a_retired_worker_hands_its_queue_over_and_stops() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(2);
    builder.check(|| {
        let m = Arc::new(ResizeModel {
            idle: Idle::new(2),
            parkers: (0..2).map(|_| Parker::new()).collect(),
            global: AtomicUsize::new(1),
            active: AtomicUsize::new(2),
            processed: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            total: 2,
        });
        let retiring = {
            let m = m.clone();
            thread::spawn(move || m.work(1, 1))
        };
        let resizer = {
            let m = m.clone();
            thread::spawn(move || {
                m.idle.set_num_workers(1);
                m.active.store(1, SeqCst);
                m.idle.wake_sleeper(1, |i| m.parkers[i].unpark());
            })
        };
        m.work(0, 0);
        resizer.join().unwrap();
        let retired = retiring.join().unwrap();
        assert_eq!(m.processed.load(SeqCst), 2, "every task ran once");
        let _ = retired; // either way: what matters is that it returned
    });
}
