//! Third-party programs the tests drive: finding them on `PATH`, running
//! them, and the Python that has the `websockets` library.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::skip::skip;

/// The path of `tool` if it is a file in a `PATH` directory.
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

/// The workspace's root directory (where `.venv-ws` and `target` live).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/goro-testkit is two levels below the workspace root")
        .to_owned()
}

/// The Python that has the `websockets` library (`.venv-ws` in the
/// workspace, made by `.ci/venv-ws`, or `GORO_PYTHON`), with its version,
/// or why there is none.
pub fn python_with_websockets() -> Result<(PathBuf, String), String> {
    let python = match std::env::var_os("GORO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join(".venv-ws/bin/python"),
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
