//! Child processes, Go's `os/exec`: [`Command`] mirrors
//! [`std::process::Command`] the way `tokio::process` does, with `async`
//! [`output`](Command::output), [`status`](Command::status) and
//! [`Child::wait`], and pipes that implement the [`goro::io`](crate::io)
//! traits. Unix only.
//!
//! A child's exit is awaited through goro's reactor, with no thread per
//! child: on Linux (5.3 and later) through a pidfd, elsewhere (or where
//! `pidfd_open` is refused) through a SIGCHLD listener of
//! [`goro::signal`](crate::signal), which installs a SIGCHLD handler for
//! the process.
//!
//! | Go | goro |
//! |---|---|
//! | `exec.Command("ls", "-l").Output()` | `Command::new("ls").arg("-l").output().await?` |
//! | `cmd.Run()` | `cmd.status().await?` |
//! | `cmd.Start()`, `cmd.Wait()` | `let mut child = cmd.spawn()?;` then `child.wait().await?` |
//! | `cmd.StdinPipe()` | `cmd.stdin(Stdio::piped())`, then `child.stdin.take()` |
//! | `cmd.Process.Kill()` | `child.start_kill()`, or `child.kill().await` (kill and wait) |
//! | `exec.CommandContext(ctx, ...)` | [`kill_on_drop(true)`](Command::kill_on_drop) and drop the child (or its task) on cancel |
//!
//! # Examples
//!
//! ```
//! use goro::io::{AsyncReadExt, AsyncWriteExt};
//! use goro::process::{Command, Stdio};
//!
//! goro::block_on(async {
//!     let out = Command::new("sh").args(["-c", "echo hi; exit 3"]).output().await?;
//!     assert_eq!(out.status.code(), Some(3));
//!     assert_eq!(out.stdout, b"hi\n");
//!
//!     // `cat` as a filter: write its input, read its output.
//!     let mut cat = Command::new("cat")
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()?;
//!     let mut stdin = cat.stdin.take().unwrap();
//!     stdin.write_all(b"through cat").await?;
//!     drop(stdin); // EOF for cat
//!     let mut echoed = String::new();
//!     cat.stdout.take().unwrap().read_to_string(&mut echoed).await?;
//!     assert!(cat.wait().await?.success());
//!     assert_eq!(echoed, "through cat");
//!     goro::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

mod exit;
mod pipes;

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;

pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

use crate::io::AsyncReadExt;
use exit::ExitWatch;

