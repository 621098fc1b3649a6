//! A PostgreSQL server of the test's own: Debian's `postgresql` (`initdb`
//! and `pg_ctl`), run as the `postgres` user when the test runs as root,
//! because PostgreSQL refuses to run as root.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::dir::{TempDir, free_port};
use crate::skip_service;

/// A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 at
/// a random port and on a Unix socket in the same directory, with `trust`
/// authentication for the superuser `postgres`. Stopped (immediately) and
/// deleted when dropped, so nothing is left running.
///
/// ```no_run
/// let Some(pg) = goro_testkit::services::postgres::Postgres::start() else { return };
/// assert!(pg.url().starts_with("postgresql://postgres@127.0.0.1:"));
/// ```
#[derive(Debug)]
pub struct Postgres {
    bindir: PathBuf,
    dir: TempDir,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    /// Starts a server, or says loudly why it cannot and returns `None`
    /// (a failure under `GORO_REQUIRE_SERVICES=1` or `GORO_TEST_STRICT=1`).
    /// The skip names the caller's file and line.
    #[track_caller]
    pub fn start() -> Option<Postgres> {
        let Some(bindir) = pg_bindir() else {
            skip_service(
                "PostgreSQL's initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)",
            );
            return None;
        };
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let dir = TempDir::new("pg");
        if as_postgres {
            // PostgreSQL refuses to run as root: the cluster belongs to the
            // `postgres` user.
            let Some((uid, gid)) = user_ids("postgres") else {
                skip_service(
                    "running as root and there is no `postgres` user to run PostgreSQL as",
                );
                return None;
            };
            let c = std::ffi::CString::new(dir.0.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path; chown has no other
            // preconditions.
            let rc = unsafe { libc::chown(c.as_ptr(), uid, gid) };
            assert_eq!(rc, 0, "chown {}", dir.0.display());
        }
        let mut pg = Postgres {
            bindir,
            dir,
            port: free_port(),
            as_postgres,
        };
        let out = pg
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(pg.data())
            .output();
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let how = if pg.as_postgres { " with runuser" } else { "" };
                skip_service(&format!(
                    "cannot run {}{how}: {e}",
                    pg.bindir.join("initdb").display()
                ));
                return None;
            }
        };
        if !out.status.success() {
            skip_service(&format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            return None;
        }
        if let Err(e) = pg.restart() {
            skip_service(&format!("pg_ctl start failed: {e}"));
            return None;
        }
        Some(pg)
    }

    /// The host it listens on: `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Its TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser to connect as (no password): `postgres`.
    pub fn user(&self) -> &'static str {
        "postgres"
    }

    /// The database that always exists: `postgres`.
    pub fn dbname(&self) -> &'static str {
        "postgres"
    }

    /// A connection URL: `postgresql://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!(
            "postgresql://{}@{}:{}/{}",
            self.user(),
            self.host(),
            self.port,
            self.dbname()
        )
    }

    /// The directory of its Unix socket (`.s.PGSQL.PORT`).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    fn data(&self) -> PathBuf {
        self.dir.0.join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bindir.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.stdin(Stdio::null()).current_dir(&self.dir.0);
        cmd
    }

    /// Starts the server (again, after [`stop`](Self::stop)) on the same
    /// port and waits until it accepts connections. The error has
    /// `pg_ctl`'s output and the server log.
    pub fn restart(&mut self) -> Result<(), String> {
        let opts = format!(
            "-p {} -h 127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.0.display()
        );
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-o", &opts, "-l"])
            .arg(self.dir.0.join("log"))
            .args(["-w", "-t", "120", "start"])
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let log = std::fs::read_to_string(self.dir.0.join("log")).unwrap_or_default();
            Err(format!(
                "{}\n{}\nserver log:\n{log}",
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Stops the server in `mode` (`smart`, `fast`: sessions are
    /// terminated, `immediate`) and waits until it is gone.
    ///
    /// # Panics
    /// If `pg_ctl stop` fails.
    pub fn stop(&self, mode: &str) {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", mode, "-w", "-t", "120", "stop"])
            .output()
            .expect("running pg_ctl stop");
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "-t", "60", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Where Debian keeps the server binaries: `initdb` on `PATH`, or the
/// newest `/usr/lib/postgresql/*/bin`.
fn pg_bindir() -> Option<PathBuf> {
    if let Some(initdb) = crate::tools::tool("initdb") {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        return real.parent().map(Path::to_path_buf);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

/// The uid and gid of `user`, from `/etc/passwd`.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<_> = l.split(':').collect();
        (f.first() == Some(&user) && f.len() > 3)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
            .flatten()
    })
}
