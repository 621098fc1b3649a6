//! GORO_MAXPROCS through the real process environment. Each case runs this
//! test binary again as a child process with the variable set, so no test
//! changes the environment of the test process itself.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// Set in the child, so the helper below knows it is one.
const CHILD: &str = "GORO_PROCS_ENV_CHILD";

/// Marks the child's result in its output, which also holds libtest's.
const RESULT: &str = "child result: ";

/// Runs in the child: prints `detect()`'s answer as `OK ...` or `ERR ...`
/// after [`RESULT`] and, on error, exits with status 2 like
/// `examples/maxprocs.rs`.
#[test]
#[ignore = "helper: run in a child process by the other tests in this file"]
fn child_detect() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    match goro_procs::detect() {
        Ok(procs) => println!("\n{RESULT}OK {procs}"),
        Err(e) => {
            println!("\n{RESULT}ERR {e}");
            std::process::exit(2);
        }
    }
}

/// The child's exit code and its `OK`/`ERR` line.
fn run_child(value: Option<&OsStr>) -> (Option<i32>, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_detect",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "1");
    match value {
        Some(value) => cmd.env(goro_procs::ENV_VAR, value),
        None => cmd.env_remove(goro_procs::ENV_VAR),
    };
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT))
        .unwrap_or_else(|| panic!("no result line from the child: {stdout}"))
        .to_owned();
    (out.status.code(), line)
}

#[test]
fn valid_value_is_used() {
    assert_eq!(
        run_child(Some(OsStr::new("4"))),
        (Some(0), "OK maxprocs=4 (GORO_MAXPROCS=4)".to_owned())
    );
    assert_eq!(
        run_child(Some(OsStr::new("65536"))),
        (
            Some(0),
            "OK maxprocs=65536 (GORO_MAXPROCS=65536)".to_owned()
        )
    );
}

#[test]
fn invalid_values_are_errors() {
    for value in [
        "",
        "0",
        "-1",
        "abc",
        " 4",
        "4 ",
        "1.5",
        "65537",
        "99999999999999999999999",
    ] {
        let (code, line) = run_child(Some(OsStr::new(value)));
        assert_eq!(code, Some(2), "{value:?}: {line}");
        assert_eq!(
            line,
            format!(
                "ERR GORO_MAXPROCS={value:?} is not valid: expected a whole number from 1 to 65536"
            )
        );
    }
}

#[test]
fn non_unicode_value_is_an_error() {
    use std::os::unix::ffi::OsStrExt;
    let (code, line) = run_child(Some(OsStr::from_bytes(b"4\xff")));
    assert_eq!(code, Some(2));
    assert_eq!(
        line,
        "ERR GORO_MAXPROCS=\"4\u{fffd}\" is not valid: expected a whole number from 1 to 65536"
    );
}

#[test]
fn unset_means_automatic_from_the_real_root() {
    // The child is in the same cgroup with the same affinity as this process.
    let expected = goro_procs::detect_with(Path::new("/"), None).unwrap();
    assert_eq!(run_child(None), (Some(0), format!("OK {expected}")));
}
