//! A worker: an OS thread (Go's M) running a P (`processor::Core`) through
//! Go's scheduling loop: find a task (`find`), poll it with the P lent to its
//! slot (`lend`), run what it put in `runnext`, repeat.
//!
//! The `Core` is a value the thread owns through its [`WorkerContext`], not
//! something welded to the thread: the blocking hand-off and sysmon's retake
//! move it to another thread, and a runtime resize retires it.

use std::cell::{Cell, RefCell, RefMut};
use std::sync::Arc;

use crate::context;
use crate::processor::Core;
use crate::registry::{Registry, ThreadCounts};
use crate::shared::Shared;
use crate::task::Runnable;

/// Tasks run back to back from `runnext` in one time slice (tokio's 3): more,
/// and two tasks waking each other would monopolise the worker.
const MAX_RUNNEXT_CHAIN: u32 = 3;

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
    /// Strong counts of `shared` kept in stock for tasks (`task_ref`): a
    /// task spawned here takes one, a task freed here gives its own back,
    /// without touching the `Arc` counter. Given back on drop.
    credits: Cell<usize>,
    /// Tasks spawned and finished on this thread, in the registry's list
    /// while this context lives (`Registry::attach`).
    counts: crate::sync::Arc<crate::padded::Padded<ThreadCounts>>,
}

impl Drop for WorkerContext {
    fn drop(&mut self) {
        self.shared.registry.detach(&self.counts);
        for _ in 0..self.credits.replace(0) {
            // SAFETY: each credit is a strong count of `shared` that this
            // context owns (`task_ref`); `self.shared` holds one more, so
            // this never frees `Shared`.
            unsafe { Arc::decrement_strong_count(Arc::as_ptr(&self.shared)) };
        }
    }
}

/// Tasks that a driver poll or timer tick on a worker makes ready. The P is
/// borrowed by the scheduler then, so the schedule function cannot reach
/// it; it leaves the tasks here, and the worker moves them to its own ring
/// afterwards (Go's `injectglist` keeps them local too).
#[derive(Default)]
pub(crate) struct Polled {
    active: Cell<bool>,
    tasks: RefCell<Vec<Runnable>>,
}

impl Polled {
    /// The tasks collected so far.
    pub(crate) fn tasks(&self) -> RefMut<'_, Vec<Runnable>> {
        self.tasks.borrow_mut()
    }

    /// Whether no task was collected (`false` while they are borrowed).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.try_borrow().is_ok_and(|t| t.is_empty())
    }

    /// Runs `f` (a driver call) with wakes collected here.
    pub(crate) fn collect<R>(&self, f: impl FnOnce() -> R) -> R {
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
            return self.shared.ps.get(index).lend().take_lent(seq);
        }
        self.core.try_borrow_mut().ok()?.take()
    }

    /// Whether the monitor asked the task being polled here to yield.
    pub(crate) fn preempt_requested(&self) -> bool {
        self.lent
            .get()
            .is_some_and(|(index, seq)| self.shared.ps.get(index).preempt_requested(seq))
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
        let job = std::mem::take(&mut core.job);
        let (index, seq) = (core.index, core.seq);
        let p = self.shared.ps.get(index);
        if job {
            p.note_job();
            p.stats().jobs.incr(); // while this thread still holds the P
        } else {
            p.note_poll(task.metadata());
        }
        p.lend().lend(core, seq);
        self.lent.set(Some((index, seq)));
        match &self.shared.config.jobs {
            Some(jobs) if job => crate::help::run_job(&**jobs, task),
            _ => {
                task.run();
            }
        }
        self.lent.set(None);
        let yielded = self.yielded.take();
        match p.lend().reclaim(seq) {
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
    #[inline]
    pub(crate) fn belongs_to(&self, shared: &Shared) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.shared), shared)
    }

    /// Counts a task of this worker's runtime spawned on this thread.
    #[inline]
    pub(crate) fn note_spawned(&self) {
        self.counts.note_spawned();
    }

    /// Counts a task of `registry`'s runtime whose future this thread
    /// dropped, if this worker belongs to it; `false` otherwise.
    #[inline]
    pub(crate) fn count_finished(&self, registry: &Registry) -> bool {
        let mine = std::ptr::eq(&self.shared.registry, registry);
        if mine {
            self.counts.note_finished();
        }
        mine
    }

    /// Takes one strong count of this worker's runtime from the stock, if
    /// there is one (`task_ref`).
    #[inline]
    pub(crate) fn take_credit(&self) -> bool {
        let n = self.credits.get();
        if n == 0 {
            return false;
        }
        self.credits.set(n - 1);
        true
    }

    /// Puts one strong count of this worker's runtime in stock, unless the
    /// stock is full (`task_ref`).
    #[inline]
    pub(crate) fn give_credit(&self) -> bool {
        let n = self.credits.get();
        if n >= crate::task_ref::MAX_CREDITS {
            return false;
        }
        self.credits.set(n + 1);
        true
    }
}

/// If this thread runs a P of `shared`, calls `f` with it and the task;
/// otherwise hands the task back.
pub(crate) fn with_local_core(
    shared: &Shared,
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
            shared
                .ps
                .get(index)
                .lend()
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

/// Whether this thread is a worker of `shared`'s runtime. Its context holds
/// a strong count of the runtime for as long as it runs, so `shared`
/// outlives anything this thread does meanwhile (`shared::schedule_task`).
#[inline]
pub(crate) fn runs(shared: &Shared) -> bool {
    context::with_worker(|w| w.is_some_and(|w| w.belongs_to(shared)))
}

/// Whether this thread is a worker of `shared`'s runtime polling a task
/// whose P was taken during the poll (retaken by the monitor, or handed off
/// by `goro::blocking`): it runs the task without a P (`pace`).
#[inline]
pub(crate) fn lost_p(shared: &Shared) -> bool {
    context::with_worker(|w| w.is_some_and(|w| w.belongs_to(shared) && w.lent.get().is_some()))
}

/// Whether this thread is a worker (of any runtime) inside a driver call
/// whose wakes it collects ([`Polled::collect`]). A task of *another*
/// runtime woken there was woken by I/O or a timer too: the reactor and its
/// timer shards are shared by every runtime of the process.
pub(crate) fn in_driver_call() -> bool {
    context::with_worker(|w| w.is_some_and(|w| w.polled.active.get()))
}

/// Keeps `task`, which woke itself while this worker polls it, for the end
/// of the poll (see `WorkerContext::yielded`); hands it back elsewhere.
pub(crate) fn defer_yield(shared: &Shared, task: Runnable) -> Option<Runnable> {
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
    shared.ps.get(core.index).set_thread_current();
    let ctx = WorkerContext {
        shared: shared.clone(),
        core: RefCell::new(Some(core)),
        polled: Polled::default(),
        lent: Cell::new(None),
        yielded: Cell::new(None),
        credits: Cell::new(0),
        counts: shared.registry.attach(),
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
        drop(shared.ps.get(core.index).runnext().take());
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
            ctx.shared.queues.io_ready.push(task);
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
            let Some(next) = ctx.shared.ps.get(core.index).runnext().take() else {
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
