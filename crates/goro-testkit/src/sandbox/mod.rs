//! A real cgroup to run child processes in, for the tests that check
//! maxprocs against the kernel: `goro-procs`'s `real_cgroup.rs` (what a
//! `MaxProcsWatcher` sees) and the facade's `maxprocs_live.rs` (what a
//! running runtime does). Each test binary has its own `child_reports` test
//! that [`Reporter::start`] runs as the child. Linux only, with the `procs`
//! feature.
//!
//! Needs root and a writable cgroup hierarchy with the `cpu` controller (v1
//! `cpu`, or v2 where `+cpu` can be enabled for a new child cgroup);
//! [`TestCgroup::create`] says why not otherwise. Every cgroup created is
//! removed on drop, panics included, after killing the children in it.

mod affinity;
mod cgroup;
mod reporter;

pub use affinity::{pin_to_one_cpu, unpin};
pub use cgroup::TestCgroup;
pub use reporter::Reporter;

use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

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

/// One line a child printed: `<n> <kind> <quota_us or -> <limit dir or -> | <display line>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The maxprocs the child sees.
    pub n: usize,
    /// The kind of its source (`cgroup`, `affinity`, ...).
    pub kind: String,
    /// The quota in microseconds per [`PERIOD`], if limited.
    pub quota: Option<u64>,
    /// The cgroup directory the limit comes from, if any.
    pub path: Option<PathBuf>,
    /// The child's display line.
    pub line: String,
}

/// Parses a report line (after [`REPORT`]).
///
/// # Panics
/// If the line is not one a child prints.
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

/// Writes `value` to `path`, panicking with both on failure.
fn write(path: &Path, value: &str) {
    std::fs::write(path, value)
        .unwrap_or_else(|e| panic!("cannot write {value:?} to {}: {e}", path.display()));
}
