//! One-shot detection: [`detect`], [`detect_with`], [`detect_with_cpus`].

use std::path::Path;

use crate::env::read_process_env;
use crate::error::MaxProcsError;
use crate::maxprocs::MaxProcs;
use crate::watch::{Cpus, MaxProcsWatcher};

/// Decides maxprocs for this process: `GORO_MAXPROCS` if set, else Go 1.25's
/// rule over the cgroup CPU limit and the affinity mask (see the
/// [crate docs](crate)).
///
/// # Errors
///
/// [`MaxProcsError`] only when `GORO_MAXPROCS` is set to something other than
/// a whole number from 1 to [`MAX_PROCS`](crate::MAX_PROCS). Problems reading
/// cgroup files are not errors: they give a
/// [`Source::Fallback`](crate::Source::Fallback).
///
/// # Examples
///
/// ```
/// match goro::procs::detect() {
///     Ok(procs) => println!("{procs}"), // e.g. "maxprocs=2 (affinity: 2 CPUs, no cgroup CPU limit)"
///     Err(e) => eprintln!("{e}"),
/// }
/// ```
pub fn detect() -> Result<MaxProcs, MaxProcsError> {
    let env = read_process_env()?;
    detect_with(Path::new("/"), env.as_deref())
}

/// Like [`detect`], but with the filesystem rooted at `root` (where `proc/`
/// and the cgroup mounts are looked up; `/` in production) and `env_value`
/// standing in for `GORO_MAXPROCS` (`None`: unset). The affinity mask is the
/// real one. Nothing here reads the process environment.
///
/// # Errors
///
/// [`MaxProcsError`] if `env_value` is `Some` and invalid.
///
/// # Examples
///
/// ```
/// use std::path::Path;
///
/// let procs = goro::procs::detect_with(Path::new("/"), Some("12")).unwrap();
/// assert_eq!(procs.n, 12);
///
/// let err = goro::procs::detect_with(Path::new("/"), Some("0")).unwrap_err();
/// assert_eq!(err.value(), "0");
/// ```
pub fn detect_with(root: &Path, env_value: Option<&str>) -> Result<MaxProcs, MaxProcsError> {
    MaxProcsWatcher::open(root, env_value, Cpus::Affinity).map(MaxProcsWatcher::into_current)
}

/// Like [`detect_with`], but with `cpus` (at least 1) standing in for the
/// affinity count, so the result depends on nothing outside the arguments
/// and the files under `root`.
///
/// # Errors
///
/// [`MaxProcsError`] if `env_value` is `Some` and invalid.
///
/// # Examples
///
/// ```
/// use std::fs;
///
/// // A process in cgroup v2 "/app", limited to 1.5 CPUs.
/// let root = std::env::temp_dir().join(format!("goro-procs-doc-{}", std::process::id()));
/// fs::create_dir_all(root.join("proc/self"))?;
/// fs::create_dir_all(root.join("sys/fs/cgroup/app"))?;
/// fs::write(root.join("proc/self/cgroup"), "0::/app\n")?;
/// fs::write(
///     root.join("proc/self/mountinfo"),
///     "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
/// )?;
/// fs::write(root.join("sys/fs/cgroup/app/cpu.max"), "150000 100000\n")?;
///
/// let procs = goro::procs::detect_with_cpus(&root, None, 8)?;
/// assert_eq!(procs.n, 2); // 1.5 rounded up
/// assert_eq!(goro::procs::detect_with_cpus(&root, None, 1)?.n, 1); // capped by the CPUs
/// # fs::remove_dir_all(&root)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn detect_with_cpus(
    root: &Path,
    env_value: Option<&str>,
    cpus: usize,
) -> Result<MaxProcs, MaxProcsError> {
    MaxProcsWatcher::open(root, env_value, Cpus::Given(cpus)).map(MaxProcsWatcher::into_current)
}
