//! Which workers are searching for work ("spinning"), which are asleep, and the
//! protocol between a worker going to sleep and a thread that makes work
//! visible — Go's `wakep`, `resetspinning` and the spinning-to-idle recheck in
//! `findRunnable`. The invariant: work made visible is always found, either by
//! a worker that is awake, or by one this protocol wakes. No lost wakeup.
//!
//! A producer makes work visible (a queue push), then calls [`Idle::notify`].
//! A worker that found nothing calls [`Idle::sleep`], which registers it as a
//! sleeper *before* one last look at every queue. Both sides order those steps
//! with `SeqCst` fences, so at least one of them sees the other.

use std::sync::atomic::Ordering::SeqCst;

use crate::park::Parker;
use crate::sync::{AtomicUsize, Mutex, fence, lock};

/// Spinning and sleeper accounting for one runtime.
pub(crate) struct Idle {
    /// Workers searching for work (Go's `nmspinning`).
    num_spinning: AtomicUsize,
    /// Workers registered as sleepers (Go's `npidle`).
    num_sleeping: AtomicUsize,
    /// Indices of the sleeping workers. Deliberately separate from the global
    /// run queue: tokio shares one lock between the two.
    sleepers: Mutex<Vec<usize>>,
    /// Active workers (maxprocs); changes with a live resize.
    num_workers: AtomicUsize,
}

/// What [`Idle::sleep`] ended with.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The worker should search again, counted as spinning.
    Search,
    /// The park timed out with nobody waking the worker: it is no longer a
    /// sleeper and not counted as spinning (used to fire timers).
    TimedOut,
    /// The runtime is shutting down.
    Shutdown,
}

impl Idle {
    /// Accounting for `num_workers` workers, all running.
    pub(crate) fn new(num_workers: usize) -> Self {
        Idle {
            num_spinning: AtomicUsize::new(0),
            num_sleeping: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers: AtomicUsize::new(num_workers),
        }
    }

    /// A live resize changed the number of active workers. Only the
    /// spinning limit reads it, so a stale value briefly lets one worker
    /// too many (or too few) search.
    pub(crate) fn set_num_workers(&self, n: usize) {
        self.num_workers.store(n, SeqCst);
    }

    /// Number of workers searching for work.
    pub(crate) fn num_spinning(&self) -> usize {
        self.num_spinning.load(SeqCst)
    }

    /// Number of sleeping workers.
    pub(crate) fn num_sleeping(&self) -> usize {
        self.num_sleeping.load(SeqCst)
    }

    /// A worker that is not spinning asks to start searching other workers'
    /// queues. Refused when half of the busy workers already search (Go:
    /// `2*nmspinning < gomaxprocs - npidle`), which bounds the CPU burnt on
    /// searching when there is little work.
    pub(crate) fn try_start_spinning(&self) -> bool {
        let spinning = self.num_spinning.load(SeqCst);
        let busy = self
            .num_workers
            .load(SeqCst)
            .saturating_sub(self.num_sleeping.load(SeqCst));
        if 2 * spinning >= busy {
            return false;
        }
        self.num_spinning.fetch_add(1, SeqCst);
        true
    }

    /// A spinning worker found work and stops searching. Returns `true` when
    /// it was the last searcher; it must then call [`Idle::notify`] so that
    /// another worker looks for the rest of the work (Go's `resetspinning`).
    pub(crate) fn stop_spinning(&self) -> bool {
        self.num_spinning.fetch_sub(1, SeqCst) == 1
    }

    /// Called after making work visible: wakes one sleeper, unless a worker
    /// is already searching (it will find the work) or none sleeps (all are
    /// busy and will get to it). `has_work` re-inspects every queue; `unpark`
    /// wakes the chosen worker, which starts out counted as spinning.
    ///
    /// The common case, a worker already searching or none asleep, is
    /// inlined into the caller (it runs on every spawn): the fence and the
    /// two loads of the loop's first check. When that check finds a sleeper
    /// to wake, [`Idle::notify_slow`] runs the whole loop from its start,
    /// fence and check included: the same steps as before, one more look.
    #[inline]
    pub(crate) fn notify(&self, has_work: impl Fn() -> bool, unpark: impl Fn(usize)) {
        fence(SeqCst);
        if self.num_spinning.load(SeqCst) != 0 || self.num_sleeping.load(SeqCst) == 0 {
            return;
        }
        self.notify_slow(has_work, unpark);
    }

    /// [`Idle::notify`] when a worker may have to be woken.
    #[inline(never)]
    fn notify_slow(&self, has_work: impl Fn() -> bool, unpark: impl Fn(usize)) {
        loop {
            fence(SeqCst);
            if self.num_spinning.load(SeqCst) != 0 || self.num_sleeping.load(SeqCst) == 0 {
                return;
            }
            if self
                .num_spinning
                .compare_exchange(0, 1, SeqCst, SeqCst)
                .is_err()
            {
                return;
            }
            let woken = {
                let mut sleepers = lock(&self.sleepers);
                let woken = sleepers.pop();
                if woken.is_some() {
                    self.num_sleeping.fetch_sub(1, SeqCst);
                }
                woken
            };
            if let Some(index) = woken {
                unpark(index);
                return;
            }
            // Every sleeper left on its own. Our claim on `num_spinning` may
            // have made another producer skip its wakeup while a worker went
            // to sleep; so after giving the claim back, look again (Go avoids
            // this by taking its scheduler lock on every global-queue push).
            self.num_spinning.fetch_sub(1, SeqCst);
            fence(SeqCst);
            if !has_work() {
                return;
            }
        }
    }

