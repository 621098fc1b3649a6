//! PostgreSQL round trips: 64 tasks run 20,000 `SELECT 1` queries through
//! 8 connections, on goro (tokio-postgres over `goro::compat`, no tokio
//! runtime) and on tokio (tokio-postgres's own `connect`, its `runtime`
//! feature, a 2-worker multi-thread runtime).
//!
//! A plain `main` (`harness = false`). The server is the one in
//! `DATABASE_URL`, or else a PostgreSQL started here as in
//! `tests/compat_postgres.rs` (`initdb` + `pg_ctl`, as the `postgres` user
//! when root, in a temp dir on a random port; stopped at the end). Each
//! round runs each client as a child process (this executable again with
//! `--child <rt> <url>`), interleaved; the child connects, warms up with
//! 2,000 queries, then measures the 20,000: wall time, and its own
//! `utime + stime` (`getrusage(RUSAGE_SELF)`) for client CPU per query.
//! Reports medians over the rounds and goro's ratios to tokio.
//!
//! Options after `--`: a runtime filter (`goro`, `tokio`), `--rounds N`
//! (default 5), `--queries N` (default 20000), `--tasks N` (default 64),
//! `--conns N` (default 8).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use goro_benches::child::self_child;
use goro_benches::cli::{flag, selected};
use goro_benches::runtimes::{BenchRt, TokioRt};
use goro_benches::vs_goro::{Measure, print_medians_vs_goro, whole};

const RUNTIMES: &[&str] = &["goro", "tokio"];
const WORKERS: usize = 2;

