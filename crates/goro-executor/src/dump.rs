//! The task dump ([`Handle::dump_tasks`]): every task that has waited at
//! least once, with its id, spawn location, state, age and poll count,
//! grouped by spawn location the way `pprof goroutine` groups stacks.
//!
//! It reads the tasks through the runtime's registry (`registry`), which
//! already holds a waker of every task that has returned `Pending` (for
//! shutdown), so the dump costs nothing until it is taken. A task that has
//! not waited yet is queued or in its first poll; such tasks are counted
//! ([`TaskDump::unlisted`]) but not listed, since listing them would mean
//! registering every task at spawn, a lock per spawn.
//!
//! The registry keeps each task's [`TaskMeta`] address next to its waker,
//! as the task gave it when it registered; the waker keeps the task's
//! allocation, and so the metadata, alive. Nothing here depends on how
//! async-task lays out a task.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock;
use crate::runtime::Handle;
use crate::task::TaskId;

/// What a task is doing, as far as the scheduler knows.
///
/// # Examples
///
/// ```
/// use goro::TaskState;
/// assert_eq!(TaskState::Waiting.to_string(), "waiting");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TaskState {
    /// Being polled by a worker.
    Running,
    /// Woken (or just spawned), waiting in a run queue for a worker.
    Queued,
    /// Returned `Pending`; waits for its waker (I/O, a timer, a channel...).
    Waiting,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Running => "running",
            TaskState::Queued => "queued",
            TaskState::Waiting => "waiting",
        })
    }
}

/// One task in a [`TaskDump`].
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
/// let (tx, rx) = async_channel::bounded::<()>(1);
/// let h = rt.spawn(async move { rx.recv().await.ok() });
/// // Until the task has waited once (it is listed from inside that first
/// // poll, as running, and shows as waiting once the poll returns).
/// let t = loop {
///     let dump = rt.handle().dump_tasks();
///     match dump.sites.first().map(|s| s.tasks[0].clone()) {
///         Some(t) if t.state == goro::TaskState::Waiting => break t,
///         _ => std::thread::yield_now(),
///     }
/// };
/// assert_eq!(t.id, h.id());
/// assert_eq!(t.polls, 1);
/// # drop(tx);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskInfo {
    /// The task's id.
    pub id: TaskId,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// What it is doing.
    pub state: TaskState,
    /// Time since its spawn (1 ms resolution; see [`Handle::dump_tasks`]).
    pub age: Duration,
    /// How many polls of it have started (stops counting near 2^30).
    pub polls: u32,
    /// For a waiting task, what it waits on, as the future it last
    /// returned `Pending` from noted it (goro's channels, timers, I/O,
    /// locks, join handles, `WaitGroup`, ...; see
    /// [`note_wait`](crate::note_wait)). `None` for a future that noted
    /// nothing, and for tasks that are not waiting.
    pub wait: Option<crate::WaitReason>,
}

/// The tasks spawned at one location, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpawnSite {
    /// The spawn location.
    pub location: &'static Location<'static>,
    /// The tasks, oldest first.
    pub tasks: Vec<TaskInfo>,
}

impl SpawnSite {
    /// How many of the tasks are in `state`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    /// let dump = rt.handle().dump_tasks();
    /// assert!(dump.sites.iter().all(|s| s.count(goro::TaskState::Running) == 0));
    /// ```
    pub fn count(&self, state: TaskState) -> usize {
        self.tasks.iter().filter(|t| t.state == state).count()
    }

    /// The waiting tasks by wait reason (`None`: a future that noted no
    /// reason), in the order of [`WaitReason`](crate::WaitReason).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    /// let (tx, rx) = goro::chan::bounded::<()>(1);
    /// let _waiter = rt.spawn(async move { rx.recv().await.ok() });
    /// rt.block_on(goro::time::sleep(std::time::Duration::from_millis(20)));
    /// let dump = rt.handle().dump_tasks();
    /// assert_eq!(dump.sites[0].wait_counts(), [(Some(goro::WaitReason::ChanReceive), 1)]);
    /// # drop(tx);
    /// ```
    pub fn wait_counts(&self) -> Vec<(Option<crate::WaitReason>, usize)> {
        let mut counts: BTreeMap<Option<crate::WaitReason>, usize> = BTreeMap::new();
        for t in self.tasks.iter().filter(|t| t.state == TaskState::Waiting) {
            *counts.entry(t.wait).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}

/// A snapshot of a runtime's tasks, grouped by spawn location; see
/// [`Handle::dump_tasks`]. Its `Display` prints each location with its
/// count and states, then up to [`TaskDump::SHOWN_PER_SITE`] of its tasks,
/// oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskDump {
    /// Live tasks when the dump was taken (as [`Handle::num_tasks`]).
    pub live: usize,
    /// The listed tasks by spawn location, the largest group first.
    pub sites: Vec<SpawnSite>,
    /// Live tasks not listed: they had not waited yet, so they were queued
    /// or in their first poll.
    pub unlisted: usize,
}

impl TaskDump {
    /// Tasks printed per spawn location by `Display`; the rest are counted.
    pub const SHOWN_PER_SITE: usize = 10;