/// A process to start, like [`std::process::Command`] (whose builder
/// methods it has), with `async` [`output`](Command::output) and
/// [`status`](Command::status), and [`kill_on_drop`](Command::kill_on_drop).
/// [`as_std_mut`](Command::as_std_mut) reaches the rest of `std`'s options
/// (`uid`, `process_group`, `pre_exec`, ...).
///
/// # Examples
///
/// ```
/// let status = goro::block_on(goro::process::Command::new("true").status()).unwrap();
/// assert!(status.success());
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    sigchld_only: bool,
    /// Which streams were set here (`output` fills in the others).
    set: [bool; 3],
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` unless it is a
    /// path), with no arguments, the parent's environment and working
    /// directory, and the standard streams inherited (for `spawn` and
    /// `status`) or piped (for `output`), as in `std`.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: [`Stdio::piped`] makes
    /// [`Child::stdin`] a [`ChildStdin`].
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.set[0] = true;
        self
    }

    /// The child's standard output: [`Stdio::piped`] makes
    /// [`Child::stdout`] a [`ChildStdout`].
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.set[1] = true;
        self
    }

    /// The child's standard error: [`Stdio::piped`] makes
    /// [`Child::stderr`] a [`ChildStderr`].
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.set[2] = true;
        self
    }

    /// Whether dropping the [`Child`] before it has been waited for kills
    /// it (SIGKILL), as tokio's option. Off by default, as in `std` and Go:
    /// a dropped child keeps running (goro still reaps it when it exits, so
    /// it leaves no zombie).
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::process::Command;
    ///
    /// goro::block_on(async {
    ///     let child = Command::new("sleep").arg("60").kill_on_drop(true).spawn()?;
    ///     drop(child); // the sleep is killed, not left running
    ///     goro::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// Waits for exits through SIGCHLD even where a pidfd is available:
    /// for goro's tests of that path.
    #[doc(hidden)]
    pub fn __sigchld_only(&mut self, yes: bool) -> &mut Command {
        self.sigchld_only = yes;
        self
    }

    /// The `std` command, for the options not mirrored here.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child and returns it at once. The `fork`/`exec` runs on
    /// the calling thread, as `std` and tokio do: it takes microseconds to
    /// a millisecond.
    ///
    /// # Errors
    ///
    /// The program cannot be started (not found, not executable); the
    /// message names the program.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = goro::process::Command::new("/no/such/program").spawn().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// assert!(err.to_string().starts_with("spawn /no/such/program: "), "{err}");
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        let program = self.std.get_program().to_owned();
        let named = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("spawn {}: {e}", Path::new(&program).display()),
            )
        };
        let mut std = self.std.spawn().map_err(named)?;
        let watch = match ExitWatch::new(std.id(), self.sigchld_only) {
            Ok(w) => w,
            Err(e) => {
                // Without a way to wait, do not leave the child behind.
                let _ = std.kill();
                let _ = std.wait();
                return Err(e);
            }
        };
        let (stdin, stdout, stderr) = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        // Built before the pipes are registered: if that fails, dropping
        // the child reaps it (and kills it, with `kill_on_drop`).
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            inner: Some(Inner { std, watch }),
            status: None,
            kill_on_drop: self.kill_on_drop,
        };
        child.stdin = stdin.map(ChildStdin::new).transpose()?;
        child.stdout = stdout.map(ChildStdout::new).transpose()?;
        child.stderr = stderr.map(ChildStderr::new).transpose()?;
        Ok(child)
    }

    /// Runs the child to completion, capturing its standard output and
    /// error (unless set otherwise), like [`std::process::Command::output`];
    /// standard input is empty unless set. Both pipes are read while the
    /// child runs, so a child that writes more than a pipe holds does not
    /// stall. As tokio's, it leaves those settings on the command (streams
    /// set through [`as_std_mut`](Command::as_std_mut) are not seen and
    /// are overridden).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn), or reading the pipes fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let out = goro::block_on(goro::process::Command::new("echo").arg("hello").output()).unwrap();
    /// assert!(out.status.success());
    /// assert_eq!(out.stdout, b"hello\n");
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        // std's defaults for `output`: null stdin, piped stdout and stderr;
        // a stream set on the command wins.
        if !self.set[0] {
            self.std.stdin(Stdio::null());
        }
        if !self.set[1] {
            self.std.stdout(Stdio::piped());
        }
        if !self.set[2] {
            self.std.stderr(Stdio::piped());
        }
        let child = self.spawn()?;
        child.wait_with_output().await
    }

    /// Runs the child to completion with the standard streams inherited
    /// (unless set otherwise) and returns its exit status: Go's
    /// `cmd.Run()`.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// let status = goro::block_on(
    ///     goro::process::Command::new("sh").args(["-c", "exit 3"]).status(),
    /// )
    /// .unwrap();
    /// assert_eq!(status.code(), Some(3));
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        // The handles are not ours to keep open: std's `status` drops them.
        child.stdin.take();
        child.stdout.take();
        child.stderr.take();
        child.wait().await
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            sigchld_only: false,
            set: [false; 3],
        }
    }
}

/// A running (or finished) child process, from [`Command::spawn`].
///
/// Its piped streams are public fields, to `take()`, as in `std`.
/// Dropping a child that has not been waited for leaves it running (unless
/// [`kill_on_drop`](Command::kill_on_drop)), and a goro task reaps it when
/// it exits, so no zombie is left.
pub struct Child {
    /// The child's standard input, if piped.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if piped.
    pub stderr: Option<ChildStderr>,
    /// Until the exit status has been collected.
    inner: Option<Inner>,
    status: Option<ExitStatus>,
    kill_on_drop: bool,
}

struct Inner {
    std: std::process::Child,
    watch: ExitWatch,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status)
            .field("exit_watch", &self.inner.as_ref().map(|i| i.watch.kind()))
            .finish_non_exhaustive()
    }
}

impl Child {
    /// The child's process id, until its exit status has been collected
    /// (then the id may already belong to another process): `None` after.
    ///
    /// # Examples
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut child = goro::process::Command::new("true").spawn()?;
    ///     assert!(child.id().is_some());
    ///     child.wait().await?;
    ///     assert_eq!(child.id(), None);
    ///     goro::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn id(&self) -> Option<u32> {
        self.inner.as_ref().map(|i| i.std.id())
    }

    /// How the child's exit is awaited: `"pidfd"` or `"sigchld"`; `None`
    /// once it has been collected.
    #[doc(hidden)]
    pub fn __exit_watch(&self) -> Option<&'static str> {
        self.inner.as_ref().map(|i| i.watch.kind())
    }

    /// Waits for the child to exit and returns its status, closing its
    /// standard input first (so a child reading it sees EOF), as `std`
    /// does. Later calls return the same status. The wait parks the task,
    /// not a thread. Cancel-safe.
    ///
    /// # Errors
    ///
    /// The status cannot be collected (someone else reaped the child).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin.take();
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            match &mut self.inner {
                Some(inner) => inner.watch.changed().await?,
                None => unreachable!("try_wait returned None with no child"),
            }
        }
    }

    /// The exit status if the child has exited, else `None`, without
    /// waiting.
    ///
    /// # Errors
    ///
    /// The status cannot be collected.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let Some(inner) = self.inner.as_mut() else {
            return Ok(self.status);
        };
        let status = inner.std.try_wait()?;
        if let Some(status) = status {
            self.status = Some(status);
            self.inner = None;
        }
        Ok(status)
    }

    /// Sends SIGKILL to the child, without waiting for it to die.
    /// Nothing happens if its status has been collected already.
    ///
    /// # Errors
    ///
    /// The signal cannot be sent.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match self.inner.as_mut() {
            Some(inner) => inner.std.kill(),
            None => Ok(()),
        }
    }

    /// Kills the child (SIGKILL) and waits for it: Go's
    /// `cmd.Process.Kill()` then `cmd.Wait()`.
    ///
    /// # Errors
    ///
    /// As [`start_kill`](Child::start_kill) and [`wait`](Child::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// goro::block_on(async {
    ///     let mut child = goro::process::Command::new("sleep").arg("60").spawn()?;
    ///     child.kill().await?;
    ///     assert_eq!(child.wait().await?.signal(), Some(9));
    ///     goro::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Waits for the child while reading all of its piped standard output
    /// and error, like [`std::process::Child::wait_with_output`]. The pipes
    /// are read concurrently, so neither can fill up and stall the child.
    ///
    /// # Errors
    ///
    /// Reading a pipe or waiting fails.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        async fn read_all(r: Option<impl AsyncReadExt + Unpin>) -> io::Result<Vec<u8>> {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                r.read_to_end(&mut buf).await?;
            }
            Ok(buf)
        }
        self.stdin.take();
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let (stdout, stderr, status) =
            crate::try_join!(read_all(stdout), read_all(stderr), self.wait())?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        if self.kill_on_drop {
            let _ = inner.std.kill();
        }
        // Reap it when it exits, so it leaves no zombie; a task that waits
        // on the exit watch costs no thread.
        if let Ok(None) = inner.std.try_wait() {
            crate::go(async move {
                while let Ok(None) = inner.std.try_wait() {
                    if inner.watch.changed().await.is_err() {
                        break;
                    }
                }
            });
        }
    }
}
