//! Live changes of maxprocs (Go's `procresize`, `runtime.GOMAXPROCS(n)`):
//! workers are added or retired while tasks run, and the monitor follows the
//! container's CPU limit when nobody set maxprocs explicitly.
//!
//! # Growing
//! New Ps are appended to the P table (`p_table`), maxprocs is raised, and
//! each new or previously retired P is handed to a spare or new thread,
//! which starts scheduling at once.
//!
//! # Shrinking
//! Go stops the world and moves the run queues of the Ps it destroys. goro
//! lowers maxprocs and lets each retired P's thread retire it at its next
//! scheduling point, which is never later than the end of the task it is
//! polling (or the monitor's retake, for a task stuck there): the thread
//! moves the P's ring and `runnext` to the global queue, parks the P in
//! [`Resize::retired`], and becomes a spare thread. A P asleep is woken for
//! this through the sleep protocol (`Idle::wake_sleeper`); a P about to
//! sleep sees its retirement in the protocol's final recheck. Thieves and
//! the sleep recheck look at active Ps only, so nothing new reaches a
//! retired P: only its holder can fill its ring.
//!
//! Retired Ps keep their table slots (and their timer shards keep firing,
//! as every poller fires every shard), and come back first when maxprocs
//! grows again.
//!
//! # Following the CPU limit
//! Unless maxprocs was set explicitly (`Builder::maxprocs`,
//! `GORO_MAXPROCS`, [`crate::Handle::set_maxprocs`]), the monitor re-reads
//! the cgroup limit and the affinity mask at most once a second through a
//! [`goro_procs::MaxProcsWatcher`] (open files, `pread`) and resizes when the
//! count changes, as Go 1.25 does. tokio and smol read it once, at start.
//! The watcher is `MaxProcsWatcher::new()`'s or the one given to
//! `Builder::maxprocs_watcher`; `set_default_maxprocs` reopens it with
//! [`MaxProcsWatcher::to_automatic`], keeping its root and CPU count.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use goro_procs::MaxProcsWatcher;

use crate::machine;
use crate::processor::{self, Core};
use crate::runtime::MAX_PROCS;
use crate::shared::Shared;
use crate::sync::lock;

/// How often the monitor re-reads the CPU limit (Go 1.25: once a second).
pub(crate) const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// The resize lock's contents.
pub(crate) struct Resize {
    /// By P index: the P (its owner half), for Ps that no thread runs
    /// because they are retired or were never started.
    #[allow(clippy::vec_box)] // a P moves between threads as a `Box`
    retired: Vec<Option<Box<Core>>>,
    /// Where the default count comes from (`None`: `/` and the real
    /// affinity mask, made on demand). The monitor refreshes it while
    /// `automatic`.
    watcher: Option<MaxProcsWatcher>,
    /// Whether maxprocs follows `watcher`: off once set explicitly.
    automatic: bool,
}

impl Resize {
    /// `watcher` is followed if it is automatic (`GORO_MAXPROCS` unset).
    pub(crate) fn new(n: usize, watcher: Option<MaxProcsWatcher>) -> Self {
        Resize {
            retired: (0..n).map(|_| None).collect(),
            automatic: watcher.as_ref().is_some_and(MaxProcsWatcher::is_automatic),
            watcher,
        }
    }
}

impl Shared {
    /// Sets maxprocs to `n` (clamped to 1..=[`MAX_PROCS`]) and returns the
    /// old value; `explicit` turns the CPU-limit updates off.
    pub(crate) fn set_maxprocs(self: &Arc<Self>, n: usize, explicit: bool) -> usize {
        let mut state = lock(&self.resize);
        if explicit {
            state.automatic = false;
        }
        self.resize_locked(&mut state, n)
    }