    /// Every listed task, by spawn location.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    /// assert_eq!(rt.handle().dump_tasks().tasks().count(), 0);
    /// ```
    pub fn tasks(&self) -> impl Iterator<Item = &TaskInfo> {
        self.sites.iter().flat_map(|s| &s.tasks)
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listed: usize = self.sites.iter().map(|s| s.tasks.len()).sum();
        writeln!(
            f,
            "goro task dump: {} live tasks, {listed} listed by spawn location, {} queued or in their first poll",
            self.live, self.unlisted
        )?;
        for site in &self.sites {
            let n = site.tasks.len();
            let tasks = if n == 1 { "task" } else { "tasks" };
            write!(f, "\n{n} {tasks} spawned at {}:", site.location)?;
            let mut sep = " ";
            for state in [TaskState::Running, TaskState::Queued, TaskState::Waiting] {
                let n = site.count(state);
                if n > 0 {
                    write!(f, "{sep}{n} {state}")?;
                    sep = ", ";
                }
            }
            let reasons = site.wait_counts();
            if !reasons.is_empty() {
                let parts: Vec<String> = reasons
                    .iter()
                    .map(|(r, n)| match r {
                        Some(r) => format!("{n} {r}"),
                        None => format!("{n} unknown"),
                    })
                    .collect();
                write!(f, " ({})", parts.join(", "))?;
            }
            writeln!(f)?;
            for t in site.tasks.iter().take(Self::SHOWN_PER_SITE) {
                let state = match t.wait {
                    Some(r) => r.as_str(),
                    None => match t.state {
                        TaskState::Running => "running",
                        TaskState::Queued => "queued",
                        TaskState::Waiting => "waiting",
                    },
                };
                writeln!(
                    f,
                    "    task {} [{state}, age {}, polls {}]",
                    t.id,
                    Age(t.age),
                    t.polls
                )?;
            }
            if site.tasks.len() > Self::SHOWN_PER_SITE {
                writeln!(
                    f,
                    "    ... and {} more",
                    site.tasks.len() - Self::SHOWN_PER_SITE
                )?;
            }
        }
        Ok(())
    }
}

/// An age as people read it: `850ms`, `12.3s`, `4m05s`, `2h07m`.
struct Age(Duration);

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let s = self.0.as_secs();
        if ms < 1000 {
            write!(f, "{ms}ms")
        } else if s < 60 {
            write!(f, "{:.1}s", self.0.as_secs_f64())
        } else if s < 3600 {
            write!(f, "{}m{:02}s", s / 60, s % 60)
        } else {
            write!(f, "{}h{:02}m", s / 3600, s % 3600 / 60)
        }
    }
}