    /// Wakes worker `index` if it sleeps, for a reason of its own rather
    /// than work (a live resize retired its P): like [`Idle::notify`], it
    /// takes the worker off the sleeper list and counts it as spinning, so
    /// the woken worker's [`Idle::sleep`] returns [`Wake::Search`] as after
    /// any wake. Returns whether it was asleep. A worker that is not asleep
    /// yet is not missed: [`Idle::sleep`] re-checks `has_work` after
    /// registering, under the same lock this takes, so a caller that changed
    /// what `has_work` reports before calling this is seen by one side.
    pub(crate) fn wake_sleeper(&self, index: usize, unpark: impl FnOnce(usize)) -> bool {
        {
            let mut sleepers = lock(&self.sleepers);
            let Some(pos) = sleepers.iter().position(|&i| i == index) else {
                return false;
            };
            sleepers.swap_remove(pos);
            self.num_sleeping.fetch_sub(1, SeqCst);
            self.num_spinning.fetch_add(1, SeqCst);
        }
        unpark(index);
        true
    }

    /// The sleep side of the protocol, for worker `index` that found nothing.
    /// `was_spinning` says whether it is counted in `num_spinning`;
    /// `has_work` re-inspects every queue; `park` blocks on the worker's
    /// parker and returns whether it consumed a wakeup token (`false`: it
    /// timed out). Returns once the worker should search again (then counted
    /// as spinning), its park timed out, or the runtime shuts down.
    pub(crate) fn sleep(
        &self,
        index: usize,
        was_spinning: bool,
        parker: &Parker,
        has_work: impl Fn() -> bool,
        is_shutdown: impl Fn() -> bool,
        park: impl FnOnce(&Parker) -> bool,
    ) -> Wake {
        {
            let mut sleepers = lock(&self.sleepers);
            sleepers.push(index);
            self.num_sleeping.fetch_add(1, SeqCst);
        }
        if was_spinning {
            self.num_spinning.fetch_sub(1, SeqCst);
        }
        fence(SeqCst);
        if is_shutdown() {
            self.leave_sleepers(index, parker);
            return Wake::Shutdown;
        }
        if has_work() {
            // Work appeared after our last look. Go back to searching, unless
            // a producer already picked us: then its unpark (and its count on
            // `num_spinning`) is ours, so take the token.
            if self.leave_sleepers(index, parker) {
                self.num_spinning.fetch_add(1, SeqCst);
            }
            return Wake::Search;
        }
        let woken = park(parker);
        if is_shutdown() {
            return Wake::Shutdown;
        }
        if !woken {
            if self.leave_sleepers(index, parker) {
                return Wake::TimedOut;
            }
            // Picked by a producer just as the timeout expired.
            return Wake::Search;
        }
        // Only `notify` and `wake_sleeper` unpark a worker outside
        // shutdown, and both removed us from the sleepers and counted us as
        // spinning.
        Wake::Search
    }

    /// Removes `index` from the sleepers. Returns `true` if it was still
    /// there; `false` means a producer removed it and will unpark it, in which
    /// case the token is consumed here.
    fn leave_sleepers(&self, index: usize, parker: &Parker) -> bool {
        let mut sleepers = lock(&self.sleepers);
        if let Some(pos) = sleepers.iter().position(|&i| i == index) {
            sleepers.swap_remove(pos);
            self.num_sleeping.fetch_sub(1, SeqCst);
            true
        } else {
            drop(sleepers);
            parker.park();
            false
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn at_most_half_of_busy_workers_spin() {
        let idle = Idle::new(4);
        assert!(idle.try_start_spinning());
        assert!(idle.try_start_spinning());
        assert!(
            !idle.try_start_spinning(),
            "2 of 4 busy workers already spin"
        );
        assert!(!idle.stop_spinning());
        assert!(idle.stop_spinning(), "the last spinner is told so");
    }

    #[test]
    fn notify_wakes_one_sleeper_and_counts_it_spinning() {
        use std::sync::Arc;
        let idle = Arc::new(Idle::new(2));
        let parker = Arc::new(Parker::new());
        let sleeper = {
            let (idle, parker) = (idle.clone(), parker.clone());
            std::thread::spawn(move || {
                idle.sleep(
                    1,
                    false,
                    &parker,
                    || false,
                    || false,
                    |p| {
                        p.park();
                        true
                    },
                )
            })
        };
        while idle.num_sleeping() == 0 {
            std::thread::yield_now();
        }
        let woken = std::sync::Mutex::new(None);
        idle.notify(
            || true,
            |i| {
                *woken.lock().unwrap() = Some(i);
                parker.unpark();
            },
        );
        assert_eq!(*woken.lock().unwrap(), Some(1));
        assert_eq!(sleeper.join().unwrap(), Wake::Search);
        assert_eq!(
            idle.num_spinning(),
            1,
            "the woken worker starts out spinning"
        );
        assert_eq!(idle.num_sleeping(), 0);
        // With a spinner present, nobody else is woken.
        idle.notify(|| true, |_| panic!("a spinner is already searching"));
    }

    #[test]
    fn timed_out_sleeper_leaves_the_list() {
        let idle = Idle::new(2);
        let parker = Parker::new();
        let wake = idle.sleep(0, false, &parker, || false, || false, |_| false);
        assert_eq!(wake, Wake::TimedOut);
        assert_eq!(idle.num_sleeping(), 0);
        assert_eq!(idle.num_spinning(), 0);
    }

    #[test]
    fn sleeping_worker_that_sees_work_does_not_park() {
        let idle = Idle::new(2);
        let parker = Parker::new();
        assert!(idle.try_start_spinning());
        let wake = idle.sleep(
            0,
            true,
            &parker,
            || true,
            || false,
            |_| panic!("must not park"),
        );
        assert_eq!(wake, Wake::Search);
        assert_eq!(idle.num_spinning(), 1);
        assert_eq!(idle.num_sleeping(), 0);
    }
}
