//! loom model checks of the scheduler, by subject. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p goro-executor --lib --release loom`.
//!
//! - `ring`: the run queue's push, pop, steal and overflow, and `runnext`;
//! - `idle`: the parker and the poller role, and the sleep/wake protocol
//!   through the real worker loop (`find_runnable`, `Idle::sleep`);
//! - `lend`: the lend slot's races, and the monitor's real retake pass;
//! - `resize`: a live shrink retiring a P through the real `retire` path;
//! - `counts`: per-thread task counts and the workers' stock of runtime
//!   references (`task_ref`).
//!
//! The runtime models run the real scheduler: [`loom_runtime`] starts real
//! workers as model threads (no driver, no monitor thread), with loom-sized
//! constants (a ring of 4, no `runnext` grace), and tasks are real
//! `async-task` tasks spawned through `Handle::spawn`. A lost wakeup leaves
//! a thread parked forever, which loom reports as a deadlock.
//!
//! Mutation checks, each made by hand, seen to fail, then reverted (with
//! `LOOM_MAX_PREEMPTIONS=2`, as CI runs them):
//! - dropping the `has_work` recheck in `Idle::sleep` (the wake a sleeper
//!   gives itself): `idle::loom_runtime_a_task_woken_by_a_task` deadlocks;
//! - replacing the compare-and-swap in `LendSlot::with_lent` by a plain
//!   store: `lend::loom_runtime_the_monitor_retakes_a_stuck_poll` and both
//!   slot models report concurrent writes to the P's cell.

mod counts;
mod idle;
mod lend;
mod resize;
mod ring;

pub(super) use crate::builder::loom_runtime;

/// A numbered item standing in for a task; boxed (the ring's test
/// `IntoRaw for Box<T>`) so a double take or a lost item shows up as a
/// wrong count.
pub(super) struct Item(pub(super) usize);

pub(super) fn assert_each_once(mut seen: Vec<usize>, n: usize) {
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>(), "every item exactly once");
}

/// A loom model builder whose preemption bound is `LOOM_MAX_PREEMPTIONS`
/// capped at `max` (`max` if unset): a model of the whole runtime explores
/// far more interleavings per preemption than one of a single primitive,
/// so its cap keeps the suite within CI's time. Executions of the real
/// runtime take a few thousand steps, past loom's default branch limit.
pub(super) fn model(max: usize) -> loom::model::Builder {
    let mut builder = loom::model::Builder::new();
    let bound = builder.preemption_bound.map_or(max, |b| b.min(max));
    builder.preemption_bound = Some(bound);
    builder.max_branches = 20_000;
    builder
}
