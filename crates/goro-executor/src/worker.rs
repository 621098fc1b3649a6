//! A worker: an OS thread (Go's M) running a P (`Core`: its ring, tick and
//! random state) through Go's scheduling loop — `findRunnable`, run, repeat.
//!
//! The `Core` is a value the thread owns through its [`WorkerContext`], not
//! something welded to the thread: the blocking hand-off and sysmon's retake
//! move it to another thread, and a runtime resize retires it.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::context;
use crate::idle::Wake;
use crate::lend::Slot;
use crate::procs::Proc;
use crate::ring::{self, Local};
use crate::shared::{Padded, ProcRemote, Shared};
use crate::task::Runnable;

/// Go checks the global queue first on every 61st tick so it cannot starve.
const GLOBAL_QUEUE_INTERVAL: u32 = 61;
/// Tasks run back to back from `runnext` in one time slice (tokio's 3): more,
/// and two tasks waking each other would monopolise the worker.
const MAX_RUNNEXT_CHAIN: u32 = 3;
/// Steal passes over the other Ps before giving up (Go's `stealTries`).
const STEAL_PASSES: usize = 4;

/// A P: the owner's half of a worker's scheduling state. Aligned to its
/// own cache lines, as its tick and random state change on every
/// scheduling decision.
#[repr(align(128))]
pub(crate) struct Core {
    index: usize,
    ring: Local<Runnable>,
    /// Scheduling ticks, for the global-queue fairness check.
    tick: u32,
    /// Whether this worker is counted in `Idle::num_spinning`.
    spinning: bool,
    rng: u64,
    /// The number of the last poll this P was lent for (see `lend`).
    seq: u64,
    /// Steal strides for `steal_order.0` Ps: every stride coprime with it
    /// (Go's `stealOrder`), recomputed when a resize changes the count.
    steal_order: (usize, Vec<usize>),
}

/// How long a thief lets a victim's `runnext` sit before taking it. The
/// owner usually runs it within a microsecond or two (it is the task the
/// running one just woke), and taking it would split a pair of tasks that
/// talk to each other across two cores. Go waits with `usleep(3)`, which
/// Linux's timer slack stretches to about 50 us; a spin this long is enough
/// to see the owner take it, and short enough that a task behind a truly
/// long poll is rescued at once.
const RUNNEXT_GRACE: Duration = Duration::from_micros(20);

/// Takes `remote`'s `runnext` if its owner has not run it within
/// [`RUNNEXT_GRACE`].
fn steal_runnext(remote: &ProcRemote) -> Option<Runnable> {
    let start = Instant::now();
    while remote.runnext.is_occupied() {
        if start.elapsed() >= RUNNEXT_GRACE {
            return remote.runnext.take();
        }
        for _ in 0..32 {
            std::hint::spin_loop();
        }
    }
    None
}

/// Creates the P with index `index`: its owner half and its shared half
/// (whose parker sleeps in `driver`, if any).
pub(crate) fn new_proc(
    index: usize,
    driver: Option<std::sync::Arc<dyn crate::driver::Driver>>,
) -> (Box<Core>, Proc) {
    let (ring, stealer) = ring::new();
    let core = Core {
        index,
        ring,
        tick: 0,
        spinning: false,
        rng: 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(index as u64 + 1) | 1,
        seq: 0,
        steal_order: (0, Vec::new()),
    };
    let remote = ProcRemote {
        stealer,
        runnext: ring::RunNext::new(),
        slot: Padded(Slot::new()),
        watch: Default::default(),
    };
    let proc = Proc {
        remote: Padded(remote),
        parker: Padded(crate::park::Parker::with_driver(driver)),
        stats: Padded(crate::stats::ProcStats::new()),
    };
    (Box::new(core), proc)
}

/// What a worker thread keeps in its thread-local context.
pub(crate) struct WorkerContext {
    shared: Arc<Shared>,
    /// The P this thread runs; `None` while it has none.
    core: RefCell<Option<Box<Core>>>,
    /// Tasks woken on this thread while the scheduler polls the driver.
    polled: Polled,
    /// While a task is polled: the P's index and the lend number.
    lent: Cell<Option<(usize, u64)>>,
    /// The task being polled, if it woke itself (a yield): it is queued
    /// after the poll, with the P reclaimed, instead of borrowing the lent
    /// P back for it (one compare-and-swap less per yield).
    yielded: Cell<Option<Runnable>>,
}

