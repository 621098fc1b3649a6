//! Readers of `/proc` (Linux): CPU time of a process and of the machine,
//! `/proc/<pid>/status` fields, this process's threads and resident memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

pub use goro_testkit::threads::process_threads;

/// Clock ticks per second of `/proc/<pid>/stat` times (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions; _SC_CLK_TCK is always supported.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// CPU time (`utime + stime`, all threads) of process `pid` in seconds, from
/// `/proc/<pid>/stat`; `None` if the process is gone.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields from the last ')'. utime and stime are fields 14 and 15,
    // so the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_sec())
}

/// Busy CPU time of the whole machine in seconds (all CPUs, everything but
/// idle and iowait), from the first line of `/proc/stat`.
pub fn machine_busy_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4)?;
    Some((total - idle) as f64 / clock_ticks_per_sec())
}

/// A `Key:` line's first number from `/proc/<pid>/status` (e.g. `Threads`,
/// `VmRSS` in KiB).
pub fn status_field(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Resident set size of this process in bytes, from `/proc/self/statm`.
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("parse /proc/self/statm");
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always supported.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).unwrap_or(4096)
}

/// A thread that samples [`process_threads`] every millisecond and keeps
/// the maximum, until [`ThreadSampler::stop`]. Its own thread is counted.
#[derive(Debug)]
pub struct ThreadSampler {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<usize>,
}

impl ThreadSampler {
    /// Starts sampling.
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("thread-sampler".into())
            .spawn(move || {
                let mut peak = process_threads();
                while !flag.load(Ordering::Relaxed) {
                    peak = peak.max(process_threads());
                    thread::sleep(Duration::from_millis(1));
                }
                peak.max(process_threads())
            })
            .expect("spawn sampler thread");
        Self { stop, thread }
    }

    /// Stops sampling and returns the highest thread count seen.
    pub fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("sampler thread panicked")
    }
}

/// This process's CPU seconds over a window and the rest of the machine's,
/// from [`cpu_secs`] and [`machine_busy_secs`] read at its start and end
/// (NaN where a reading is missing).
pub fn own_and_other_cpu(
    own: (Option<f64>, Option<f64>),
    machine: (Option<f64>, Option<f64>),
) -> (f64, f64) {
    let own_cpu = match own {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    let other_cpu = match machine {
        (Some(a), Some(b)) => (b - a - own_cpu).max(0.0),
        _ => f64::NAN,
    };
    (own_cpu, other_cpu)
}
