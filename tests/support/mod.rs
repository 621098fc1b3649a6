//! What the HTTP and compat tests share: loud skips that fail under
//! `GORO_TEST_STRICT=1` (`tests/common/strict.rs`), finding third-party tools, and the check that no
//! tokio or async-compat runtime thread exists in the test process.
//!
//! Each test file includes it with `mod support;` and uses what it needs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Strict mode and loud skips (`GORO_TEST_STRICT`).
#[path = "../common/strict.rs"]
pub mod strict_env;

/// Whether missing environment must fail the test (`GORO_TEST_STRICT=1`,
/// which CI sets).
pub fn strict() -> bool {
    strict_env::strict()
}

/// Says on stderr why a test cannot run here; under `GORO_TEST_STRICT=1`
/// that is a failure instead. Returns so the caller can `return`.
#[track_caller]
pub fn skip(reason: &str) {
    let at = std::panic::Location::caller();
    strict_env::skip(&format!("{}:{}", at.file(), at.line()), reason);
}

/// The path of `tool` if it is on `PATH` and runs.
pub fn tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// `tool`, or a loud skip (a failure under strict mode) naming the apt
/// package that has it.
#[track_caller]
pub fn require_tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = tool(name);
    if found.is_none() {
        skip(&format!(
            "`{name}` is not installed (apt-get install {package})"
        ));
    }
    found
}

/// The names of this process's threads, from `/proc/self/task/*/comm`.
pub fn thread_names() -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for t in dir.flatten() {
            if let Ok(n) = std::fs::read_to_string(t.path().join("comm")) {
                names.push(n.trim().to_owned());
            }
        }
    }
    names
}

/// Fails if any thread is named like a tokio runtime's or async-compat's
/// (`tokio-runtime-worker`, `async-compat/tokio-1`), or async-io's
/// reactor (`async-io`).
pub fn assert_no_hidden_runtime() {
    let names = thread_names();
    assert!(!names.is_empty(), "cannot read /proc/self/task/*/comm");
    let hidden: Vec<_> = names
        .iter()
        .filter(|n| {
            let n = n.to_ascii_lowercase();
            n.contains("tokio") || n.contains("async-compat") || n.contains("async-io")
        })
        .collect();
    assert!(
        hidden.is_empty(),
        "a hidden runtime thread is running: {hidden:?} (all threads: {names:?})"
    );
}

/// Runs `cmd` and returns its stdout, panicking with its stderr on failure.
#[track_caller]
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}:\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Python that has the `websockets` library (`.venv-ws`, made by
/// `.ci/venv-ws`, or `GORO_PYTHON`), with its version, or why there is
/// none.
pub fn python_with_websockets() -> Result<(PathBuf, String), String> {
    let python = match std::env::var_os("GORO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-ws/bin/python"),
    };
    if !python.exists() {
        return Err(format!(
            "{} does not exist (run .ci/venv-ws, or set GORO_PYTHON)",
            python.display()
        ));
    }
    let out = Command::new(&python)
        .args(["-c", "import websockets; print(websockets.__version__)"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} has no `websockets` (run .ci/venv-ws): {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok((
        python,
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    ))
}

/// One of this package's examples, started as a child process on an
/// ephemeral port; killed when dropped.
pub struct Example {
    pub child: std::process::Child,
    pub addr: std::net::SocketAddr,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Example {
    /// Starts `target/<profile>/examples/NAME --addr 127.0.0.1:0 ARGS...`
    /// and waits for its `listening on http://ADDR/` line. `None` (after a
    /// loud skip) if `cargo test` did not build the example, as happens
    /// with `cargo test --test NAME`.
    #[track_caller]
    pub fn start(name: &str, args: &[&str]) -> Option<Example> {
        use std::io::BufRead;
        let exe = std::env::current_exe().expect("the test binary's path");
        let dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>/deps");
        let bin = dir.join("examples").join(name);
        if !bin.is_file() {
            skip(&format!(
                "{} is not built (run `cargo test`, which builds the examples, or `cargo build --example {name}`)",
                bin.display()
            ));
            return None;
        }
        let mut child = Command::new(&bin)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
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
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(first));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
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
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends SIGTERM and waits for the exit (at most `within`); returns
    /// the exit status, or `None` if it had to be killed.
    pub fn terminate(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        // SAFETY: `kill` only sends a signal to the child we started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let until = std::time::Instant::now() + within;
        while std::time::Instant::now() < until {
            if let Some(st) = self.child.try_wait().expect("waiting for the example") {
                return Some(st);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
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

/// Whether tests that need a real server (PostgreSQL, Redis) must run:
/// `GORO_REQUIRE_SERVICES=1` (CI sets it) or `GORO_TEST_STRICT=1`.
pub fn services_required() -> bool {
    strict() || std::env::var_os("GORO_REQUIRE_SERVICES").is_some_and(|v| v != "0")
}

/// Like [`skip`], for a server a test could not start: a failure under
/// `GORO_REQUIRE_SERVICES=1` or `GORO_TEST_STRICT=1`.
#[track_caller]
pub fn skip_service(reason: &str) {
    let at = std::panic::Location::caller();
    if services_required() {
        panic!(
            "GORO_REQUIRE_SERVICES=1 (or GORO_TEST_STRICT=1) and this test cannot run ({at}): {reason}"
        );
    }
    eprintln!("SKIPPED ({at}): {reason} (set GORO_REQUIRE_SERVICES=1 to make this a failure)");
}

/// A free TCP port on 127.0.0.1 (bound, then released for a server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0")
        .port()
}

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Makes `$TMPDIR/goro-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "goro-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP forwarder to `target` that counts the connections it accepts:
/// how many connections the client really opened.
pub async fn counting_proxy(
    target: std::net::SocketAddr,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use goro::io::AsyncWriteExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let front = goro::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = front.local_addr().unwrap();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let accepted = count.clone();
    goro::go(async move {
        while let Ok((client, _)) = front.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            goro::go(async move {
                let Ok(server) = goro::net::TcpStream::connect(target).await else {
                    return;
                };
                let (cr, mut cw) = client.into_split();
                let (sr, mut sw) = server.into_split();
                goro::go(async move {
                    let _ = goro::io::copy(cr, &mut sw).await;
                    let _ = sw.close().await;
                });
                let _ = goro::io::copy(sr, &mut cw).await;
                let _ = cw.close().await;
            });
        }
    });
    (addr, count)
}
