//! Measured runs of server children under the load client.

use std::process::Command;
use std::time::Duration;

use crate::child::{ServerProc, run_child};

/// One server's measured run: its `LOAD` line plus what the parent read
/// from the server afterwards.
#[derive(Debug, Clone)]
pub struct ServerRun {
    /// The load client's `LOAD ...` line.
    pub load: String,
    /// Server threads after the run.
    pub threads: Option<u64>,
    /// Server resident memory after the run, MiB.
    pub rss_mib: Option<f64>,
}

/// Starts `server`, runs the load client child (`--child load <proto>
/// <addr> <pid> <conns> <warmup_ms> <measure_ms>`) against it, and returns
/// the client's `LOAD` line with the server's threads and RSS afterwards.
///
/// # Errors
/// What went wrong with the server or the client.
pub fn measure_server(
    server: Command,
    proto: &str,
    conns: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<ServerRun, String> {
    let mut srv = ServerProc::start(server, Duration::from_secs(20))?;
    let pid = srv.pid().to_string();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let conns_s = conns.to_string();
    let warm_s = warmup.as_millis().to_string();
    let meas_s = measure.as_millis().to_string();
    let timeout = warmup + measure + Duration::from_secs(120);
    let load = run_child(
        &exe,
        &["load", proto, &srv.addr, &pid, &conns_s, &warm_s, &meas_s],
        timeout,
        "LOAD ",
    )?;
    let threads = srv.threads();
    let rss_mib = srv.rss_mib();
    if !srv.alive() {
        return Err(format!("server died during the run; client said: {load}"));
    }
    Ok(ServerRun {
        load,
        threads,
        rss_mib,
    })
}

/// Runs `rounds` rounds of [`measure_server`] over `servers`, interleaved
/// (each round runs every server once), printing each run's line. `command`
/// gives a server's command, or `None` to skip it. Returns each server's
/// runs (servers without any left out) and whether any run failed.
pub fn measure_rounds<'a>(
    proto: &str,
    servers: &[&'a str],
    rounds: usize,
    conns: usize,
    warmup: Duration,
    measure: Duration,
    command: impl Fn(&str) -> Option<Command>,
) -> (Vec<(&'a str, Vec<ServerRun>)>, bool) {
    let mut results: Vec<(&str, Vec<ServerRun>)> = servers.iter().map(|s| (*s, vec![])).collect();
    let mut failed = false;
    for round in 0..rounds {
        for (name, runs) in &mut results {
            let Some(cmd) = command(name) else { continue };
            match measure_server(cmd, proto, conns, warmup, measure) {
                Ok(run) => {
                    println!(
                        "round {round}: {name}: {} server_threads={:?} server_rss_mib={:.1}",
                        run.load,
                        run.threads,
                        run.rss_mib.unwrap_or(f64::NAN)
                    );
                    runs.push(run);
                }
                Err(e) => {
                    eprintln!("{proto} / {name} / {conns} connections: {e}");
                    failed = true;
                }
            }
        }
    }
    results.retain(|(_, runs)| !runs.is_empty());
    (results, failed)
}
