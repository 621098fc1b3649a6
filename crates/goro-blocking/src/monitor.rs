//! The monitor: goro's counterpart of Go's sysmon for the blocking pool.
//!
//! It decides when the pool grows past [`Shared::eager`] threads. A
//! submission that finds no idle thread arms it; while work is queued it
//! wakes every [`GROW_TICK`] and starts one thread for each worker that has
//! been in the same job since its previous look (once per job), as Go hands
//! a P off once its syscall outlasts a sysmon tick. Workers that keep finishing jobs never
//! look stuck, so 100,000 fast closures are run by the few threads already
//! there, while closures that block (sleep, disk, DNS) get a thread each,
//! up to the cap. When the queue is empty it goes dormant, and it exits
//! after the keep-alive like any idle thread.

use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::shared::Shared;

/// How long a job must hold its thread before the monitor counts that
/// thread as blocked and starts another: 50 µs, between Go's sysmon tick
/// (20 µs) and the cost of starting a thread (~20-50 µs). A read of a cached
/// 4 KiB file takes a few µs and never trips it; a disk read, a DNS lookup
/// or a 1 ms sleep does. A shorter tick would mostly measure timer slack
/// (50 µs by default on Linux) and burn CPU while a backlog lasts.
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
    loop {
        thread::sleep(GROW_TICK);
        if !shared.queue.is_empty() {
            tick(shared);
            continue;
        }
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

/// One look at a backlog.
fn tick(shared: &Arc<Shared>) {
    if shared.searching.load(SeqCst) > 0 {
        return; // someone is about to take the work
    }
    if shared.sleepers.len() > 0 {
        shared.notify(); // a safety net; submissions normally did this
        return;
    }
    let (mut stuck, mut newly) = (0, 0);
    for slot in shared.registry().iter() {
        let (s, n) = slot.observe();
        stuck += usize::from(s);
        newly += usize::from(n);
    }
    // One thread per job that just turned out to block (Go hands off each
    // P whose syscall outlasts a tick), and enough to keep `eager` threads
    // that are not blocked; never more than the work waiting.
    let running = shared.threads.load(SeqCst).saturating_sub(stuck);
    let want = newly
        .max(shared.eager.saturating_sub(running))
        .min(shared.queue.len());
    for _ in 0..want {
        if !shared.try_spawn_worker() {
            break;
        }
    }
}
