//! Child processes inside the test cgroup and the reports they print.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{CHILD, REPORT, Report, TestCgroup, decode, write};

/// A child process inside the test cgroup and the reports it prints; killed
/// on drop.
#[derive(Debug)]
pub struct Reporter {
    child: Child,
    stdin: ChildStdin,
    reports: mpsc::Receiver<String>,
}

impl Reporter {
    /// Starts this test binary's `child_reports` test as a child in
    /// `cgroup`'s leaf, with `GORO_MAXPROCS` unset.
    pub fn start(cgroup: &TestCgroup) -> Reporter {
        Reporter::start_with_env(cgroup, &[])
    }

    /// Like [`start`](Self::start), with `env` set in the child.
    pub fn start_with_env(cgroup: &TestCgroup, env: &[(&str, &str)]) -> Reporter {
        let mut child = crate::child::ignored_test("child_reports")
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

    /// The child's process id.
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
