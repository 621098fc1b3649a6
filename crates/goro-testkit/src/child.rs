//! This test binary run again as a child process, to run one of its own
//! `#[ignore]`d helper tests in a fresh process (with other environment
//! variables, limits or signal dispositions).

use std::process::Command;

/// A command that runs only the `#[ignore]`d test `name` of this test
/// binary, uncaptured and on one thread: `<this exe> --exact NAME --ignored
/// --nocapture --test-threads=1`. Add the environment and run it.
pub fn ignored_test(name: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary's path"));
    cmd.args([
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd
}

/// The child side of [`ignored_test`]: runs `role` with the value of the
/// environment variable `var`, which the parent sets to pick what the child
/// does; does nothing when it is unset (the `#[ignore]`d test run by hand
/// or by `--include-ignored`).
///
/// # Panics
/// If `var` is set but not Unicode, or as `role` does.
pub fn run_role(var: &str, role: impl FnOnce(&str)) {
    match std::env::var(var) {
        Ok(mode) => role(&mode),
        Err(std::env::VarError::NotPresent) => {}
        Err(e) => panic!("{var}: {e}"),
    }
}

/// What a finished child process did: its exit status and its output as
/// text.
#[derive(Debug)]
pub struct Output {
    /// How it exited.
    pub status: std::process::ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs `cmd` to completion with its output captured.
///
/// # Panics
/// If the command cannot be started.
#[track_caller]
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Output {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
