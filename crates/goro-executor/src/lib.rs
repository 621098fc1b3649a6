//! goro's scheduler: Go's M:N design for Rust futures.
//!
//! Tasks are [`async-task`](async_task) allocations. Each worker thread runs a
//! *P* (the private `worker` module): a fixed ring of 256 tasks plus a
//! `runnext` slot (`ring`). Tasks woken from outside the workers, and a full
//! ring's overflow, go to a global queue (`injector`). Idle workers steal
//! half of another worker's ring; at most half of the busy workers search at
//! once, and sleeping workers are woken one at a time (`idle`, `park`).
//!
//! | concept | Go | here |
//! |---|---|---|
//! | goroutine | `g` | a task: [`spawn`] / [`Handle::spawn`] |
//! | P (run queue, `runnext`) | `p` | `worker::Core` + `shared::ProcRemote` |
//! | all Ps | `allp` | `procs::ProcTable` (grow-only) |
//! | `GOMAXPROCS(n)`, `procresize` | `proc.go` | [`Handle::set_maxprocs`], `resize` |
//! | M (OS thread) | `m` | a worker thread, `worker::run` |
//! | global run queue | `sched.runq` | `injector::Injector` |
//! | `wakep` / spinning Ms | `proc.go` | `idle::Idle` |
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
mod clock;
mod context;
mod driver;
mod dump;
mod idle;
mod injector;
mod join;
mod latency;
mod lend;
mod machine;
mod monitor;
mod park;
mod procs;
mod registry;
mod resize;
mod ring;
mod runtime;
mod schedtrace;
mod shared;
mod stats;
mod sync;
mod task;
mod thread_state;
mod wait;
mod worker;
mod yield_now;

#[cfg(all(test, loom))]
mod loom_tests;

pub use async_task::Runnable;
pub use driver::Driver;
pub use dump::{SpawnSite, TaskDump, TaskInfo, TaskState};
pub use join::{JoinError, JoinHandle};
pub use latency::LatencyHistogram;
pub use machine::blocking;
pub use runtime::{BuildError, Builder, Handle, MAX_PROCS, Runtime, spawn, spawn_unscheduled};
pub use stats::Stats;
pub use task::{TaskId, TaskMeta};
pub use wait::{WaitReason, note_wait};
pub use worker::{current_proc, should_yield};
pub use yield_now::{YieldNow, yield_now};