/// Tasks that a driver poll or timer tick on a worker makes ready. The P is
/// borrowed by the scheduler then, so the schedule function cannot reach
/// it; it leaves the tasks here, and the worker moves them to its own ring
/// afterwards (Go's `injectglist` keeps them local too).
#[derive(Default)]
struct Polled {
    active: Cell<bool>,
    tasks: RefCell<Vec<Runnable>>,
}

impl Polled {
    /// Runs `f` (a driver call) with wakes collected here.
    fn collect<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Reset<'a>(&'a Cell<bool>);
        impl Drop for Reset<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        self.active.set(true);
        let _reset = Reset(&self.active);
        f()
    }
}

impl WorkerContext {
    /// The runtime this worker belongs to.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Takes the P out of this thread, if it holds one and no scheduler code
    /// on this thread is using it. During a poll that takes it from the
    /// slot it is lent to, as the monitor would.
    pub(crate) fn take_core(&self) -> Option<Box<Core>> {
        if let Some((index, seq)) = self.lent.get() {
            return self.shared.procs[index].remote.slot.take_lent(seq);
        }
        self.core.try_borrow_mut().ok()?.take()
    }

    /// Whether the monitor asked the task being polled here to yield.
    pub(crate) fn preempt_requested(&self) -> bool {
        self.lent.get().is_some_and(|(index, seq)| {
            self.shared.procs[index].remote.watch.preempt.load(Relaxed) == seq
        })
    }

    /// Polls `task` with this thread's P lent to its slot. Returns `false`
    /// if the P was taken meanwhile (the monitor retook it, or the task
    /// handed it off with `goro::blocking`): the thread has none any more.
    fn poll(&self, task: Runnable) -> bool {
        let Some(mut core) = self.core.borrow_mut().take() else {
            // No P (cannot happen: callers hold one); run it anyway.
            task.run();
            return false;
        };
        core.seq += 1;
        let (index, seq) = (core.index, core.seq);
        let remote = &self.shared.procs[index].remote;
        let meta = task.metadata();
        remote.watch.task_id.store(meta.id().as_u64(), Relaxed);
        remote
            .watch
            .task_location
            .store(std::ptr::from_ref(meta.location()).cast_mut(), Relaxed);
        remote.slot.lend(core, seq);
        self.lent.set(Some((index, seq)));
        task.run();
        self.lent.set(None);
        let yielded = self.yielded.take();
        match remote.slot.reclaim(seq) {
            Some(mut core) => {
                if let Some(task) = yielded {
                    core.schedule_local(&self.shared, task, true);
                }
                *self.core.borrow_mut() = Some(core);
                true
            }
            None => {
                if let Some(task) = yielded {
                    self.shared.schedule_remote(task);
                }
                self.shared.report_retake(index, seq);
                false
            }
        }
    }

    /// Gives a P (back) to this thread.
    pub(crate) fn put_core(&self, core: Box<Core>) {
        *self.core.borrow_mut() = Some(core);
    }

    /// Whether this worker belongs to the runtime of `shared`.
    pub(crate) fn belongs_to(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }
}

/// If this thread runs a P of `shared`, calls `f` with it and the task;
/// otherwise hands the task back.
pub(crate) fn with_local_core(
    shared: &Arc<Shared>,
    task: Runnable,
    f: impl FnOnce(&mut Core, Runnable),
) -> Option<Runnable> {
    context::with_worker(|w| {
        let Some(w) = w.filter(|w| w.belongs_to(shared)) else {
            return Some(task);
        };
        if let Some((index, seq)) = w.lent.get() {
            // A task being polled wakes another: borrow the lent P back.
            let mut task = Some(task);
            shared.procs[index]
                .remote
                .slot
                .with_lent(seq, |core| f(core, task.take().expect("taken once")));
            return task; // `Some` only if the P was taken meanwhile
        }
        // The P is borrowed only inside scheduler code. That runs user code
        // only in wakers called by the driver: collect those tasks. Anything
        // else falls back to the global queue.
        let Ok(mut core) = w.core.try_borrow_mut() else {
            if w.polled.active.get() {
                w.polled.tasks.borrow_mut().push(task);
                return None;
            }
            return Some(task);
        };
        match core.as_deref_mut() {
            Some(core) => {
                f(core, task);
                None
            }
            None => Some(task),
        }
    })
}

