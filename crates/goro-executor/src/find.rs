//! Where a worker looks for its next task (Go's `findRunnable`,
//! `runqput`, `stealWork`): the P's own `runnext` and ring, the global
//! queues, the driver, the other Ps, and finally the sleep protocol
//! (`idle`). The P's data is in `processor`; the loop that calls this is in
//! `worker`.

use std::time::{Duration, Instant};

use crate::idle::Wake;
use crate::processor::{Core, Remote};
use crate::shared::Shared;
use crate::task::Runnable;
use crate::worker::Polled;

/// Go checks the global queue first on every 61st tick so it cannot starve.
const GLOBAL_QUEUE_INTERVAL: u32 = 61;
/// Steal passes over the other Ps before giving up (Go's `stealTries`).
const STEAL_PASSES: usize = 4;

/// How long a thief lets a victim's `runnext` sit before taking it. The
/// owner usually runs it within a microsecond or two (it is the task the
/// running one just woke), and taking it would split a pair of tasks that
/// talk to each other across two cores. Go waits with `usleep(3)`, which
/// Linux's timer slack stretches to about 50 us; a spin this long is enough
/// to see the owner take it, and short enough that a task behind a truly
/// long poll is rescued at once. Under loom, which cannot model time, a
/// thief takes it at once.
#[cfg(not(loom))]
const RUNNEXT_GRACE: Duration = Duration::from_micros(20);
#[cfg(loom)]
const RUNNEXT_GRACE: Duration = Duration::ZERO;

/// A driver poll's surplus (the tasks it made ready beyond the one the
/// polling worker runs next) wakes another worker at once only when it is
/// at least this many tasks. Smaller, it waits on the shared queue of woken
/// tasks, where the polling worker takes it between its own tasks, any
/// other running worker takes it too, and a sleeping one is woken only if
/// it is still there [`SURPLUS_GRACE`] later, or, if the polling worker is
/// still in one task's poll at two of the monitor's looks (a long task, or
/// the OS keeping its thread off the CPU), by the monitor.
///
/// Go (`injectglist`) and tokio wake a worker for any surplus. But waking
/// a sleeping thread costs tens of microseconds before it runs (far more on
/// a VM, where it wakes an idle vCPU), and a few short tasks are done by
/// then: under `wrk -c64` on two cores, an HTTP server woke a worker for
/// nearly every poll, which found little left and slept again, and spent
/// about 1.5 us more CPU per request in those sleeps and wakes than tokio
/// (`benches/README.md`, issue 15). A threshold of 16 put it level with
/// tokio or better, with the same p99.
pub(crate) const SURPLUS_WAKE: usize = 16;

/// How long a surplus too small to wake another worker at once may wait on
/// the shared queue before the polling worker wakes one anyway: twice or
/// so a thread's wake-up latency, so that tasks that each take long are
/// not left to one worker.
#[cfg(not(loom))]
const SURPLUS_GRACE: Duration = Duration::from_micros(100);
#[cfg(loom)]
const SURPLUS_GRACE: Duration = Duration::ZERO;

/// Takes `remote`'s `runnext` if its owner has not run it within
/// [`RUNNEXT_GRACE`].
fn steal_runnext(remote: &Remote) -> Option<Runnable> {
    let start = Instant::now();
    while remote.runnext().is_occupied() {
        if start.elapsed() >= RUNNEXT_GRACE {
            return remote.runnext().take();
        }
        for _ in 0..32 {
            std::hint::spin_loop();
        }
    }
    None
}

impl Core {
    /// Schedules a task woken on this worker (Go's `runqput` + `wakep`): a
    /// wake from another task takes `runnext`, pushing its previous occupant
    /// to the tail; a task that woke itself while running (a yield) goes to
    /// the tail so it cannot monopolise the worker.
    ///
    /// A yield is also the moment to let the global queue in: a worker whose
    /// ring never empties because its tasks keep yielding (a busy loop with
    /// `yield_now`) would otherwise reach the global queue only on every
    /// 61st tick, one task at a time. Go gets the same effect by sending
    /// `Gosched` to the global queue.
    #[inline]
    pub(crate) fn schedule_local(&mut self, shared: &Shared, task: Runnable, yielded: bool) {
        if yielded {
            if !shared.queues.global.is_empty() {
                self.pull_global_batch(shared);
            }
            self.push_back(shared, task);
        } else if let Some(prev) = shared.ps.get(self.index).runnext().replace(task) {
            self.push_back(shared, prev);
        }
        shared.notify();
    }

    pub(crate) fn push_back(&mut self, shared: &Shared, task: Runnable) {
        self.ring.push_back(task, |t| shared.queues.global.push(t));
    }

