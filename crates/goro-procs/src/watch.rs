//! [`MaxProcsWatcher`]: cheap re-detection for live updates.

use std::path::{Path, PathBuf};

use crate::affinity::CpuCount;
use crate::cgroup::{self, CgroupFiles, CgroupReading};
use crate::env::{parse_env_value, read_process_env};
use crate::error::MaxProcsError;
use crate::maxprocs::MaxProcs;

/// Tracks maxprocs as the cgroup CPU limit and the affinity mask change, like
/// Go 1.25's periodic GOMAXPROCS update.
///
/// Construction does the expensive part once: it reads the environment,
/// parses `/proc/self/cgroup` and `/proc/self/mountinfo`, and opens the limit
/// files of every cgroup level from the process's own up to the mount root.
/// [`refresh`](Self::refresh) then only re-reads those open files with
/// `pread` (one or two per level, plus one `sched_getaffinity`), which is
/// cheap enough for a monitor thread to call every second.
///
/// What is fixed at construction:
/// * `GORO_MAXPROCS`: if set, the count is explicit and `refresh` never
///   changes it (nor touches any file).
/// * The cgroup the process is in: moving the process to another cgroup is
///   not followed (as in Go); build a new watcher for that.
/// * Which files exist: a limit file that appears later (say, the v2 `cpu`
///   controller enabled afterwards) is not seen. A file replaced by a new one
///   (rather than rewritten in place, as cgroupfs always is) keeps being read
///   from the old one.
///
/// # Examples
///
/// ```
/// use goro::procs::MaxProcsWatcher;
///
/// let mut watcher = MaxProcsWatcher::new()?;
/// let first = watcher.current().n;
/// // ... later, from a monitor thread, at most once a second:
/// let update = watcher.refresh();
/// if update.changed {
///     println!("resize the worker pool from {first}: {}", update.maxprocs);
/// }
/// assert_eq!(&update.maxprocs, watcher.current());
/// # Ok::<(), goro::procs::MaxProcsError>(())
/// ```
#[derive(Debug)]
pub struct MaxProcsWatcher {
    mode: Mode,
    current: MaxProcs,
    /// Where it looks, kept for [`to_automatic`](Self::to_automatic).
    root: PathBuf,
    cpus: Cpus,
}

#[derive(Debug)]
enum Mode {
    /// `GORO_MAXPROCS` is set.
    Explicit,
    Automatic(Automatic),
}

#[derive(Debug)]
struct Automatic {
    /// The open limit files, `None` when no hierarchy can limit CPU, or why
    /// the cgroup could not be located.
    cgroup: Result<Option<CgroupFiles>, String>,
    /// The affinity count at each read, or a fixed count.
    cpus: Cpus,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Cpus {
    Affinity,
    Given(usize),
}

/// The result of [`MaxProcsWatcher::refresh`].
///
/// # Examples
///
/// ```
/// # use std::path::Path;
/// let mut watcher = goro::procs::MaxProcsWatcher::with_root(Path::new("/"), Some("2"))?;
/// let update = watcher.refresh();
/// assert_eq!(update.maxprocs.n, 2);
/// assert!(!update.changed);
/// # Ok::<(), goro::procs::MaxProcsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refresh {
    /// The count now, with its source.
    pub maxprocs: MaxProcs,
    /// Whether `maxprocs.n` differs from the count before this refresh. (The
    /// source may change without the count changing, e.g. a new quota that
    /// rounds to the same number.)
    pub changed: bool,
}

impl MaxProcsWatcher {
    /// Starts watching this process: reads `GORO_MAXPROCS` and the real
    /// filesystem (`/`). [`current`](Self::current) then equals
    /// [`detect`](crate::detect)'s result.
    ///
    /// # Errors
    ///
    /// [`MaxProcsError`] if `GORO_MAXPROCS` is set to an invalid value.
    ///
    /// # Examples
    ///
    /// ```
    /// let watcher = goro::procs::MaxProcsWatcher::new()?;
    /// assert!(watcher.current().n >= 1);
    /// # Ok::<(), goro::procs::MaxProcsError>(())
    /// ```
    pub fn new() -> Result<Self, MaxProcsError> {
        let env = read_process_env()?;
        Self::with_root(Path::new("/"), env.as_deref())
    }

    /// Starts watching with the filesystem rooted at `root` (where `proc/`
    /// and the cgroup mounts are found) and `env_value` standing in for
    /// `GORO_MAXPROCS`. The affinity mask is the real one.
    ///
    /// # Errors
    ///
    /// [`MaxProcsError`] if `env_value` is `Some` and invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::path::Path;
    /// use goro::procs::MaxProcsWatcher;
    ///
    /// let explicit = MaxProcsWatcher::with_root(Path::new("/"), Some("5"))?;
    /// assert!(!explicit.is_automatic());
    /// assert!(MaxProcsWatcher::with_root(Path::new("/"), Some("five")).is_err());
    /// # Ok::<(), goro::procs::MaxProcsError>(())
    /// ```
    pub fn with_root(root: &Path, env_value: Option<&str>) -> Result<Self, MaxProcsError> {
        Self::open(root, env_value, Cpus::Affinity)
    }

