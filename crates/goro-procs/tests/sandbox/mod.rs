//! A real cgroup to run child processes in, for the tests that check
//! maxprocs against the kernel: `goro-procs`'s `real_cgroup.rs` (what a
//! `MaxProcsWatcher` sees) and the facade's `maxprocs_live.rs` (what a
//! running runtime does). Both include this file; each test binary has its
//! own `child_reports` test that [`Reporter::start`] runs as the child.
//!
//! Needs root and a writable cgroup hierarchy with the `cpu` controller (v1
//! `cpu`, or v2 where `+cpu` can be enabled for a new child cgroup);
//! [`TestCgroup::create`] says why not otherwise. Every cgroup created is
//! removed on drop, panics included, after killing the children in it.

#![allow(dead_code)] // each test binary uses a different part

/// Skips that say so, and fail under `GORO_TEST_STRICT=1`: the facade's
/// helper, shared by path like this file.
#[path = "../../../../tests/common/strict.rs"]
mod strict;
pub use strict::skip;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use goro_procs::Source;

/// Set in the child, so its `child_reports` knows it is one.
pub const CHILD: &str = "GORO_PROCS_REAL_CGROUP_CHILD";
/// Prefix of the child's report lines.
pub const REPORT: &str = "report: ";
/// How long a live change may take to show (children report every 100 ms,
/// and a runtime re-reads its limit once a second): far more than that, so
/// that only a change that never shows, not a loaded machine, exceeds it.
pub const FOLLOW: Duration = Duration::from_secs(30);
/// How long a new child may take to start and print.
pub const START: Duration = Duration::from_secs(20);
/// The period used for every quota.
pub const PERIOD: u64 = 100_000;

/// In a child: `false` if this process is not one. Otherwise waits for
/// the go-ahead on stdin (sent once the child is in the test cgroup), and
/// makes the process exit when stdin closes, so a child cannot outlive its
/// test even if the test is killed.
pub fn child_start() -> bool {
    if std::env::var_os(CHILD).is_none() {
        return false;
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    thread::spawn(|| {
        let mut rest = String::new();
        while std::io::stdin().read_line(&mut rest).is_ok_and(|n| n > 0) {}
        std::process::exit(0);
    });
    true
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One line a child printed: `<n> <kind> <quota_us or -> <limit dir or -> | <display line>`.
pub struct Report {
    pub n: usize,
    pub kind: String,
    pub quota: Option<u64>,
    pub path: Option<PathBuf>,
    pub line: String,
}

pub fn decode(text: &str) -> Report {
    let (fields, line) = text.split_once(" | ").expect("report has a display part");
    let fields: Vec<&str> = fields.splitn(4, ' ').collect();
    Report {
        n: fields[0].parse().unwrap(),
        kind: fields[1].to_owned(),
        quota: (fields[2] != "-").then(|| fields[2].parse().unwrap()),
        path: (fields[3] != "-").then(|| PathBuf::from(fields[3])),
        line: line.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Cgroups this test creates.

/// `<own cgroup>/goro-test-<pid>/leaf`; on drop, kills what is inside and
/// removes what was created.
pub struct TestCgroup {
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

fn write(path: &Path, value: &str) {
    fs::write(path, value)
        .unwrap_or_else(|e| panic!("cannot write {value:?} to {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------
// Reporting children.

/// A child process inside the test cgroup and the reports it prints; killed
/// on drop.
pub struct Reporter {
    child: Child,
    stdin: ChildStdin,
    reports: mpsc::Receiver<String>,
}

impl Reporter {
    pub fn start(cgroup: &TestCgroup) -> Reporter {
        Reporter::start_with_env(cgroup, &[])
    }

    /// Like [`start`](Self::start), with `env` set in the child.
    pub fn start_with_env(cgroup: &TestCgroup, env: &[(&str, &str)]) -> Reporter {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_reports",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .env_remove(goro_procs::ENV_VAR)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, reports) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Some(report) = line.strip_prefix(REPORT) else {
                    continue;
                };
                if tx.send(report.to_owned()).is_err() {
                    break;
                }
            }
        });
        let mut reporter = Reporter {
            child,
            stdin,
            reports,
        };
        // Move it before it looks: a watcher does not follow migrations.
        write(
            &cgroup.leaf.join("cgroup.procs"),
            &reporter.child.id().to_string(),
        );
        reporter.stdin.write_all(b"go\n").unwrap();
        reporter
    }

    pub fn pid(&self) -> libc::pid_t {
        libc::pid_t::try_from(self.child.id()).unwrap()
    }

    /// The next report.
    pub fn next(&self, timeout: Duration) -> Report {
        let text = self
            .reports
            .recv_timeout(timeout)
            .unwrap_or_else(|e| panic!("no report from the child within {timeout:?}: {e}"));
        decode(&text)
    }

    /// The first report that satisfies `ok`, within `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, ok: impl Fn(&Report) -> bool) -> Report {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.reports.recv_timeout(left) {
                Ok(text) => {
                    let report = decode(&text);
                    if ok(&report) {
                        return report;
                    }
                    last = Some(report);
                }
                Err(_) => panic!("{what}: not seen within {timeout:?}; last report: {last:?}"),
            }
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Restricts every thread of `pid` to the first CPU this process may use.
pub fn pin_to_one_cpu(pid: libc::pid_t) {
    let mine = own_affinity();
    let word = mine
        .iter()
        .position(|&w| w != 0)
        .expect("some CPU is allowed");
    let mut one = [0u64; MASK_WORDS];
    one[word] = 1 << mine[word].trailing_zeros();
    set_affinity(pid, &one);
}

/// Gives every thread of `pid` this process's CPUs again.
pub fn unpin(pid: libc::pid_t) {
    set_affinity(pid, &own_affinity());
}

/// glibc's `cpu_set_t`: 1024 CPUs in 64-bit words.
const MASK_WORDS: usize = 1024 / 64;

fn own_affinity() -> [u64; MASK_WORDS] {
    let mut mine = [0u64; MASK_WORDS];
    // SAFETY: `mine` is a writable buffer of `size_of_val(&mine)` bytes,
    // aligned for cpu_set_t (an array of 64-bit words); the kernel writes at
    // most that many.
    let rc = unsafe {
        libc::sched_getaffinity(0, std::mem::size_of_val(&mine), mine.as_mut_ptr().cast())
    };
    assert_eq!(
        rc,
        0,
        "sched_getaffinity: {}",
        std::io::Error::last_os_error()
    );
    mine
}

fn set_affinity(pid: libc::pid_t, mask: &[u64; MASK_WORDS]) {
    for task in fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let tid: libc::pid_t = task.unwrap().file_name().to_str().unwrap().parse().unwrap();
        // SAFETY: `mask` is a readable buffer of `size_of_val(mask)` bytes
        // laid out as a cpu_set_t; the kernel only reads it.
        let rc = unsafe {
            libc::sched_setaffinity(tid, std::mem::size_of_val(mask), mask.as_ptr().cast())
        };
        // A thread that exited meanwhile is no longer there to restrict.
        let err = std::io::Error::last_os_error();
        assert!(
            rc == 0 || err.raw_os_error() == Some(libc::ESRCH),
            "sched_setaffinity({tid}): {err}"
        );
    }
}