    /// Go's `findRunnable`. Returns `None` only at shutdown.
    pub(crate) fn find_runnable(&mut self, shared: &Shared, polled: &Polled) -> Option<Runnable> {
        let mut was_poller = false;
        let task = self.find_runnable_inner(shared, polled, &mut was_poller)?;
        if was_poller {
            // This thread slept in the driver and leaves it to run a task,
            // which may block it: if a timer falls due soon and nobody
            // polls, wake a sleeping worker to take the role (Go's `wakep`
            // after netpoll). Without it, the other workers sleep on their
            // own parkers with no deadline, and the timer waits for the
            // monitor. Ready I/O waits at most for the monitor's next look
            // (`Shared::hand_off_poller_for_timers`).
            shared.hand_off_poller_for_timers();
        }
        Some(task)
    }

    fn find_runnable_inner(
        &mut self,
        shared: &Shared,
        polled: &Polled,
        was_poller: &mut bool,
    ) -> Option<Runnable> {
        let index = self.index;
        loop {
            if shared.is_shutdown() || index >= shared.num_procs() {
                return None;
            }
            if let Some(driver) = shared.driver.as_deref() {
                polled.collect(|| driver.tick(index));
                if let Some(task) = self.take_polled(shared, polled) {
                    return Some(self.reset_spinning(shared, task));
                }
            }
            if let Some(task) = self.find_local_or_global(shared, polled) {
                return Some(self.reset_spinning(shared, task));
            }
            // Ready I/O before other workers' tasks (Go polls the network
            // before stealing): it is cheap and keeps the P's own work local.
            if let Some(task) = self.poll_driver(shared, polled) {
                return Some(self.reset_spinning(shared, task));
            }
            if self.spinning || shared.idle.try_start_spinning() {
                self.spinning = true;
                if let Some(task) = self.steal(shared) {
                    return Some(self.reset_spinning(shared, task));
                }
            }
            // Nothing anywhere. Run a blocking job rather than sleep, if
            // the pool has short ones queued (`help`).
            if let Some(job) = shared.config.jobs.as_deref().and_then(|j| j.take()) {
                self.job = true;
                return Some(self.reset_spinning(shared, job));
            }
            // Nothing at all: sleep, after the protocol's final recheck. The
            // worker sleeps in the driver if it can take the poller role,
            // else on its own parker. A resize that retires this P counts as
            // work: it must not sleep through it (`Idle::wake_sleeper`).
            let was_spinning = std::mem::take(&mut self.spinning);
            match shared.idle.sleep(
                index,
                was_spinning,
                shared.ps.get(index).parker(),
                || shared.has_work() || index >= shared.ps.active_seqcst(),
                || shared.is_shutdown(),
                |p| match polled.collect(|| p.park_polling(None)) {
                    Some(woken) => {
                        *was_poller = true;
                        woken
                    }
                    None => {
                        p.park();
                        true
                    }
                },
            ) {
                Wake::Search => self.spinning = true,
                Wake::TimedOut => {}
                Wake::Shutdown => return None,
            }
            shared.monitor.worker_woke();
        }
    }

    /// Polls the driver without blocking, if a task waits on it and no
    /// other thread is polling; returns one task it made ready.
    fn poll_driver(&mut self, shared: &Shared, polled: &Polled) -> Option<Runnable> {
        let driver = shared.driver.as_deref()?;
        if !driver.has_waiters() || !driver.try_acquire() {
            return None;
        }
        polled.collect(|| driver.poll(Some(Duration::ZERO)));
        driver.release();
        self.take_polled(shared, polled)
    }

    /// Returns the first task a driver call made ready and queues the rest
    /// on the shared queue of woken tasks, which every worker takes from
    /// before its own ring (Go's `injectglist` also hands a netpoll's
    /// surplus to the global queue when Ps are idle); wakes another worker
    /// for them if they are [`SURPLUS_WAKE`] or more, else only if they are
    /// still there [`SURPLUS_GRACE`] later.
    ///
    /// Not on this worker's ring: there they waited until this thread got
    /// to them or another worker ran dry and stole half, and with more
    /// threads than cores (a load generator on the same machine, other
    /// processes) the OS preempts a worker for milliseconds with its ring
    /// full. Under `wrk -c64` that doubled the p99 latency of an HTTP
    /// server (issue 15). On the shared queue, whichever worker is running
    /// takes the next. With one P there is no other worker: the ring, which
    /// is cheaper, while it is less than half full. The usual case, no
    /// task, is inlined: it runs on every scheduling round.
    #[inline]
    fn take_polled(&mut self, shared: &Shared, polled: &Polled) -> Option<Runnable> {
        if polled.is_empty() {
            return None;
        }
        self.take_polled_slow(shared, polled)
    }

