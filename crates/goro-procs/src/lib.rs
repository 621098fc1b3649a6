//! How many worker threads goro runs: its *maxprocs*, Go's `GOMAXPROCS`.
//!
//! # The rule
//!
//! 1. **`GORO_MAXPROCS`**, if set, wins: a whole number from 1 to
//!    [`MAX_PROCS`]. It is explicit, so live updates are off. Any other value
//!    is a [`MaxProcsError`] naming the variable, the value and what is
//!    allowed. (Go silently ignores an invalid `GOMAXPROCS`; goro refuses,
//!    because a typo in an explicit setting should be seen.)
//! 2. Otherwise **Go 1.25's rule**: with `cpus` the CPUs in the affinity mask
//!    and a cgroup limit of `quota / period` CPUs,
//!    `n = min(cpus, max(ceil(quota / period), 2))`, never below 1. Without
//!    a limit, `n = cpus`. If the mask cannot be read, `num_cpus::get()`
//!    stands in for `cpus`.
//!
//! | limit      | affinity | maxprocs | why                                   |
//! |------------|----------|----------|---------------------------------------|
//! | none       | 8        | 8        | one worker per CPU                    |
//! | 0.5 CPU    | 8        | 2        | rounded up to 1, raised to Go's floor |
//! | 1.5 CPUs   | 8        | 2        | rounded up                            |
//! | 3 CPUs     | 8        | 3        |                                       |
//! | 3 CPUs     | 2        | 2        | never more than the CPUs usable       |
//! | 0.5 CPU    | 1        | 1        | ... even below the floor of 2         |
//!
//! The result, a [`MaxProcs`], says where the count came from ([`Source`]),
//! and prints as one line in the style of automaxprocs:
//!
//! ```text
//! maxprocs=2 (cgroup v1 /sys/fs/cgroup/cpu/app: quota 150000us / period 100000us, affinity: 8 CPUs)
//! maxprocs=4 (GORO_MAXPROCS=4)
//! maxprocs=8 (affinity: 8 CPUs, no cgroup CPU limit)
//! ```
//!
//! # Finding the cgroup limit
//!
//! `/proc/self/cgroup` names the process's cgroup in each hierarchy and
//! `/proc/self/mountinfo` where each hierarchy is mounted and which part of
//! it (field 4, the mount root: in a container usually its own cgroup). The
//! mount point can be anywhere (`/sys/fs/cgroup`, `/cgroup2`, ...). A v1
//! hierarchy with the `cpu` controller wins over v2, as in Go. The limit is
//! `cpu.max` in v2 (`max 100000`: none; `150000 100000`: 1.5 CPUs) and
//! `cpu.cfs_quota_us` / `cpu.cfs_period_us` in v1 (negative quota: none).
//!
//! Every function that reads files takes the filesystem root (`/` in
//! production) so it can run against a fixture tree. Unreadable or malformed
//! files never panic and are not errors: the count falls back to what could
//! be read, and [`Source::Fallback`] says why.
//!
//! # Where goro differs from Go
//!
//! * **The whole hierarchy counts.** Go (and automaxprocs) read only the
//!   process's own (leaf) cgroup. goro walks from the leaf up to the root of
//!   the mount and takes the *tightest* limit, so a limit on a parent (a
//!   Kubernetes pod with an unlimited container, a systemd slice) is honoured,
//!   as the kernel honours it. Rust's `available_parallelism` also does this.
//! * **Same rounding as Go**: up, with a floor of 2 and a cap at the affinity
//!   count. automaxprocs, Rust's std and tokio round *down* (1.5 CPUs gives 1
//!   worker); Go and goro give 2, so one busy worker does not starve the rest.
//! * **Refresh as Go 1.25**: [`MaxProcsWatcher`] opens the limit files once
//!   and re-reads them with `pread`, plus the affinity mask; the runtime's
//!   monitor does that once a second and resizes the running runtime
//!   (`goro::set_maxprocs` without the explicit flag). automaxprocs and
//!   std read once. Like Go, moving the process to another cgroup is not
//!   followed.
//!
//! # Platforms
//!
//! The crate builds on Linux, macOS, FreeBSD and Windows.
//!
//! | platform | cgroup limit | CPU count | live re-read ([`MaxProcsWatcher::refresh`]) |
//! |----------|--------------|-----------|---------------------------------------------|
//! | Linux    | v1 and v2    | affinity mask (`sched_getaffinity`) | limit files and mask |
//! | FreeBSD  | none         | affinity mask (`cpuset_getaffinity`) | mask only |
//! | Windows  | none         | process affinity mask (`GetProcessAffinityMask`) | mask only |
//! | macOS    | none         | `num_cpus::get()` ([`Source::Fallback`] says so) | nothing changes |
//!
//! Cgroups exist on Linux only: elsewhere the real root (`/`) is not searched
//! for them, while the functions that take a fixture root still read it.
//!
//! # Examples
//!
//! ```
//! let procs = goro::procs::detect()?;
//! assert!(procs.n >= 1);
//! println!("{procs}");
//! # Ok::<(), goro::procs::MaxProcsError>(())
//! ```

mod affinity;
mod cgroup;
mod detect;
mod env;
mod error;
mod limit;
mod maxprocs;
mod thread;
mod watch;

pub use affinity::available_cpus;
pub use cgroup::{ParseLimitError, parse_cfs_period_us, parse_cfs_quota_us, parse_cpu_max};
pub use detect::{detect, detect_with, detect_with_cpus};
pub use env::{ENV_VAR, MAX_PROCS, parse_env_value};
pub use error::{EnvCountError, InvalidValue, MaxProcsError, parse_env_count, read_env_var};
pub use limit::{CgroupVersion, CpuLimit, CpuQuota};
pub use maxprocs::{MaxProcs, Source};
pub use thread::ThreadRef;
pub use watch::{MaxProcsWatcher, Refresh};