/// Keeps `task`, which woke itself while this worker polls it, for the end
/// of the poll (see `WorkerContext::yielded`); hands it back elsewhere.
pub(crate) fn defer_yield(shared: &Arc<Shared>, task: Runnable) -> Option<Runnable> {
    context::with_worker(|w| match w {
        Some(w) if w.belongs_to(shared) && w.lent.get().is_some() => {
            if let Some(other) = w.yielded.replace(Some(task)) {
                // Cannot happen (one poll, one self-wake); keep both anyway.
                return w.yielded.replace(Some(other));
            }
            None
        }
        _ => Some(task),
    })
}

/// The index of the P this thread runs, if it is a worker thread holding
/// one: per-P structures outside the executor (the reactor's timers) shard
/// by it. `None` elsewhere, and in the rare moments the scheduler itself
/// holds the P.
///
/// # Examples
///
/// ```
/// assert_eq!(goro_executor::current_proc(), None);
/// let rt = goro_executor::Runtime::builder().maxprocs(2).build().unwrap();
/// let p = rt.block_on(rt.spawn(async { goro_executor::current_proc() })).unwrap();
/// assert!(p.unwrap() < 2);
/// ```
pub fn current_proc() -> Option<usize> {
    context::with_worker(|w| {
        let w = w?;
        if let Some((index, _)) = w.lent.get() {
            return Some(index);
        }
        let core = w.core.try_borrow().ok()?;
        core.as_ref().map(|c| c.index)
    })
}

/// Whether the task being polled on this thread has run long enough that
/// the monitor asks it to yield (half the retake threshold, 5 ms by
/// default). goro's I/O and timer futures check this and yield once;
/// futures of other crates can too. `false` outside worker threads.
///
/// # Examples
///
/// ```
/// assert!(!goro::should_yield());
/// ```
pub fn should_yield() -> bool {
    context::with_worker(|w| w.is_some_and(WorkerContext::preempt_requested))
}

/// The body of a worker thread.
pub(crate) fn run(shared: Arc<Shared>, core: Box<Core>) {
    shared.procs[core.index]
        .remote
        .watch
        .thread
        .store(crate::thread_state::ThreadRef::current().to_bits(), Relaxed);
    let ctx = WorkerContext {
        shared: shared.clone(),
        core: RefCell::new(Some(core)),
        polled: Polled::default(),
        lent: Cell::new(None),
        yielded: Cell::new(None),
    };
    context::set_worker(&ctx, || {
        while let Some(task) = next_task(&ctx) {
            run_task(&ctx, task);
        }
    });
    // Shutdown: drop what this P still holds. Destructors may wake other
    // tasks; those wait in the global queue for `Shared::finish_shutdown`.
    drop(std::mem::take(&mut *ctx.polled.tasks.borrow_mut()));
    let core = ctx.core.borrow_mut().take();
    if let Some(core) = core {
        drop(shared.procs[core.index].remote.runnext.take());
        drop(core);
    }
}

/// The next task for this thread, or `None` when it has no P any more: the
/// runtime shut down, or a resize retired its P.
fn next_task(ctx: &WorkerContext) -> Option<Runnable> {
    loop {
        {
            let mut core = ctx.core.borrow_mut();
            let core = core.as_deref_mut()?;
            if let Some(task) = core.find_runnable(&ctx.shared, &ctx.polled) {
                return Some(task);
            }
        }
        if ctx.shared.is_shutdown() {
            return None;
        }
        // `find_runnable` gave up because the P's index is past maxprocs.
        // Tasks a driver call woke while the worker slept are queued first,
        // ahead of new work, as `take_polled` would have.
        for task in ctx.polled.tasks.borrow_mut().drain(..) {
            ctx.shared.woken.push(task);
        }
        let core = ctx.core.borrow_mut().take()?;
        match ctx.shared.retire(core) {
            Ok(()) => return None,
            // Grown back before we got the resize lock: keep running it.
            Err(core) => ctx.put_core(core),
        }
    }
}

