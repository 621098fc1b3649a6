//! Prints how many worker threads goro would run here, and why, as one line:
//!
//! ```text
//! $ cargo run --example maxprocs
//! maxprocs=2 (cgroup v2 /sys/fs/cgroup/app: quota 150000us / period 100000us, affinity: 8 CPUs)
//! $ GORO_MAXPROCS=4 cargo run --example maxprocs
//! maxprocs=4 (GORO_MAXPROCS=4)
//! $ GORO_MAXPROCS=lots cargo run --example maxprocs
//! GORO_MAXPROCS="lots" is not valid: expected a whole number from 1 to 65536
//! ```
//!
//! An invalid `GORO_MAXPROCS` is reported on stderr with exit status 2.
//!
//! With `--watch`, it then starts the runtime and prints a line whenever the
//! worker count changes, for as long as it runs: change the container's CPU
//! limit (`docker update --cpus 3 <id>`, or write the cgroup's `cpu.max`) or
//! the affinity (`taskset -a -p 1 <pid>`) and the runtime follows within a
//! second, unless `GORO_MAXPROCS` was set.
//!
//! ```text
//! $ cargo run --example maxprocs -- --watch
//! maxprocs=2 (affinity: 2 CPUs, no cgroup CPU limit)
//! runtime: 2 workers (automatic: true)
//! runtime: 1 workers (automatic: true)      <- after `taskset -a -p 1 <pid>`
//! ```

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    match goro::procs::detect() {
        Ok(procs) => println!("{procs}"),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    }
    if std::env::args().any(|a| a == "--watch") {
        goro::block_on(watch());
    }
    ExitCode::SUCCESS
}

/// Prints the runtime's worker count whenever it changes.
async fn watch() {
    let automatic = goro::Handle::current().maxprocs_is_automatic();
    let mut last = 0;
    loop {
        let n = goro::maxprocs();
        if n != last {
            println!("runtime: {n} workers (automatic: {automatic})");
            last = n;
        }
        goro::time::sleep(Duration::from_millis(200)).await;
    }
}
