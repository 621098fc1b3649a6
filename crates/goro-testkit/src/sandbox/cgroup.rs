//! The cgroups a test creates, removed on drop.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use goro_procs::Source;

use super::{PERIOD, write};

/// `<own cgroup>/goro-test-<pid>/leaf`; on drop, kills what is inside and
/// removes what was created.
#[derive(Debug)]
pub struct TestCgroup {
    /// Whether the hierarchy is cgroup v2.
    pub v2: bool,
    /// `goro-test-<pid>`: a parent level to put limits on.
    pub outer: PathBuf,
    /// `goro-test-<pid>/leaf`: where children run.
    pub leaf: PathBuf,
    /// Directories created so far, to remove in reverse order.
    created: Vec<PathBuf>,
    /// A v2 `cgroup.subtree_control` where this test enabled `+cpu`.
    enabled_cpu_in: Option<PathBuf>,
}

impl TestCgroup {
    /// Creates the cgroups, or says why this machine does not allow it.
    pub fn create() -> Result<TestCgroup, String> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not running as root".into());
        }
        let ambient = goro_procs::detect_with(Path::new("/"), None).unwrap();
        if !matches!(ambient.source, Source::Affinity { .. }) {
            return Err(format!(
                "this process is already under a CPU limit, or it cannot be read ({ambient})"
            ));
        }
        let (v2, own, mount) = own_cpu_cgroup()?;
        // v2: a cgroup with processes cannot hand controllers to children
        // unless it is the root, so fall back to the root of the mount.
        let (base, enable_cpu_in) = if v2 {
            let mut why = Vec::new();
            let found = [own.clone(), mount]
                .into_iter()
                .find_map(|dir| match v2_cpu_for_children(&dir) {
                    Ok(enable) => Some((dir, enable)),
                    Err(e) => {
                        why.push(e);
                        None
                    }
                });
            found.ok_or_else(|| why.join("; "))?
        } else {
            (own, None)
        };
        let outer = base.join(format!("goro-test-{}", std::process::id()));
        let mut cgroup = TestCgroup {
            v2,
            leaf: outer.join("leaf"),
            outer,
            created: Vec::new(),
            enabled_cpu_in: None,
        };
        if let Some(control) = enable_cpu_in {
            fs::write(&control, "+cpu")
                .map_err(|e| format!("cannot enable +cpu in {}: {e}", control.display()))?;
            cgroup.enabled_cpu_in = Some(control);
        }
        let outer = cgroup.outer.clone();
        cgroup.mkdir(&outer)?;
        if v2 {
            let control = outer.join("cgroup.subtree_control");
            fs::write(&control, "+cpu")
                .map_err(|e| format!("cannot enable +cpu in {}: {e}", control.display()))?;
        }
        let leaf = cgroup.leaf.clone();
        cgroup.mkdir(&leaf)?;
        let limit_file = if v2 { "cpu.max" } else { "cpu.cfs_quota_us" };
        if !leaf.join(limit_file).exists() {
            return Err(format!("{} has no {limit_file}", leaf.display()));
        }
        Ok(cgroup)
    }

    fn mkdir(&mut self, dir: &Path) -> Result<(), String> {
        fs::create_dir(dir).map_err(|e| format!("cannot create cgroup {}: {e}", dir.display()))?;
        self.created.push(dir.to_owned());
        Ok(())
    }

    /// Sets `dir`'s limit: `Some(quota_us)` per [`PERIOD`], or none.
    pub fn set_limit(&self, dir: &Path, quota_us: Option<u64>) {
        if self.v2 {
            let value = match quota_us {
                Some(q) => format!("{q} {PERIOD}"),
                None => format!("max {PERIOD}"),
            };
            write(&dir.join("cpu.max"), &value);
        } else {
            write(&dir.join("cpu.cfs_period_us"), &PERIOD.to_string());
            let value = quota_us.map_or("-1".to_owned(), |q| q.to_string());
            write(&dir.join("cpu.cfs_quota_us"), &value);
        }
    }

    /// Kills the processes in the leaf: only children this test started are
    /// ever placed there.
    fn kill_leaf_processes(&self) {
        let procs = self.leaf.join("cgroup.procs");
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(pids) = fs::read_to_string(&procs) {
            let pids: Vec<libc::pid_t> = pids.lines().filter_map(|p| p.parse().ok()).collect();
            if pids.is_empty() || Instant::now() > deadline {
                break;
            }
            for pid in pids {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        if self.created.contains(&self.leaf) {
            self.kill_leaf_processes();
        }
        for dir in self.created.iter().rev() {
            // A process that just exited can keep the cgroup busy briefly.
            let deadline = Instant::now() + Duration::from_secs(5);
            while let Err(e) = fs::remove_dir(dir) {
                if e.kind() == std::io::ErrorKind::NotFound {
                    break;
                }
                if Instant::now() > deadline {
                    eprintln!("could not remove cgroup {}: {e}", dir.display());
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        if let Some(control) = &self.enabled_cpu_in {
            // Best effort: another cgroup may have come to rely on it.
            let _ = fs::write(control, "-cpu");
        }
    }
}

/// Whether the v2 cgroup `dir` can give its children the cpu controller:
/// `Ok(None)` if it already does, `Ok(Some(subtree_control))` if `+cpu` has to
/// be written there (and can be: the root, or a cgroup without processes).
fn v2_cpu_for_children(dir: &Path) -> Result<Option<PathBuf>, String> {
    let controllers = fs::read_to_string(dir.join("cgroup.controllers"))
        .map_err(|e| format!("cannot read {}/cgroup.controllers: {e}", dir.display()))?;
    if !controllers.split_whitespace().any(|c| c == "cpu") {
        return Err(format!(
            "the cpu controller is not available in cgroup v2 {} (controllers: {:?})",
            dir.display(),
            controllers.trim()
        ));
    }
    let control = dir.join("cgroup.subtree_control");
    let enabled = fs::read_to_string(&control).unwrap_or_default();
    if enabled.split_whitespace().any(|c| c == "cpu") {
        return Ok(None);
    }
    let is_root = !dir.join("cgroup.type").exists();
    let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    if !is_root && !procs.trim().is_empty() {
        return Err(format!(
            "cgroup v2 {} has processes, so +cpu cannot be enabled for its children",
            dir.display()
        ));
    }
    Ok(Some(control))
}

/// Whether the hierarchy that holds this process's CPU limit is v2 (v1 `cpu`
/// wins, as in the library), the process's own cgroup directory in it, and
/// the mount point.
fn own_cpu_cgroup() -> Result<(bool, PathBuf, PathBuf), String> {
    let cgroups = fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    let mut v1 = None;
    let mut v2 = None;
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path.to_owned());
        } else if controllers.split(',').any(|c| c == "cpu") {
            v1 = Some(path.to_owned());
        }
    }
    let (is_v2, path) = match (v1, v2) {
        (Some(path), _) => (false, path),
        (None, Some(path)) => (true, path),
        (None, None) => return Err("no cgroup hierarchy can hold a CPU limit".into()),
    };
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(fs_type), Some(options)) = (fields.get(sep + 1), fields.get(sep + 3)) else {
            continue;
        };
        let matches = if is_v2 {
            *fs_type == "cgroup2"
        } else {
            *fs_type == "cgroup" && options.split(',').any(|o| o == "cpu")
        };
        // Escaped (unusual) paths are not worth decoding here.
        if !matches || fields[3].contains('\\') || fields[4].contains('\\') {
            continue;
        }
        if let Ok(rel) = Path::new(&path).strip_prefix(fields[3]) {
            let mount = PathBuf::from(fields[4]);
            return Ok((is_v2, mount.join(rel), mount));
        }
    }
    Err(format!("this process's cgroup {path} is not mounted"))
}
