//! Child processes: this bench executable run again as `--child ...`, so
//! that each runtime is measured in a fresh process, and server children
//! that announce where they listen.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::procfs::status_field;

/// Runs this bench executable again as `--child <args>` (so each runtime is
/// measured in a fresh process), kills it after `timeout`, and returns the
/// first line of its stdout that starts with `prefix`.
///
/// # Errors
/// A description of what went wrong: spawn, timeout, exit status, or no
/// such line.
pub fn run_child(
    exe: &Path,
    args: &[&str],
    timeout: Duration,
    prefix: &str,
) -> Result<String, String> {
    run_child_lines(exe, args, timeout, prefix)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("no {prefix} line"))
}

/// Like [`run_child`], but returns every line of the child's stdout that
/// starts with `prefix` (none is not an error).
///
/// # Errors
/// A description of what went wrong: spawn, timeout or exit status.
pub fn run_child_lines(
    exe: &Path,
    args: &[&str],
    timeout: Duration,
    prefix: &str,
) -> Result<Vec<String>, String> {
    let mut child = Command::new(exe)
        .arg("--child")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn child: {e}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {timeout:?}"));
            }
            Err(e) => return Err(format!("wait: {e}")),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("read output: {e}"))?;
    if !out.status.success() {
        return Err(format!("child exited with {}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect())
}

/// A server child process. It must print `LISTEN <addr>` on stdout once it
/// accepts connections; everything after that is drained and ignored. The
/// process is killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct ServerProc {
    child: Child,
    /// The address it listens on, from its `LISTEN` line.
    pub addr: String,
}

impl ServerProc {
    /// Starts `cmd` and waits up to `timeout` for its `LISTEN` line.
    ///
    /// # Errors
    /// Spawn failure, early exit or no `LISTEN` line in time.
    pub fn start(mut cmd: Command, timeout: Duration) -> Result<Self, String> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn server {cmd:?}: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        thread::Builder::new()
            .name("server-stdout".into())
            .spawn(move || {
                let mut sent = false;
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if !sent && let Some(addr) = line.strip_prefix("LISTEN ") {
                        let _ = tx.send(addr.trim().to_owned());
                        sent = true;
                    }
                }
            })
            .expect("spawn stdout reader");
        match rx.recv_timeout(timeout) {
            Ok(addr) => Ok(Self { child, addr }),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                Err(format!(
                    "server printed no LISTEN line within {timeout:?} (status {status:?})"
                ))
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Threads:` of the server now.
    pub fn threads(&self) -> Option<u64> {
        status_field(self.pid(), "Threads")
    }

    /// Resident memory of the server now, in MiB.
    pub fn rss_mib(&self) -> Option<f64> {
        status_field(self.pid(), "VmRSS").map(|kib| kib as f64 / 1024.0)
    }

    /// Whether the server is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command that runs this bench executable as `--child <args>`.
pub fn self_child(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
    cmd.arg("--child").args(args);
    cmd
}

/// Prints `LISTEN <addr>` and flushes, for [`ServerProc::start`].
pub fn announce(addr: std::net::SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "LISTEN {addr}").expect("write LISTEN line");
    out.flush().expect("flush stdout");
}

/// The `--child` roles of a TCP server bench: `--child server <rt>` runs
/// `server(rt)`, `--child load <proto> <args>...` runs `load(args)`.
/// Returns whether this process is such a child (and has run its role);
/// `false` in the parent.
///
/// # Panics
/// On any other `--child` role.
pub fn server_or_load_child(
    args: &[String],
    server: impl FnOnce(&str),
    load: impl FnOnce(&[String]),
) -> bool {
    let Some(i) = args.iter().position(|a| a == "--child") else {
        return false;
    };
    match args.get(i + 1).map(String::as_str) {
        Some("server") => server(args.get(i + 2).expect("--child server <rt>")),
        Some("load") => load(args.get(i + 3..).expect("--child load <proto> <args>...")),
        other => panic!("usage: --child server <rt> | load <proto> <args>...: {other:?}"),
    }
    true
}

/// What the parent of a load bench (`tcp_echo`, `ws_echo`) reads from its
/// command line, besides its own flags.
#[derive(Debug)]
pub struct LoadBenchArgs<'a> {
    /// All the arguments, for the bench's own flags.
    pub args: Vec<String>,
    /// `--rounds`, 2 by default.
    pub rounds: usize,
    /// `--secs`, the measured time of a round.
    pub measure: Duration,
    /// The servers the filter selects ([`selected`](crate::cli::selected)).
    pub servers: Vec<&'a str>,
}

/// Runs this process's `--child` role if it has one
/// ([`server_or_load_child`]) and returns `None`; in the parent, returns
/// the common flags, with `default_measure` for `--secs`.
///
/// # Panics
/// As [`server_or_load_child`], or on a flag that does not parse.
pub fn load_bench_args<'a>(
    all_servers: &[&'a str],
    default_measure: Duration,
    server: impl FnOnce(&str),
    load: impl FnOnce(&[String]),
) -> Option<LoadBenchArgs<'a>> {
    let args: Vec<String> = std::env::args().collect();
    if server_or_load_child(&args, server, load) {
        return None;
    }
    Some(LoadBenchArgs {
        rounds: crate::cli::flag(&args, "--rounds", 2),
        measure: Duration::from_secs(crate::cli::flag(&args, "--secs", default_measure.as_secs())),
        servers: crate::cli::selected(&args, all_servers),
        args,
    })
}
