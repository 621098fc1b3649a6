//! goro's scheduler: Go's M:N design for Rust futures.
//!
//! Tasks are [`async-task`](async_task) allocations. Each worker thread runs a
//! *P* (the private `processor` module): a fixed ring of 256 tasks plus a
//! `runnext` slot (`ring`). Tasks woken from outside the workers, and a full
//! ring's overflow, go to a global queue (`injector`). Idle workers steal
//! half of another worker's ring; at most half of the busy workers search at
//! once, and sleeping workers are woken one at a time (`idle`, `park`).
//!
//! Each concept has one file (all private modules):
//!
//! | concept | Go | file |
//! |---|---|---|
//! | goroutine | `g` | `task` ([`spawn`], [`Handle::spawn`] in `runtime`) |
//! | P: owned `Core` and shared `Remote` | `p` | `processor` |
//! | all Ps (grow-only table) | `allp` | `p_table` |
//! | the per-P run queue and `runnext` | `runq`, `runnext` | `ring` |
//! | finding a task, stealing | `findRunnable`, `stealWork` | `find` |
//! | M (OS thread) and its loop | `m`, `schedule` | `worker` |
//! | starting Ms, spare Ms | `newm`, `startm` | `machine` |
//! | handing the P off around a blocking call | `entersyscallblock` | `handoff` ([`blocking`]) |
//! | global run queue | `sched.runq` | `injector` |
//! | what all threads share | `sched` | `shared` |
//! | `wakep`, spinning Ms | `wakep`, `nmspinning` | `idle` |
//! | sleeping and waking an M | `notesleep`, `notewakeup` | `park` |
//! | sysmon | `sysmon` | `monitor` |
//! | the P lent during a poll | (`p.status`) | `lend` |
//! | retake of a P stuck in a poll | `retake` | `retake` |
//! | `GOMAXPROCS(n)` | `procresize` | `resize` ([`Handle::set_maxprocs`]) |
//! | the thread-local runtime and worker | `getg().m` | `context` |
//! | the primitives loom checks | | `sync` |
//!
//! Most users want the `goro` crate, which adds I/O, timers and a global
//! runtime on top of this one.
//!
//! Observability ([`Handle::stats`], [`Handle::dump_tasks`],
//! `GORO_SCHEDTRACE`) is always on and costs no shared atomic on the spawn
//! or poll path: counters live in each P's cache line and are summed on
//! read, at most one wake per monitor tick (about a thousand a second) is
//! timed for the latency histogram, and the dump reads the tasks the
//! shutdown registry already holds.
//!
//! # Examples
//!
//! ```
//! use goro_executor::Runtime;
//!
//! let rt = Runtime::builder().maxprocs(2).build().unwrap();
//! let n = rt.block_on(async {
//!     let tasks: Vec<_> = (0..1000).map(|i| goro_executor::spawn(async move { i })).collect();
//!     let mut n = 0;
//!     for t in tasks {
//!         n += t.await.unwrap();
//!     }
//!     n
//! });
//! assert_eq!(n, 499_500);
//! ```

mod block_on;
mod builder;
mod clock;
mod context;
mod driver;
mod dump;
mod find;
mod handoff;
mod help;
mod idle;
mod injector;
mod join;
mod latency;
mod lend;
mod machine;
mod monitor;
mod p_table;
mod pace;
mod padded;
mod park;
mod processor;
mod registry;
mod resize;
mod retake;
mod ring;
mod runtime;
mod schedtrace;
mod shared;
mod stats;
mod sync;
mod task;
mod task_ref;
mod thread_state;
mod wait;
mod worker;
mod yield_now;

#[cfg(all(test, loom))]
mod loom_tests;

pub use async_task::Runnable;
pub use driver::Driver;
pub use dump::{SpawnSite, TaskDump, TaskInfo, TaskState};
pub use handoff::blocking;
pub use help::BlockingJobs;
pub use join::{JoinError, JoinHandle};
pub use latency::LatencyHistogram;
pub use runtime::{BuildError, Builder, Handle, MAX_PROCS, Runtime, spawn, spawn_unscheduled};
pub use stats::Stats;
pub use task::{TaskId, TaskMeta};
pub use wait::{WaitReason, note_wait};
pub use worker::{current_proc, should_yield};
pub use yield_now::{YieldNow, yield_now};
