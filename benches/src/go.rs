//! The Go programs under `benches/go/`, the reference rows of the tables.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the Go program `benches/go/<name>` into
/// `<target>/<profile>/go-bench/<name>` and returns its path, or why it
/// cannot (no `go` on `PATH`, build failure).
///
/// # Errors
/// The reason the Go row is skipped.
pub fn go_binary(name: &str) -> Result<PathBuf, String> {
    let version = Command::new("go")
        .arg("version")
        .output()
        .map_err(|e| format!("`go` not runnable ({e}); install Go to add the Go row"))?;
    if !version.status.success() {
        return Err("`go version` failed".into());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // <target>/<profile>/deps/<bench>-<hash>
    let profile_dir = exe.parent().and_then(Path::parent).ok_or("no target dir")?;
    let out_dir = profile_dir.join("go-bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("create {out_dir:?}: {e}"))?;
    let out = out_dir.join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
    let mut cmd = Command::new("go");
    cmd.args(["build", "-o"])
        .arg(&out)
        .arg(format!("./{name}"))
        .current_dir(&src)
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local");
    if std::env::var_os("GOCACHE").is_none() && std::env::var_os("HOME").is_none() {
        cmd.env("GOCACHE", out_dir.join("cache"));
    }
    let built = cmd.output().map_err(|e| format!("go build: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "go build ./{name} failed: {}",
            String::from_utf8_lossy(&built.stderr).trim()
        ));
    }
    let v = String::from_utf8_lossy(&version.stdout);
    eprintln!("built {} with {}", out.display(), v.trim());
    Ok(out)
}

/// [`go_binary`] if `"go"` is among the `selected` runtimes, else `None`;
/// when the build fails, says on stdout that the Go row is skipped, and
/// why.
pub fn go_if_selected(selected: &[&str], name: &str) -> Option<PathBuf> {
    if !selected.contains(&"go") {
        return None;
    }
    match go_binary(name) {
        Ok(p) => Some(p),
        Err(e) => {
            println!("skipping the Go row of {name}: {e}");
            None
        }
    }
}
