//! `goro::process` with real programs: `cat`, `sh`, `sleep`, `head`. Each
//! case runs twice, once waiting through a pidfd (Linux) and once through
//! SIGCHLD, the fallback elsewhere.
#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::process::{Command, Stdio};
use goro::time::timeout;

/// Far beyond what a working wait takes, even under valgrind.
const PATIENCE: Duration = Duration::from_secs(30);

/// Whether this kernel (and sandbox: valgrind, seccomp) has pidfd_open;
/// when not, goro falls back to SIGCHLD, and says so loudly here.
#[cfg(target_os = "linux")]
fn pidfd_works() -> bool {
    // SAFETY: pidfd_open(2) on our own pid; the descriptor is closed at once.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if fd < 0 {
        let why = std::io::Error::last_os_error();
        assert!(
            std::env::var_os("GORO_TEST_STRICT").is_none_or(|v| v != "1"),
            "GORO_TEST_STRICT=1 and pidfd_open is unavailable: {why}"
        );
        eprintln!("process test: SKIP the pidfd path: pidfd_open is unavailable here ({why})");
        return false;
    }
    // SAFETY: `fd` is a descriptor we just opened and own.
    unsafe { libc::close(fd as i32) };
    true
}

/// The two ways of waiting for an exit.
fn ways() -> [bool; 2] {
    [false, true] // sigchld_only
}

fn cmd(program: &str, sigchld_only: bool) -> Command {
    let mut c = Command::new(program);
    c.__sigchld_only(sigchld_only);
    c
}

#[goro::test(maxprocs = 2)]
async fn cat_echoes_its_piped_input() -> std::io::Result<()> {
    for sigchld in ways() {
        let mut cat = cmd("cat", sigchld)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        #[cfg(target_os = "linux")]
        assert_eq!(
            cat.__exit_watch(),
            Some(if sigchld || !pidfd_works() {
                "sigchld"
            } else {
                "pidfd"
            })
        );
        let mut stdin = cat.stdin.take().unwrap();
        let mut stdout = cat.stdout.take().unwrap();
        // Write and read at once: cat answers as it reads.
        let writer = goro::go(async move {
            for i in 0..100 {
                stdin.write_all(format!("line {i}\n").as_bytes()).await?;
            }
            std::io::Result::Ok(()) // dropping stdin closes it: EOF
        });
        let mut echoed = String::new();
        timeout(PATIENCE, stdout.read_to_string(&mut echoed))
            .await
            .expect("cat's output never ended")?;
        writer.await.unwrap()?;
        let status = timeout(PATIENCE, cat.wait()).await.expect("wait hung")?;
        assert!(status.success(), "{status}");
        assert_eq!(echoed.lines().count(), 100);
        assert_eq!(echoed.lines().nth(42), Some("line 42"));
    }
    Ok(())
}

#[goro::test(maxprocs = 2)]
async fn the_exit_code_of_sh_exit_3() -> std::io::Result<()> {
    for sigchld in ways() {
        let status = cmd("sh", sigchld).args(["-c", "exit 3"]).status().await?;
        assert_eq!(status.code(), Some(3));
        let out = cmd("sh", sigchld)
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .output()
            .await?;
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }
    Ok(())
}

#[goro::test(maxprocs = 2)]
async fn a_killed_sleep_60_ends_at_once_with_sigkill() -> std::io::Result<()> {
    for sigchld in ways() {
        let mut child = cmd("sleep", sigchld).arg("60").spawn()?;
        let pid = child.id().unwrap();
        // It runs, and a wait does not return on its own.
        assert!(
            timeout(Duration::from_millis(100), child.wait())
                .await
                .is_err()
        );
        let start = Instant::now();
        child.start_kill()?;
        let status = timeout(PATIENCE, child.wait()).await.expect("wait hung")?;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
        assert!(start.elapsed() < PATIENCE);
        assert_eq!(child.id(), None, "reaped");
        // SAFETY: kill(2) with signal 0 only checks that `pid` exists.
        let alive = unsafe { libc::kill(pid as i32, 0) } == 0;
        assert!(!alive, "pid {pid} still exists after the wait (a zombie?)");
    }
    Ok(())
}

/// Threads of this process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[goro::test(maxprocs = 2)]
async fn a_hundred_children_at_once() -> std::io::Result<()> {
    for sigchld in ways() {
        let before = threads();
        let mut set = goro::JoinSet::new();
        for i in 0..100u32 {
            let mut c = cmd("sh", sigchld);
            c.args(["-c", &format!("sleep 0.2; exit {}", i % 50)]);
            let mut child = c.spawn()?;
            set.spawn(async move { (i, child.wait().await) });
        }
        // Every child is waited for at once, in tasks: no thread each.
        goro::time::sleep(Duration::from_millis(50)).await;
        let during = threads();
        assert!(
            during < before + 10,
            "{before} threads before, {during} while 100 children are awaited"
        );
        let mut seen = 0;
        while let Some(r) = timeout(PATIENCE, set.join_next())
            .await
            .expect("a wait hung")
        {
            let (i, status) = r.unwrap();
            assert_eq!(status?.code(), Some((i % 50) as i32), "child {i}");
            seen += 1;
        }
        assert_eq!(seen, 100);
    }
    Ok(())
}

#[goro::test(maxprocs = 2)]
async fn a_child_that_writes_more_than_a_pipe_buffer() -> std::io::Result<()> {
    // 1 MiB on stdout and 300 KiB on stderr, both past the 64 KiB a Linux
    // pipe holds: `output` must read both while the child runs.
    for sigchld in ways() {
        let out = timeout(
            PATIENCE,
            cmd("sh", sigchld)
                .args([
                    "-c",
                    "head -c 1048576 /dev/zero; head -c 307200 /dev/zero >&2; exit 0",
                ])
                .output(),
        )
        .await
        .expect("output stalled on a full pipe")?;
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), 1 << 20);
        assert_eq!(out.stderr.len(), 300 << 10);
        assert!(out.stdout.iter().all(|&b| b == 0));
    }
    Ok(())
}

#[goro::test(maxprocs = 2)]
async fn kill_on_drop_kills_and_reaps_and_plain_drop_reaps() -> std::io::Result<()> {
    /// Waits until `pid` is gone: killed and reaped, not a zombie.
    async fn gone(pid: u32) -> bool {
        let start = Instant::now();
        while start.elapsed() < PATIENCE {
            // SAFETY: kill(2) with signal 0 only checks that `pid` exists.
            if unsafe { libc::kill(pid as i32, 0) } != 0 {
                return true;
            }
            goro::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
    for sigchld in ways() {
        let child = cmd("sleep", sigchld).arg("60").kill_on_drop(true).spawn()?;
        let pid = child.id().unwrap();
        drop(child);
        assert!(gone(pid).await, "kill_on_drop left pid {pid}");

        // Without kill_on_drop the child runs on, and is reaped on exit.
        let child = cmd("sh", sigchld).args(["-c", "sleep 0.1"]).spawn()?;
        let pid = child.id().unwrap();
        drop(child);
        assert!(gone(pid).await, "pid {pid} left as a zombie");
    }
    Ok(())
}

#[test]
fn a_missing_program_is_an_error_naming_it() {
    let err = Command::new("goro-no-such-program").spawn().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(err.to_string().contains("goro-no-such-program"), "{err}");
}
