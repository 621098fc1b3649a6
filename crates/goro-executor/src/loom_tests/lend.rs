//! Retake: the lend slot's races with the polling thread, and the monitor's
//! real retake pass over a running runtime.

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use loom::sync::Arc;
use loom::sync::atomic::AtomicBool;
use loom::thread;

use super::{Item, loom_runtime, model};
use crate::lend::LendSlot;
use crate::retake::Retaker;
use crate::ring::RunNext;

/// The monitor's real retake pass (`Retaker::watch`) against a worker stuck
/// in one poll: it takes the P from the stuck thread and starts a thread
/// for it, and a task queued behind the stuck one runs there while the
/// stuck poll goes on. When the stuck poll ends it wakes a task, racing
/// with the new thread's own polls on the same P: the wake must see the P
/// gone and queue the task globally (`LendSlot::with_lent` fails), not
/// touch the P the new thread now holds. The stuck thread then finds its P
/// gone and exits; every task completes.
#[test]
fn loom_runtime_the_monitor_retakes_a_stuck_poll() {
    model(1).check(|| {
        let rt = loom_runtime(1, Some(Duration::ZERO));
        let release = Arc::new(AtomicBool::new(false));
        let stuck = {
            let release = release.clone();
            rt.spawn(async move {
                while !release.load(SeqCst) {
                    thread::yield_now();
                }
                crate::spawn(async { 8 })
            })
        };
        let shared = rt.handle().shared.clone();
        let mut retaker = Retaker::new();
        while shared.monitor.retakes.count() == 0 {
            retaker.watch(&shared, Duration::ZERO);
            thread::yield_now();
        }
        let behind = rt.spawn(async { 9 });
        release.store(true, SeqCst);
        assert_eq!(rt.block_on(behind).unwrap(), 9);
        let child = rt.block_on(stuck).unwrap();
        assert_eq!(rt.block_on(child).unwrap(), 8);
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
    loom::model(|| {
        let slot = Arc::new(LendSlot::<Vec<u32>>::new());
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
/// (`LendSlot::with_lent`), puts the task in `runnext` and appends a displaced
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
    for occupied in [false, true] {
        loom::model(move || {
            let slot = Arc::new(LendSlot::<Vec<usize>>::new());
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
