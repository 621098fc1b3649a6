//! One of the workspace's examples, run as a child process the way a user
//! runs it: the binary `cargo test` builds under `target/<profile>/examples`.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::lock;
use crate::skip::skip;

/// The path of example `name`'s binary, next to the test binary's
/// `target/<profile>/deps`; `None` (after a loud skip) if it is not built,
/// as happens with `cargo test --test NAME`.
#[track_caller]
pub fn binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let bin = dir.join("examples").join(name);
    if bin.is_file() {
        return Some(bin);
    }
    skip(&format!(
        "{} is not built (run `cargo test`, which builds the examples, or `cargo build --example {name}`)",
        bin.display()
    ));
    None
}

/// A running example server that said where it listens; killed when
/// dropped.
#[derive(Debug)]
pub struct Example {
    /// The example's process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Example {
    /// Starts example `name` with `--addr 127.0.0.1:0 ARGS...` and waits for
    /// its `listening on http://ADDR/` line on stderr. `None` (after a loud
    /// skip) if the example is not built.
    #[track_caller]
    pub fn start(name: &str, args: &[&str]) -> Option<Example> {
        let bin = binary(name)?;
        let mut child = Command::new(&bin)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut lines = std::io::BufReader::new(child.stderr.take().expect("piped"));
        let mut first = String::new();
        lines
            .read_line(&mut first)
            .expect("reading the example's stderr");
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{name} did not say where it listens: {first:?}"));
        let stderr = Arc::new(Mutex::new(first));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                let mut s = lock(&sink);
                s.push_str(&line);
                s.push('\n');
            }
        });
        Some(Example {
            child,
            addr,
            stderr,
        })
    }

    /// `http://ADDR` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the example printed on stderr so far.
    pub fn stderr(&self) -> String {
        lock(&self.stderr).clone()
    }

    /// Asks the example to stop (SIGTERM; elsewhere than Unix, a kill) and
    /// waits for the exit (at most `within`); returns the exit status, or
    /// `None` if it did not exit in time.
    pub fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        terminate(&mut self.child);
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(st) = self.child.try_wait().expect("waiting for the example") {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `child` SIGTERM (elsewhere than Unix: kills it).
pub fn terminate(child: &mut Child) {
    #[cfg(unix)]
    {
        let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
        // SAFETY: `kill` only sends a signal to the child we started.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    #[cfg(not(unix))]
    let _ = child.kill();
}