/// Runs `task`, then whatever it put in `runnext`, up to the chain cap.
fn run_task(ctx: &WorkerContext, task: Runnable) {
    if !ctx.poll(task) {
        return;
    }
    let mut chain = 0;
    loop {
        let next = {
            let mut core = ctx.core.borrow_mut();
            let Some(core) = core.as_deref_mut() else {
                return;
            };
            let Some(next) = ctx.shared.procs[core.index].remote.runnext.take() else {
                return;
            };
            if chain == MAX_RUNNEXT_CHAIN {
                // The slice is used up: queue it behind the others.
                core.push_back(&ctx.shared, next);
                return;
            }
            next
        };
        chain += 1;
        if !ctx.poll(next) {
            return;
        }
    }
}

/// Every stride coprime with `n`: from a random start, visiting
/// `start + k * stride` for `k < n` reaches every P once (Go's
/// `stealOrder`).
fn coprimes(n: usize) -> Vec<usize> {
    (1..=n.max(1)).filter(|&k| gcd(k, n) == 1).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Core {
    /// The index of this P.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

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
    pub(crate) fn schedule_local(&mut self, shared: &Shared, task: Runnable, yielded: bool) {
        if yielded {
            if !shared.injector.is_empty() {
                self.pull_global_batch(shared);
            }
            self.push_back(shared, task);
        } else if let Some(prev) = shared.procs[self.index].remote.runnext.replace(task) {
            self.push_back(shared, prev);
        }
        shared.notify();
    }

    fn push_back(&mut self, shared: &Shared, task: Runnable) {
        self.ring.push_back(task, |t| shared.injector.push(t));
    }

    /// Go's `findRunnable`. Returns `None` only at shutdown.
    fn find_runnable(&mut self, shared: &Shared, polled: &Polled) -> Option<Runnable> {
        let index = self.index;
        loop {
            if shared.is_shutdown() || index >= shared.num_procs() {
                return None;
            }
            if let Some(driver) = shared.driver.as_deref() {
                polled.collect(|| driver.tick(index));
                if let Some(task) = self.take_polled(shared, polled) {
                    return Some(self.found(shared, task));
                }
            }
            if let Some(task) = self.find_local_or_global(shared, polled) {
                return Some(self.found(shared, task));
            }
            // Ready I/O before other workers' tasks (Go polls the network
            // before stealing): it is cheap and keeps the P's own work local.
            if let Some(task) = self.poll_driver(shared, polled) {
                return Some(self.found(shared, task));
            }
            if self.spinning || shared.idle.try_start_spinning() {
                self.spinning = true;
                if let Some(task) = self.steal(shared) {
                    return Some(self.found(shared, task));
                }
            }
            // Nothing anywhere: sleep, after the protocol's final recheck. The
            // worker sleeps in the driver if it can take the poller role,
            // else on its own parker. A resize that retires this P counts as
            // work: it must not sleep through it (`Idle::wake_sleeper`).
            let was_spinning = std::mem::take(&mut self.spinning);
            match shared.idle.sleep(
                index,
                was_spinning,
                &shared.procs[index].parker,
                || shared.has_work() || index >= shared.num_procs_seqcst(),
                || shared.is_shutdown(),
                |p| {
                    polled.collect(|| p.park_polling(None)).unwrap_or_else(|| {
                        p.park();
                        true
                    })
                },
            ) {
                Wake::Search => self.spinning = true,
                Wake::TimedOut => {}
                Wake::Shutdown => return None,
            }
            shared.monitor_wake();
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

    /// Moves the tasks a driver call made ready into the ring and returns
    /// the first; wakes another worker for the rest.
    fn take_polled(&mut self, shared: &Shared, polled: &Polled) -> Option<Runnable> {
        let mut tasks = polled.tasks.borrow_mut();
        if tasks.is_empty() {
            return None;
        }
        let mut tasks = tasks.drain(..);
        let first = tasks.next();
        let mut surplus = false;
        for task in tasks {
            // Past the ring's room, to the queue of woken tasks, which every
            // worker takes before the global queue: a ring overflow would
            // put them behind all the new work waiting there.
            if self.ring.remaining() > 0 {
                self.push_back(shared, task);
            } else {
                shared.woken.push(task);
            }
            surplus = true;
        }
        if surplus {
            shared.notify();
        }
        first
    }

    /// A spinning worker that finds work stops spinning; if it was the last
    /// spinner it wakes another, which will look for more (Go's
    /// `resetspinning`). This chains wakeups only while work keeps appearing.
    fn found(&mut self, shared: &Shared, task: Runnable) -> Runnable {
        if std::mem::take(&mut self.spinning) && shared.idle.stop_spinning() {
            shared.notify();
        }
        task
    }

    fn find_local_or_global(&mut self, shared: &Shared, polled: &Polled) -> Option<Runnable> {
        self.tick = self.tick.wrapping_add(1);
        if self.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            // A busy worker also polls now and then, so ready I/O does not
            // wait for a worker to run dry (tokio's `event_interval`).
            if let Some(task) = self.poll_driver(shared, polled) {
                self.push_back(shared, task);
            }
            if let Some(task) = shared.injector.pop() {
                return Some(task);
            }
        }
        if let Some(task) = shared.procs[self.index].remote.runnext.take() {
            return Some(task);
        }
        // Tasks woken from I/O or a timer by a thread without a P go before
        // the ring: their timers are due now, the ring may hold new work.
        if !shared.woken.is_empty() {
            if let Some(task) = shared.woken.pop() {
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
            .injector
            .batch_size(shared.num_procs(), self.ring.remaining());
        if n == 0 {
            return None;
        }
        let first = shared.injector.pop()?;
        self.move_from_global(shared, n - 1);
        Some(first)
    }

    /// Moves a fair share of the global queue to the ring's tail.
    fn pull_global_batch(&mut self, shared: &Shared) {
        // Keep one slot for the task being scheduled.
        let room = self.ring.remaining().saturating_sub(1);
        let n = shared.injector.batch_size(shared.num_procs(), room);
        self.move_from_global(shared, n);
    }

    fn move_from_global(&mut self, shared: &Shared, n: usize) {
        for _ in 0..n {
            match shared.injector.pop() {
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
                let remote = &shared.procs[victim].remote;
                if let Some(task) = remote.stealer.steal_into(&mut self.ring) {
                    shared.procs[self.index].stats.steals.incr();
                    return Some(task);
                }
                if last_pass && remote.runnext.is_occupied() {
                    if let Some(task) = steal_runnext(remote) {
                        shared.procs[self.index].stats.steals.incr();
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
        if let Some(task) = shared.procs[self.index].remote.runnext.take() {
            shared.injector.push(task);
            moved += 1;
        }
        while let Some(task) = self.ring.pop() {
            shared.injector.push(task);
            moved += 1;
        }
        if std::mem::take(&mut self.spinning) {
            shared.idle.stop_spinning();
        }
        moved
    }

    /// A steal stride for `n` Ps, picked by `r`.
    fn stride(&mut self, r: u64, n: usize) -> usize {
        if self.steal_order.0 != n {
            self.steal_order = (n, coprimes(n));
        }
        let order = &self.steal_order.1;
        order[(r % order.len() as u64) as usize]
    }

    fn next_rand(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::coprimes;

    #[test]
    fn every_stride_visits_each_p_once() {
        assert_eq!(coprimes(6), vec![1, 5]);
        for n in 1..40usize {
            for stride in coprimes(n) {
                let mut seen: Vec<usize> = (0..n).map(|k| (7 + k * stride) % n).collect();
                seen.sort_unstable();
                seen.dedup();
                assert_eq!(seen.len(), n, "n={n} stride={stride}");
            }
        }
    }
}