    #[inline(never)]
    fn take_polled_slow(&mut self, shared: &Shared, polled: &Polled) -> Option<Runnable> {
        let mut tasks = polled.tasks();
        if tasks.is_empty() {
            return None;
        }
        let mut tasks = tasks.drain(..);
        let first = tasks.next();
        let mut surplus = 0;
        let alone = shared.num_procs() == 1;
        for task in tasks {
            // Alone, past half the ring, to the queue of woken tasks too,
            // which goes before the global queue. A ring filled to the brim
            // would overflow at the next push (the caller's own, a wake from
            // the next task), moving its older half, these tasks, behind all
            // the new work waiting in the global queue: with a million tasks
            // spawned from one loop that held timers due now back for the
            // whole spawn phase (issue 18).
            if alone && self.ring.remaining() > crate::ring::CAPACITY / 2 {
                self.push_back(shared, task);
            } else {
                shared.queues.io_ready.push(task);
            }
            surplus += 1;
        }
        if surplus >= SURPLUS_WAKE {
            self.surplus_since = None;
            shared.notify();
        } else if surplus > 0 {
            self.surplus_since = Some(Instant::now());
        }
        first
    }

    /// The polling worker, taking from the shared queue of woken tasks
    /// while a surplus it did not wake anyone for waits there: if it has
    /// waited [`SURPLUS_GRACE`], wake a sleeping worker to help.
    #[cold]
    #[inline(never)]
    fn help_with_surplus(&mut self, shared: &Shared, since: Instant) {
        if shared.queues.io_ready.is_empty() {
            self.surplus_since = None;
        } else if since.elapsed() >= SURPLUS_GRACE {
            self.surplus_since = None;
            shared.notify();
        }
    }

    /// Go's `resetspinning`, called with the task a search found: a
    /// spinning worker that finds work stops spinning, and if it was the
    /// last spinner it wakes another, which will look for more. This chains
    /// wakeups only while work keeps appearing. Returns `task`.
    fn reset_spinning(&mut self, shared: &Shared, task: Runnable) -> Runnable {
        if std::mem::take(&mut self.spinning) && shared.idle.stop_spinning() {
            shared.notify();
        }
        task
    }