/// Client CPU (user + system) of this process so far, in seconds.
fn self_cpu() -> f64 {
    // SAFETY: getrusage writes a `rusage` we own; all-zero is a valid one.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF and a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

struct Shape {
    queries: usize,
    tasks: usize,
}

/// Runs `shape.queries` `SELECT 1` from `shape.tasks` tasks, task `t`
/// using connection `t % clients.len()`; returns how many ran.
async fn select1<S>(
    clients: &[Arc<tokio_postgres::Client>],
    stmts: &[tokio_postgres::Statement],
    shape: &Shape,
    spawn: S,
) -> usize
where
    S: Fn(
        std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>>,
{
    let left = Arc::new(AtomicUsize::new(shape.queries));
    let handles: Vec<_> = (0..shape.tasks)
        .map(|t| {
            let client = clients[t % clients.len()].clone();
            let stmt = stmts[t % clients.len()].clone();
            let left = left.clone();
            spawn(Box::pin(async move {
                let mut done = 0;
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let row = client.query_one(&stmt, &[]).await.expect("SELECT 1");
                    assert_eq!(row.get::<_, i32>(0), 1);
                    done += 1;
                }
                done
            }))
        })
        .collect();
    let mut total = 0;
    for h in handles {
        total += h.await;
    }
    total
}

/// One client run: connect, prepare, warm up, measure. Prints
/// `RESULT <queries> <secs> <cpu_secs>`.
fn child(rt: &str, url: &str, shape: Shape, conns: usize) {
    let config: tokio_postgres::Config = url.parse().expect("DATABASE_URL");
    let warm = Shape {
        queries: 2_000,
        tasks: shape.tasks,
    };
    let (n, secs, cpu) = match rt {
        "goro" => {
            let rt = goro::Runtime::builder()
                .maxprocs(WORKERS)
                .build()
                .expect("goro runtime");
            rt.block_on(async {
                let mut clients = Vec::new();
                let mut stmts = Vec::new();
                for _ in 0..conns {
                    let (c, conn) = goro::compat::postgres::connect(&config, tokio_postgres::NoTls)
                        .await
                        .expect("connect");
                    goro::go(async move {
                        let _ = conn.await;
                    });
                    stmts.push(c.prepare("SELECT 1").await.expect("prepare"));
                    clients.push(Arc::new(c));
                }
                let spawn =
                    |f| -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>> {
                        let h = goro::go(f);
                        Box::pin(async move { h.await.expect("task") })
                    };
                select1(&clients, &stmts, &warm, spawn).await;
                let (t0, c0) = (Instant::now(), self_cpu());
                let n = select1(&clients, &stmts, &shape, spawn).await;
                (n, t0.elapsed().as_secs_f64(), self_cpu() - c0)
            })
        }
        "tokio" => {
            let rt = TokioRt::with_io();
            rt.block_on(async {
                let mut clients = Vec::new();
                let mut stmts = Vec::new();
                for _ in 0..conns {
                    let (c, conn) = config
                        .connect(tokio_postgres::NoTls)
                        .await
                        .expect("connect");
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    stmts.push(c.prepare("SELECT 1").await.expect("prepare"));
                    clients.push(Arc::new(c));
                }
                let spawn =
                    |f| -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>> {
                        let h = tokio::spawn(f);
                        Box::pin(async move { h.await.expect("task") })
                    };
                select1(&clients, &stmts, &warm, spawn).await;
                let (t0, c0) = (Instant::now(), self_cpu());
                let n = select1(&clients, &stmts, &shape, spawn).await;
                (n, t0.elapsed().as_secs_f64(), self_cpu() - c0)
            })
        }
        other => panic!("unknown runtime {other}"),
    };
    println!("RESULT {n} {secs} {cpu}");
}

// ------------------------------------------------------------ the server

/// A throwaway PostgreSQL cluster; stopped and removed on drop.
struct Server {
    bindir: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
    port: u16,
}

impl Server {
    fn start() -> Result<Server, String> {
        let bindir = [
            "/usr/lib/postgresql/17/bin",
            "/usr/lib/postgresql/16/bin",
            "/usr/lib/postgresql/15/bin",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|d| d.join("initdb").is_file())
        .ok_or(
            "no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql), and no DATABASE_URL",
        )?;
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let dir = std::env::temp_dir().join(format!("goro-bench-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let s = Server {
            bindir,
            dir,
            as_postgres,
            port,
        };
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&s.dir)
                .status()
                .map_err(|e| e.to_string())?;
            if !ok.success() {
                return Err("chown postgres failed".into());
            }
        }
        s.run(
            "initdb",
            &[
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-D",
                &s.data(),
            ],
        )?;
        let opts = format!(
            "-p {} -h 127.0.0.1 -k {} -c fsync=off",
            s.port,
            s.dir.display()
        );
        let log = s.dir.join("log").display().to_string();
        s.run(
            "pg_ctl",
            &[
                "-D",
                &s.data(),
                "-o",
                &opts,
                "-l",
                &log,
                "-w",
                "-t",
                "120",
                "start",
            ],
        )?;
        Ok(s)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bindir.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ------------------------------------------------------------ the parent

struct Run {
    qps: f64,
    cpu_us: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let queries: usize = flag(&args, "--queries", 20_000);
    let tasks: usize = flag(&args, "--tasks", 64);
    let conns: usize = flag(&args, "--conns", 8);
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let rt = args.get(i + 1).expect("--child <rt> <url>");
        let url = args.get(i + 2).expect("--child <rt> <url>");
        child(rt, url, Shape { queries, tasks }, conns);
        return;
    }
    let rounds: usize = flag(&args, "--rounds", 5);
    let runtimes = selected(&args, RUNTIMES);
    let mut server = None;
    let url = match std::env::var("DATABASE_URL") {
        Ok(u) => u,
        Err(_) => match Server::start() {
            Ok(s) => {
                let u = s.url();
                server = Some(s);
                u
            }
            Err(e) => {
                eprintln!("postgres_select1: cannot start PostgreSQL: {e}");
                std::process::exit(1);
            }
        },
    };
    let mut results: Vec<(&str, Vec<Run>)> = runtimes.iter().map(|r| (*r, Vec::new())).collect();
    for round in 0..rounds {
        for (name, runs) in &mut results {
            let out = self_child(&[name, &url])
                .args([
                    "--queries",
                    &queries.to_string(),
                    "--tasks",
                    &tasks.to_string(),
                    "--conns",
                    &conns.to_string(),
                ])
                .stderr(Stdio::inherit())
                .output()
                .expect("running the client child");
            let text = String::from_utf8_lossy(&out.stdout);
            let Some(line) = text.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
                eprintln!("{name}: child failed ({}): {text}", out.status);
                std::process::exit(1);
            };
            let f: Vec<f64> = line
                .split_whitespace()
                .map(|x| x.parse().expect("number"))
                .collect();
            assert_eq!(f[0] as usize, queries, "{name} ran {} queries", f[0]);
            let run = Run {
                qps: f[0] / f[1],
                cpu_us: f[2] * 1e6 / f[0],
            };
            println!(
                "round {round}: {name}: {:.0} queries/s, client CPU {:.1} us/query",
                run.qps, run.cpu_us
            );
            runs.push(run);
        }
    }
    drop(server);
    print_medians_vs_goro(
        &format!(
            "PostgreSQL SELECT 1: {tasks} tasks, {queries} queries, {conns} connections, {WORKERS} workers, {rounds} rounds (medians)"
        ),
        "runtime",
        &[
            Measure::with_ratio("queries/s", |r: &Run| r.qps, whole),
            Measure::with_ratio(
                "client CPU per query",
                |r: &Run| r.cpu_us,
                |v| format!("{v:.1} us"),
            ),
        ],
        &results,
    );
}
