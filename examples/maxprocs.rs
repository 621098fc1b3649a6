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

use std::process::ExitCode;

fn main() -> ExitCode {
    match goro::procs::detect() {
        Ok(procs) => {
            println!("{procs}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
