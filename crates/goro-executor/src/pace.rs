//! Pacing a thread that feeds the global queue while it runs outside the Ps.
//!
//! Go preempts a goroutine that computes for long: it goes to the global
//! run queue and waits its turn, so a loop that spawns goroutines gets a
//! fair share of the Ps and no more. A Rust runtime cannot preempt a poll.
//! When a task stays in one poll past the retake threshold, sysmon takes
//! its P (`retake`) and the thread goes on running that poll without one;
//! a `block_on` thread runs its future outside the Ps from the start. Such
//! a thread is one more thread competing with the workers for the cores,
//! and if it spawns or wakes tasks in a loop it fills the global queue
//! faster than the workers, which share what CPU is left, can run them.
//!
//! Measured on `benches/timers` (spread mode: one task spawns 1,000,000
//! tasks that each sleep 1-100 ms, on 2 cores): once its P was retaken the
//! spawning loop took about 70 % of a core, the two workers ran about 100
//! tasks per millisecond between them, the global queue grew by about
//! 2,700 tasks per millisecond, and tasks whose timers fired on time
//! waited up to 150 ms for a worker.
//!
//! So such a thread, while the global queue holds more than
//! [`BACKLOG_PER_P`] tasks per active P, sleeps in short pauses between its
//! pushes: it then adds tasks about as fast as the workers take them, and
//! the CPU it leaves goes to the tasks already queued, as a preempted
//! goroutine's turn would. Not paced:
//!
//! - a worker that holds its P: its spawns go to its own ring first, and it
//!   is one of the `maxprocs` threads;
//! - threads outside the runtime (the blocking pool completing jobs, a
//!   plain thread waking a task): a wake must never block a thread the
//!   runtime does not own;
//! - wakes from a driver call (I/O, timers): they go to the queue of woken
//!   tasks, not to the global queue.

use std::cell::Cell;
use std::time::Duration;

use crate::context;
use crate::shared::Shared;
use crate::worker;

/// Tasks per active P the global queue may hold before a thread running
/// outside the Ps is paced: eight full rings, a few milliseconds of work
/// for the workers.
pub(crate) const BACKLOG_PER_P: usize = 2048;

/// A paced thread looks at the global queue once per this many of its
/// pushes, so that spawning from `block_on` pays for the look (reading the
/// queue's length costs about 80 instructions) on one spawn in 16.
const LOOK_EVERY: u32 = 16;

/// How long a paced thread sleeps at a time while the global queue is over
/// the mark. Linux adds its default timer slack (50 us) to a sleep this
/// short: about 70 us in all. Windows sleeps at least its timer
/// resolution (about a millisecond): coarser pacing, the same bound.
const PAUSE: Duration = Duration::from_micros(20);

/// Most pauses at one look (about a millisecond in all): if the workers do
/// not take from the queue at all (every one of them in a long poll), the
/// thread goes on, [`LOOK_EVERY`] tasks at a time, instead of waiting for
/// them.
const MAX_PAUSES: u32 = 16;

#[cfg(not(loom))]
thread_local! {
    /// This thread's pushes that [`Shared::pace_producer`] counted.
    static PUSHES: Cell<u32> = const { Cell::new(0) };
}
// Loom's own, so that each model run starts from zero.
#[cfg(loom)]
loom::thread_local! {
    static PUSHES: Cell<u32> = Cell::new(0);
}

impl Shared {
    /// Called after this thread pushed a task to the global queue. If the
    /// thread runs a task or a `block_on` future without holding a P, then
    /// once in [`LOOK_EVERY`] pushes: while the queue holds more than
    /// [`BACKLOG_PER_P`] tasks per active P, sleeps for [`PAUSE`], at most
    /// [`MAX_PAUSES`] times.
    #[inline]
    pub(crate) fn pace_producer(&self) {
        if worker::lost_p(self) || context::in_block_on() {
            let n = PUSHES.with(|c| {
                let n = c.get().wrapping_add(1);
                c.set(n);
                n
            });
            if n % LOOK_EVERY == 0 {
                self.pace_slow();
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn pace_slow(&self) {
        let mark = BACKLOG_PER_P * self.num_procs();
        for _ in 0..MAX_PAUSES {
            if self.is_shutdown() || self.queues.global.len() <= mark {
                return;
            }
            pause();
        }
    }
}

#[cfg(not(loom))]
fn pause() {
    std::thread::sleep(PAUSE);
}

/// Loom cannot model sleeping: a yield lets the other model threads run.
#[cfg(loom)]
fn pause() {
    let _ = PAUSE;
    loom::thread::yield_now();
}
