//! The monitor: goro's counterpart of Go's sysmon for the blocking pool.
//!
//! It decides when the pool grows past [`Shared::eager`] threads. A
//! submission that finds no idle thread arms it; while work is queued it
//! wakes every [`GROW_TICK`] and starts one thread for each worker that has
//! been in the same job since its previous look *and sleeps in the kernel*
//! (`S`/`D` in `/proc/self/task/<tid>/stat` on Linux; see
//! [`goro_procs::ThreadRef`]), once per job, as Go hands a P off once its
//! syscall outlasts a sysmon tick. A job that is on the CPU, or waiting for
//! one on a loaded machine, is not helped by another thread: 100,000 fast
//! closures (4 KiB reads of cached files) are run by the few threads already
//! there, while closures that block (sleep, disk, DNS) get a thread each, up
//! to the cap. Where the platform does not tell a thread's state (Windows),
//! a job held past one tick counts as blocked, as before. As a backstop, a
//! queue that has not moved at all for [`STALLED_TICKS`] ticks gets one more
//! thread. When the queue is empty it goes dormant, and it exits after the
//! keep-alive like any idle thread.

use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::shared::Shared;

/// How long a job must hold its thread, asleep in the kernel, before the
/// monitor counts that thread as blocked and starts another: 50 µs, between
/// Go's sysmon tick (20 µs) and the cost of starting a thread (~20-50 µs).
/// A disk read, a DNS lookup or a 1 ms sleep trips it; a read of a cached
/// 4 KiB file does not sleep, however long a loaded machine keeps it off
/// the CPU. A shorter tick would mostly measure timer slack (50 µs by
/// default on Linux) and burn CPU while a backlog lasts.
pub const GROW_TICK: Duration = Duration::from_micros(50);

const NONE: u8 = 0;
const DORMANT: u8 = 1;
const ACTIVE: u8 = 2;

pub(crate) struct Monitor {
    /// `NONE` (no thread), `DORMANT` (parked, queue was empty) or `ACTIVE`.
    state: AtomicU8,
    /// The monitor thread, stored by the thread itself before it first goes
    /// dormant, so `arm` can unpark it.
    thread: Mutex<Option<Thread>>,
}

impl Monitor {
    pub(crate) fn new() -> Self {
        Monitor {
            state: AtomicU8::new(NONE),
            thread: Mutex::new(None),
        }
    }

    /// Makes sure the monitor is active. Cheap when it already is: one load.
    pub(crate) fn arm(&self, shared: &Arc<Shared>) {
        loop {
            match self.state.load(SeqCst) {
                ACTIVE => return,
                DORMANT => {
                    if self
                        .state
                        .compare_exchange(DORMANT, ACTIVE, SeqCst, SeqCst)
                        .is_ok()
                    {
                        self.unpark();
                        return;
                    }
                }
                _ => {
                    if self
                        .state
                        .compare_exchange(NONE, ACTIVE, SeqCst, SeqCst)
                        .is_ok()
                    {
                        self.start(shared);
                        return;
                    }
                }
            }
        }
    }

    pub(crate) fn unpark(&self) {
        let t = goro_lock::lock(&self.thread);
        if let Some(t) = t.as_ref() {
            t.unpark();
        }
    }

    fn start(&self, shared: &Arc<Shared>) {
        let name = format!("{}-monitor", shared.config.name);
        let s = Arc::clone(shared);
        if let Err(e) = thread::Builder::new()
            .name(name)
            .stack_size(64 * 1024)
            .spawn(move || run(&s))
        {
            self.state.store(NONE, SeqCst);
            eprintln!("goro-blocking: could not start the pool monitor: {e}");
        }
    }
}

fn run(shared: &Arc<Shared>) {
    let me = &shared.monitor;
    *goro_lock::lock(&me.thread) = Some(thread::current());
    let (mut ticks, mut stalled) = (0u64, 0u32);
    loop {
        thread::sleep(GROW_TICK);
        if !shared.queue.is_empty() {
            ticks += 1;
            tick(shared, ticks, &mut stalled);
            continue;
        }
        stalled = 0;
        // Go dormant; the store-buffer pattern with `Shared::notify` (which
        // pushes, fences, then arms) means a job pushed before the fence is
        // seen here, or the submitter sees `DORMANT` and wakes us.
        me.state.store(DORMANT, SeqCst);
        if !shared.queue.is_empty() {
            let _ = me.state.compare_exchange(DORMANT, ACTIVE, SeqCst, SeqCst);
            continue;
        }
        let deadline = Instant::now() + shared.config.keep_alive;
        loop {
            if me.state.load(SeqCst) == ACTIVE {
                break;
            }
            let now = Instant::now();
            if now >= deadline || shared.shutdown.load(SeqCst) {
                if me
                    .state
                    .compare_exchange(DORMANT, NONE, SeqCst, SeqCst)
                    .is_ok()
                {
                    return;
                }
                break; // armed meanwhile
            }
            thread::park_timeout(deadline - now);
        }
    }
}

/// Ticks without any job starting or finishing, while jobs wait, after
/// which the monitor starts a thread even though no worker sleeps in the
/// kernel (about 1 ms at [`GROW_TICK`]): the queue is not draining.
const STALLED_TICKS: u32 = 20;

/// One look at a backlog. `tick` counts the monitor's looks; `stalled`, the
/// looks in a row that saw no job start or finish.
fn tick(shared: &Arc<Shared>, tick: u64, stalled: &mut u32) {
    if shared.searching.load(SeqCst) > 0 {
        return; // someone is about to take the work
    }
    if shared.sleepers.len() > 0 {
        shared.notify(); // a safety net; submissions normally did this
        return;
    }
    let (mut blocked, mut newly, mut progressed) = (0, 0, false);
    for slot in shared.registry().iter() {
        let look = slot.observe(tick);
        blocked += usize::from(look.blocked);
        newly += usize::from(look.newly);
        progressed |= look.progressed;
    }
    *stalled = if progressed { 0 } else { *stalled + 1 };
    // One thread per job that just turned out to block in the kernel (Go
    // hands off each P whose syscall outlasts a tick), enough to keep
    // `eager` threads that are not blocked, and one more when the queue has
    // not moved for `STALLED_TICKS`; never more than the work waiting.
    let running = shared.threads.load(SeqCst).saturating_sub(blocked);
    let mut want = newly.max(shared.eager.saturating_sub(running));
    if *stalled >= STALLED_TICKS {
        *stalled = 0;
        want = want.max(1);
    }
    let want = want.min(shared.queue.len());
    for _ in 0..want {
        if !shared.try_spawn_worker() {
            break;
        }
    }
}
