//! A pool thread's life: run queued jobs, search briefly when the queue runs
//! dry, sleep, and exit after the keep-alive.

use std::hint;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicU64, fence};
use std::thread;
use std::time::Instant;

use crate::help::SAMPLE_EVERY;
use crate::shared::Shared;
use crate::sleepers::Wake;

/// How many times a searching thread looks at the empty queue (with a spin
/// hint in between) before it goes to sleep: about a microsecond, enough to
/// catch the next job of a caller that submits in a loop, too short to steal
/// a noticeable share of a core from the runtime's workers.
const SPIN_ROUNDS: u32 = 64;

/// A worker's progress as the monitor sees it.
#[derive(Debug, Default)]
pub(crate) struct WorkerSlot {
    /// Incremented when a job starts and when it ends: odd while busy.
    seq: AtomicU64,
    /// The worker thread (`ThreadRef::to_bits`), set when it starts.
    thread: AtomicU64,
    /// The monitor's last reading of `seq` (only the monitor touches it).
    seen: AtomicU64,
    /// The job (`seq`) the monitor last started a thread for, so that one
    /// blocked job is compensated once (only the monitor touches it).
    compensated: AtomicU64,
    /// The monitor tick before which a job found running on the CPU is not
    /// looked at again (only the monitor touches it).
    recheck_at: AtomicU64,
}

/// What the monitor saw of one worker ([`WorkerSlot::observe`]).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Look {
    /// In the same job since the previous look, and asleep in the kernel
    /// (or in a state the platform does not tell).
    pub(crate) blocked: bool,
    /// Blocked, and no thread was started for that job yet (this look
    /// records that one is).
    pub(crate) newly: bool,
    /// The worker started or finished a job since the previous look.
    pub(crate) progressed: bool,
}

/// Ticks between two looks at the state of a job that was on the CPU (or
/// waiting for one, on its way to a blocking call): about 0.4 ms at
/// [`crate::GROW_TICK`], so a long computation costs the monitor one
/// `/proc` read per 0.4 ms, not one per tick, while a job that blocks
/// after a moment on the CPU is still seen soon.
const RECHECK_TICKS: u64 = 8;

impl WorkerSlot {
    /// Records the calling thread as this slot's worker.
    fn set_thread_current(&self) {
        self.thread
            .store(goro_procs::ThreadRef::current().to_bits(), Relaxed);
    }

    /// The monitor's look at this worker at its tick number `tick`. A job
    /// that has held the thread since the previous look counts as blocked
    /// only if the thread sleeps in the kernel (`S`/`D` on Linux): a job on
    /// the CPU, or waiting for one, is not helped by another thread. Where
    /// the platform does not tell: blocked (the old wall-clock rule).
    /// Monitor only.
    pub(crate) fn observe(&self, tick: u64) -> Look {
        let seq = self.seq.load(Relaxed);
        let before = self.seen.swap(seq, Relaxed);
        let progressed = seq != before;
        if seq % 2 == 0 || progressed {
            return Look {
                progressed,
                ..Look::default()
            };
        }
        if self.compensated.load(Relaxed) == seq {
            // Compensated already: it was blocked when last looked at.
            return Look {
                blocked: true,
                ..Look::default()
            };
        }
        if self.recheck_at.load(Relaxed) > tick {
            return Look::default();
        }
        let thread = goro_procs::ThreadRef::from_bits(self.thread.load(Relaxed));
        if thread.is_blocked() == Some(false) {
            self.recheck_at.store(tick + RECHECK_TICKS, Relaxed);
            return Look::default();
        }
        self.compensated.store(seq, Relaxed);
        Look {
            blocked: true,
            newly: true,
            progressed: false,
        }
    }
}

/// The thread's body. It owns one place in `shared.threads`.
pub(crate) fn run(shared: Arc<Shared>, slot: Arc<WorkerSlot>) {
    slot.set_thread_current();
    // Whether this thread holds one unit of `shared.searching`.
    let mut searching = false;
    let mut seq = 0u64;
    loop {
        if let Ok(job) = shared.queue.pop() {
            if searching {
                searching = false;
                // Go's `resetspinning`: submitters that saw us searching did
                // not wake anyone, so if more work waits, wake for them.
                if shared.searching.fetch_sub(1, SeqCst) == 1 && !shared.queue.is_empty() {
                    shared.notify();
                }
            }
            seq += 1;
            slot.seq.store(seq, Release);
            // A panic is caught by the task and reaches its JoinHandle.
            // One job in `SAMPLE_EVERY` is timed, the first included.
            if (seq / 2) % SAMPLE_EVERY == 0 {
                let start = Instant::now();
                job.run();
                shared.job_times.record(start.elapsed());
            } else {
                job.run();
            }
            seq += 1;
            slot.seq.store(seq, Release);
            continue;
        }

        // The queue looked empty. Search a little (at most one voluntary
        // searcher at a time, besides a thread a submitter just woke).
        if !searching && shared.searching.load(SeqCst) == 0 {
            shared.searching.fetch_add(1, SeqCst);
            searching = true;
        }
        if searching {
            let mut found = false;
            for _ in 0..SPIN_ROUNDS {
                if !shared.queue.is_empty() {
                    found = true;
                    break;
                }
                hint::spin_loop();
            }
            if found {
                continue; // pop above; still searching
            }
            thread::yield_now();
            if !shared.queue.is_empty() {
                continue;
            }
            searching = false;
            shared.searching.fetch_sub(1, SeqCst);
        }

        if shared.shutdown.load(SeqCst) && shared.queue.is_empty() {
            if exit(&shared, &slot) {
                return;
            }
            continue;
        }
        match shared.sleepers.sleep(&shared, shared.config.keep_alive) {
            Wake::Notified => searching = true,
            Wake::Cancelled | Wake::Shutdown => {}
            Wake::TimedOut => {
                if exit(&shared, &slot) {
                    return;
                }
            }
        }
    }
}

/// Gives up this thread's place. Returns false (and keeps the place) when
/// work arrived meanwhile that no one else may take.
fn exit(shared: &Arc<Shared>, slot: &Arc<WorkerSlot>) -> bool {
    shared.unregister(slot);
    shared.threads.fetch_sub(1, SeqCst);
    // Pairs with `Shared::notify`: a submitter that counted us as alive
    // (and so did not start a thread) pushed before this fence, and we see
    // its job here.
    fence(SeqCst);
    if !shared.queue.is_empty() && shared.reserve_thread() {
        shared.registry().push(Arc::clone(slot));
        return false;
    }
    true
}