    fn find_local_or_global(&mut self, shared: &Shared, polled: &Polled) -> Option<Runnable> {
        self.tick = self.tick.wrapping_add(1);
        if self.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            // A busy worker also polls now and then, so ready I/O does not
            // wait for a worker to run dry (tokio's `event_interval`). What
            // it wakes joins the other woken tasks: on the ring it would
            // wait behind the ring's turn below, which a busy worker gets
            // one tick in 122 (issue 18: timers woken on time sat there
            // for 60 ms while a spawning loop kept the global queue full).
            if let Some(task) = self.poll_driver(shared, polled) {
                shared.queues.io_ready.push(task);
            }
            // The global queue's turn (Go's), and the ring's: woken tasks
            // go before the ring (below), so a steady stream of them would
            // starve it. They take turns going first, so a global queue
            // that never empties does not starve the ring either.
            let ring_first = (self.tick / GLOBAL_QUEUE_INTERVAL) % 2 == 1;
            if ring_first {
                if let Some(task) = self.ring.pop() {
                    return Some(task);
                }
            }
            if let Some(task) = shared.queues.global.pop() {
                return Some(task);
            }
            if !ring_first {
                if let Some(task) = self.ring.pop() {
                    return Some(task);
                }
            }
        }
        if let Some(task) = shared.ps.get(self.index).runnext().take() {
            return Some(task);
        }
        // Tasks woken from I/O or a timer by a thread without a P go before
        // the ring: their timers are due now, the ring may hold new work.
        if !shared.queues.io_ready.is_empty() {
            if let Some(task) = shared.queues.io_ready.pop() {
                if let Some(since) = self.surplus_since {
                    self.help_with_surplus(shared, since);
                }
                return Some(task);
            }
        }
        if let Some(task) = self.ring.pop() {
            return Some(task);
        }
        self.take_global_batch(shared)
    }

    /// Moves a fair share of the global queue into the ring; returns one.
    fn take_global_batch(&mut self, shared: &Shared) -> Option<Runnable> {
        let n = shared
            .queues
            .global
            .batch_size(shared.num_procs(), self.ring.remaining());
        if n == 0 {
            return None;
        }
        let first = shared.queues.global.pop()?;
        self.move_from_global(shared, n - 1);
        Some(first)
    }

    /// Moves a fair share of the global queue to the ring's tail.
    fn pull_global_batch(&mut self, shared: &Shared) {
        // Fill at most half the ring, the task being scheduled included:
        // a full ring overflows at the next push, and its older half may be
        // tasks a timer or I/O woke (`take_polled`), which would then wait
        // behind all the new work in the global queue (issue 18).
        let room = self
            .ring
            .remaining()
            .saturating_sub(crate::ring::CAPACITY / 2 + 1);
        let n = shared.queues.global.batch_size(shared.num_procs(), room);
        self.move_from_global(shared, n);
    }

    fn move_from_global(&mut self, shared: &Shared, n: usize) {
        for _ in 0..n {
            match shared.queues.global.pop() {
                Some(task) => self.push_back(shared, task),
                None => break,
            }
        }
    }

    /// Go's `stealWork`: passes over the other Ps in a random order, taking
    /// half of a victim's ring; `runnext` only on the last pass, since its
    /// owner is likely to run it next.
    fn steal(&mut self, shared: &Shared) -> Option<Runnable> {
        let n = shared.num_procs();
        if n == 1 {
            return None;
        }
        for pass in 0..STEAL_PASSES {
            let last_pass = pass == STEAL_PASSES - 1;
            let r = self.next_rand();
            let start = (r % n as u64) as usize;
            let stride = self.stride(r >> 32, n);
            for k in 0..n {
                let victim = (start + k * stride) % n;
                if victim == self.index {
                    continue;
                }
                let remote = shared.ps.get(victim);
                if let Some(task) = remote.stealer().steal_into(&mut self.ring) {
                    shared.ps.get(self.index).stats().steals.incr();
                    return Some(task);
                }
                if last_pass && remote.runnext().is_occupied() {
                    if let Some(task) = steal_runnext(remote) {
                        shared.ps.get(self.index).stats().steals.incr();
                        return Some(task);
                    }
                }
            }
            if let Some(task) = self.take_global_batch(shared) {
                return Some(task);
            }
        }
        None
    }

    /// Empties this P's queues into the global queue, and stops counting
    /// it as spinning, before a resize retires it (Go's `procresize` moves
    /// a destroyed P's run queue to the global queue too). Returns how many
    /// tasks moved.
    pub(crate) fn release(&mut self, shared: &Shared) -> usize {
        let mut moved = 0;
        if let Some(task) = shared.ps.get(self.index).runnext().take() {
            shared.queues.global.push(task);
            moved += 1;
        }
        while let Some(task) = self.ring.pop() {
            shared.queues.global.push(task);
            moved += 1;
        }
        if std::mem::take(&mut self.spinning) {
            shared.idle.stop_spinning();
        }
        moved
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::GLOBAL_QUEUE_INTERVAL;
    use crate::shared::{Config, Shared};
    use crate::task::{Runnable, TaskMeta};
    use crate::worker::Polled;

    fn task() -> Runnable {
        let meta = TaskMeta::new(std::panic::Location::caller(), None, false, 0);
        let (r, t) = async_task::Builder::new()
            .metadata(meta)
            .spawn(|_| async {}, |r: Runnable| drop(r));
        t.detach();
        r
    }

    /// Issue 18: woken tasks go before the ring, and the 61st tick gave
    /// the global queue its turn before the ring's, so while both kept
    /// filling (a spawning loop, timers firing) a task on the ring never
    /// ran. The two now take turns going first on that tick.
    #[test]
    fn the_ring_gets_a_turn_while_woken_and_global_tasks_keep_coming() {
        let config = Config::for_tests("find-test", None);
        let (shared, mut cores) = Shared::new(1, config, None);
        let core = &mut cores[0];
        let polled = Polled::default();
        let on_ring = task();
        let target = std::ptr::from_ref(on_ring.metadata());
        core.push_back(&shared, on_ring);
        for _ in 0..1_000 {
            shared.queues.io_ready.push(task());
            shared.queues.global.push(task());
        }
        let limit = 2 * GLOBAL_QUEUE_INTERVAL as usize;
        let mut found = None;
        for round in 1..=limit {
            let t = core
                .find_local_or_global(&shared, &polled)
                .expect("the queues hold tasks");
            if std::ptr::eq(t.metadata(), target) {
                found = Some(round);
                break;
            }
        }
        assert!(
            found.is_some(),
            "the ring's task did not run in {limit} rounds"
        );
        assert!(!shared.queues.io_ready.is_empty() && !shared.queues.global.is_empty());
        while shared.queues.io_ready.pop().is_some() {}
        while shared.queues.global.pop().is_some() {}
    }
}