impl Handle {
    /// Lists this runtime's tasks with their id, spawn location, state, age
    /// and poll count, grouped by spawn location (Go's `pprof goroutine`
    /// dump, or what `SIGQUIT` prints, without stopping anything).
    ///
    /// Tasks appear once they have waited (returned `Pending`) at least
    /// once; tasks that have not yet are queued or in their first poll and
    /// only counted, in [`TaskDump::unlisted`]. States and counts are read
    /// without stopping the workers, so they may be a moment apart. Ages
    /// have 1 ms resolution while the runtime is busy (the monitor thread
    /// keeps a coarse clock, so a spawn does not read the time) and wrap
    /// after 49 days. The dump takes each registry shard's lock in turn,
    /// briefly delaying tasks that park or finish meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    /// let (tx, rx) = async_channel::bounded::<()>(1);
    /// for _ in 0..3 {
    ///     let rx = rx.clone();
    ///     rt.spawn(async move { rx.recv().await.ok() });
    /// }
    /// while rt.handle().dump_tasks().tasks().count() < 3 {
    ///     std::thread::yield_now(); // until all three have waited once
    /// }
    /// let dump = rt.handle().dump_tasks();
    /// assert_eq!(dump.sites.len(), 1);
    /// assert_eq!(dump.sites[0].location.file(), file!());
    /// println!("{dump}");
    /// drop(tx);
    /// ```
    pub fn dump_tasks(&self) -> TaskDump {
        let shared = &self.shared;
        let now = clock::refresh();
        let live = shared.registry.len();
        // A task is running if a P is lent to its poll (`lend`): the
        // worker notes the task in the P's watch before lending.
        let running: Vec<u64> = shared
            .ps
            .table()
            .iter()
            .filter_map(|(_, p)| p.running_task())
            .collect();
        let mut by_site: BTreeMap<(&'static str, u32, u32), SpawnSite> = BTreeMap::new();
        shared.registry.for_each(|meta| {
            if meta.is_finished() {
                return;
            }
            let (queued, polls, born) = meta.dump_state();
            let wait = meta.wait_reason();
            let state = if queued {
                TaskState::Queued
            } else if running.contains(&meta.id().as_u64()) {
                TaskState::Running
            } else {
                TaskState::Waiting
            };
            let location = meta.location();
            by_site
                .entry((location.file(), location.line(), location.column()))
                .or_insert_with(|| SpawnSite {
                    location,
                    tasks: Vec::new(),
                })
                .tasks
                .push(TaskInfo {
                    id: meta.id(),
                    location,
                    state,
                    age: clock::age(now, born),
                    polls,
                    wait: if state == TaskState::Waiting {
                        wait
                    } else {
                        None
                    },
                });
        });
        let mut sites: Vec<SpawnSite> = by_site.into_values().collect();
        for site in &mut sites {
            // Like Go's dump: the same state and wait reason together,
            // oldest first within each.
            site.tasks.sort_by(|a, b| {
                (a.state, a.wait)
                    .cmp(&(b.state, b.wait))
                    .then(b.age.cmp(&a.age))
                    .then(a.id.cmp(&b.id))
            });
        }
        // Stable: equal groups stay in location order.
        sites.sort_by_key(|s| std::cmp::Reverse(s.tasks.len()));
        let listed: usize = sites.iter().map(|s| s.tasks.len()).sum();
        TaskDump {
            live,
            unlisted: live.saturating_sub(listed),
            sites,
        }
    }
}

/// Every runtime alive in the process, for dumps that are not about one
/// runtime (the dump signal).
static RUNTIMES: Mutex<Vec<std::sync::Weak<crate::shared::Shared>>> = Mutex::new(Vec::new());

/// Adds a new runtime to [`Handle::all`].
pub(crate) fn note_runtime(shared: &Arc<crate::shared::Shared>) {
    let mut all = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|w| w.strong_count() > 0);
    all.push(Arc::downgrade(shared));
}

impl Handle {
    /// A handle to every runtime alive in the process, oldest first: for
    /// process-wide reports such as a task dump on a signal.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    /// assert!(goro::Handle::all().iter().any(|h| h.maxprocs() == 1));
    /// ```
    pub fn all() -> Vec<Handle> {
        let all = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
        all.iter()
            .filter_map(|w| w.upgrade())
            .filter(|s| !s.is_shutdown())
            .map(|shared| Handle { shared })
            .collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The dump reads each task's metadata from what the task registered,
    /// never from its waker: here the waker is one whose data pointer has
    /// nothing to do with any task (a stand-in for an async-task release
    /// that lays tasks out differently), and the dump still lists the task.
    #[test]
    fn the_dump_does_not_derive_metadata_from_the_waker() {
        let rt = crate::Runtime::builder().maxprocs(1).build().unwrap();
        let shared = &rt.handle().shared;
        let meta = crate::task::TaskMeta::new(Location::caller(), None, false, 0);
        let key = shared
            .registry
            .insert(std::task::Waker::noop().clone(), &meta)
            .unwrap();
        let dump = rt.handle().dump_tasks();
        let ids: Vec<TaskId> = dump.tasks().map(|t| t.id).collect();
        shared.registry.remove(key);
        assert_eq!(ids, [meta.id()]);
    }

    #[test]
    fn ages_read_well() {
        assert_eq!(Age(Duration::from_millis(850)).to_string(), "850ms");
        assert_eq!(Age(Duration::from_millis(12_340)).to_string(), "12.3s");
        assert_eq!(Age(Duration::from_secs(245)).to_string(), "4m05s");
        assert_eq!(Age(Duration::from_secs(7620)).to_string(), "2h07m");
    }
}