    /// Goes back to the default maxprocs, as if `GORO_MAXPROCS` were unset
    /// (Go's `SetDefaultGOMAXPROCS`), and turns the CPU-limit updates on.
    /// Returns the new value.
    pub(crate) fn set_default_maxprocs(self: &Arc<Self>) -> usize {
        // Opened outside the lock: it parses mountinfo and opens files.
        let template = lock(&self.resize)
            .watcher
            .as_ref()
            .map(|w| w.to_automatic());
        let watcher = match template {
            Some(watcher) => watcher,
            None => match MaxProcsWatcher::with_root(std::path::Path::new("/"), None) {
                Ok(w) => w,
                // Only a bad environment value fails, and none is passed.
                Err(e) => unreachable!("goro: default maxprocs without an env value: {e}"),
            },
        };
        let n = watcher.current().n;
        let mut state = lock(&self.resize);
        state.watcher = Some(watcher);
        state.automatic = true;
        self.resize_locked(&mut state, n);
        n
    }

    /// Whether maxprocs follows the CPU limit.
    pub(crate) fn maxprocs_is_automatic(&self) -> bool {
        lock(&self.resize).automatic
    }

    /// The monitor's once-a-second look at the CPU limit; cheap when
    /// nothing changed (a few `pread`s and one `sched_getaffinity`).
    pub(crate) fn refresh_maxprocs(self: &Arc<Self>) {
        let mut state = lock(&self.resize);
        if !state.automatic {
            return;
        }
        let Some(watcher) = state.watcher.as_mut() else {
            return;
        };
        let refresh = watcher.refresh();
        if refresh.maxprocs.n != self.num_procs() {
            self.resize_locked(&mut state, refresh.maxprocs.n);
        }
    }

    fn resize_locked(self: &Arc<Self>, state: &mut Resize, n: usize) -> usize {
        let n = n.clamp(1, MAX_PROCS);
        let old = self.num_procs();
        if n == old || self.is_shutdown() {
            return old;
        }
        if n > self.ps.table().len() {
            let driver = self.driver.clone();
            let mut fresh = Vec::new();
            let added = self.ps.table().grow(n, |i| {
                let (core, remote) = processor::new(i, driver.clone());
                fresh.push(core);
                remote
            });
            state.retired.resize_with(added.end, || None);
            for core in fresh {
                let i = core.index();
                state.retired[i] = Some(core);
            }
        }
        self.store_num_procs(n);
        if n > old {
            self.start_procs(state, old, n);
        } else {
            self.wake_retired(n, old);
        }
        old
    }

    /// Gives Ps `from..to` a thread each. A P that is not in `retired`
    /// still has its thread: shrunk and grown back before it retired, it
    /// simply keeps running.
    fn start_procs(self: &Arc<Self>, state: &mut Resize, from: usize, to: usize) {
        for i in from..to {
            let Some(core) = state.retired[i].take() else {
                continue;
            };
            if let Err((e, core)) = machine::start(self, core) {
                // Settle for the Ps that have threads; the rest retire.
                state.retired[i] = Some(core);
                self.store_num_procs(i);
                self.wake_retired(i, to);
                report_spawn_failure(i, to, &e);
                return;
            }
        }
    }

    /// Wakes the sleeping workers of Ps `from..to`, which maxprocs no
    /// longer covers, so that they retire.
    fn wake_retired(&self, from: usize, to: usize) {
        for i in from..to {
            self.idle.wake_sleeper(i, |i| self.ps.get(i).unpark());
        }
    }

    /// Called by the thread of P `core` when it finds the P past maxprocs:
    /// moves its queues to the global queue and keeps it for a later
    /// growth. Hands the P back if maxprocs grew again meanwhile.
    pub(crate) fn retire(&self, mut core: Box<Core>) -> Result<(), Box<Core>> {
        let mut state = lock(&self.resize);
        if core.index() < self.num_procs() {
            return Err(core);
        }
        core.release(self);
        let i = core.index();
        state.retired[i] = Some(core);
        drop(state);
        // The moved tasks, or the search this worker gave up, need a
        // worker that still runs.
        self.notify();
        Ok(())
    }
}

fn report_spawn_failure(i: usize, to: usize, e: &io::Error) {
    let msg = format!("goro: maxprocs stays at {i} instead of {to}: could not start a thread: {e}");
    if log::max_level() >= log::LevelFilter::Warn {
        log::warn!("{msg}");
    } else {
        eprintln!("{msg}");
    }
}