    /// Like [`with_root`](Self::with_root), but with `cpus` (at least 1)
    /// standing in for the affinity count at every refresh, as in
    /// [`detect_with_cpus`](crate::detect_with_cpus).
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
    /// let root = std::env::temp_dir().join(format!("goro-procs-doc-w{}", std::process::id()));
    /// fs::create_dir_all(root.join("proc/self"))?;
    /// fs::create_dir_all(root.join("cgroup2/app"))?;
    /// fs::write(root.join("proc/self/cgroup"), "0::/app\n")?;
    /// fs::write(
    ///     root.join("proc/self/mountinfo"),
    ///     "30 23 0:26 / /cgroup2 rw - cgroup2 cgroup2 rw\n",
    /// )?;
    /// fs::write(root.join("cgroup2/app/cpu.max"), "300000 100000\n")?;
    ///
    /// let mut watcher = goro::procs::MaxProcsWatcher::with_root_and_cpus(&root, None, 8)?;
    /// assert_eq!(watcher.current().n, 3);
    /// fs::write(root.join("cgroup2/app/cpu.max"), "max 100000\n")?;
    /// let update = watcher.refresh();
    /// assert!(update.changed);
    /// assert_eq!(update.maxprocs.n, 8);
    /// # fs::remove_dir_all(&root)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_root_and_cpus(
        root: &Path,
        env_value: Option<&str>,
        cpus: usize,
    ) -> Result<Self, MaxProcsError> {
        Self::open(root, env_value, Cpus::Given(cpus))
    }

    pub(crate) fn open(
        root: &Path,
        env_value: Option<&str>,
        cpus: Cpus,
    ) -> Result<Self, MaxProcsError> {
        if let Some(value) = env_value {
            let value = parse_env_value(value)?;
            return Ok(MaxProcsWatcher {
                mode: Mode::Explicit,
                current: MaxProcs::explicit(value),
                root: root.to_owned(),
                cpus,
            });
        }
        Ok(Self::open_automatic(root, cpus))
    }

    fn open_automatic(root: &Path, cpus: Cpus) -> Self {
        let cgroup = cgroup::locate(root).map(|found| found.map(CgroupFiles::open));
        let automatic = Automatic { cgroup, cpus };
        MaxProcsWatcher {
            current: automatic.read(),
            mode: Mode::Automatic(automatic),
            root: root.to_owned(),
            cpus,
        }
    }

    /// A new automatic watcher on the same filesystem root and CPU count
    /// source as this one, as if `GORO_MAXPROCS` were unset: what a runtime
    /// goes back to on `set_default_maxprocs` (Go's
    /// `SetDefaultGOMAXPROCS`). It locates the cgroup afresh, so it also
    /// picks up a move to another cgroup.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::path::Path;
    /// let explicit = goro::procs::MaxProcsWatcher::with_root(Path::new("/"), Some("7"))?;
    /// let automatic = explicit.to_automatic();
    /// assert!(automatic.is_automatic());
    /// assert_eq!(automatic.current(), &goro::procs::detect_with(Path::new("/"), None)?);
    /// # Ok::<(), goro::procs::MaxProcsError>(())
    /// ```
    pub fn to_automatic(&self) -> MaxProcsWatcher {
        Self::open_automatic(&self.root, self.cpus)
    }

    /// The count as of construction or the last [`refresh`](Self::refresh).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::path::Path;
    /// let watcher = goro::procs::MaxProcsWatcher::with_root(Path::new("/"), Some("7"))?;
    /// assert_eq!(watcher.current().to_string(), "maxprocs=7 (GORO_MAXPROCS=7)");
    /// # Ok::<(), goro::procs::MaxProcsError>(())
    /// ```
    pub fn current(&self) -> &MaxProcs {
        &self.current
    }

    /// Consumes the watcher, returning [`current`](Self::current).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::path::Path;
    /// let watcher = goro::procs::MaxProcsWatcher::with_root(Path::new("/"), Some("7"))?;
    /// assert_eq!(watcher.into_current().n, 7);
    /// # Ok::<(), goro::procs::MaxProcsError>(())
    /// ```
    pub fn into_current(self) -> MaxProcs {
        self.current
    }

    /// Whether [`refresh`](Self::refresh) can change the count: `false` when
    /// `GORO_MAXPROCS` set it explicitly.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::path::Path;
    /// # use goro::procs::MaxProcsWatcher;
    /// assert!(!MaxProcsWatcher::with_root(Path::new("/"), Some("1"))?.is_automatic());
    /// # Ok::<(), goro::procs::MaxProcsError>(())
    /// ```
    pub fn is_automatic(&self) -> bool {
        matches!(self.mode, Mode::Automatic(_))
    }

    /// Re-reads the open cgroup limit files and the affinity mask and returns
    /// the new count. No paths are resolved and nothing is parsed but the
    /// limit files themselves; unreadable or malformed files give a
    /// [`Source::Fallback`](crate::Source::Fallback), never a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut watcher = goro::procs::MaxProcsWatcher::new()?;
    /// let before = watcher.current().clone();
    /// let update = watcher.refresh();
    /// assert_eq!(update.changed, update.maxprocs.n != before.n);
    /// # Ok::<(), goro::procs::MaxProcsError>(())
    /// ```
    pub fn refresh(&mut self) -> Refresh {
        let previous = self.current.n;
        if let Mode::Automatic(automatic) = &self.mode {
            self.current = automatic.read();
        }
        Refresh {
            maxprocs: self.current.clone(),
            changed: self.current.n != previous,
        }
    }
}

impl Automatic {
    /// A fresh count from the open files and the CPU count.
    fn read(&self) -> MaxProcs {
        let reading = match &self.cgroup {
            Ok(Some(files)) => files.read(),
            Ok(None) => CgroupReading::default(),
            Err(problem) => CgroupReading {
                limit: None,
                problems: vec![problem.clone()],
            },
        };
        let cpus = match self.cpus {
            Cpus::Affinity => CpuCount::detect(),
            Cpus::Given(n) => CpuCount::given(n),
        };
        MaxProcs::automatic(reading, cpus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watcher_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MaxProcsWatcher>();
        assert_send_sync::<MaxProcs>();
    }
}
