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
