//! What the OS says a worker thread is doing, so the monitor can tell a
//! thread *blocked* in one poll (retake its P) from one that is merely
//! *waiting for a CPU* (leave it: on a saturated machine another thread
//! would not run sooner, and the hand-off only adds threads).
//!
//! Linux only: per-thread CPU clocks and `/proc/self/task/<tid>/stat`.
//! Elsewhere every long poll counts as blocked.

use std::time::Duration;

/// How the monitor finds one thread's CPU time and scheduling state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ThreadRef {
    tid: i32,
    clock: Option<libc::clockid_t>,
}

impl ThreadRef {
    /// The calling thread.
    pub(crate) fn current() -> ThreadRef {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let mut clock: libc::clockid_t = 0;
        // SAFETY: `clock` is a valid out-pointer; `pthread_self()` is the
        // calling thread, alive for the duration of the call.
        let ok = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) } == 0;
        ThreadRef {
            tid,
            clock: ok.then_some(clock),
        }
    }

    /// Packs into a word for an atomic.
    pub(crate) fn to_bits(self) -> u64 {
        let clock = self.clock.map_or(u32::MAX, |c| c as u32);
        (u64::from(self.tid as u32) << 32) | u64::from(clock)
    }

    pub(crate) fn from_bits(bits: u64) -> ThreadRef {
        let clock = bits as u32;
        ThreadRef {
            tid: (bits >> 32) as u32 as i32,
            clock: (clock != u32::MAX).then_some(clock as libc::clockid_t),
        }
    }

    /// CPU time the thread has used, if readable.
    ///
    /// A thread's CPU clock is only valid while the thread lives; the
    /// monitor reads it for a thread it just saw inside a poll, and a
    /// clock of a thread that has exited reads as an error, not garbage.
    pub(crate) fn cpu_time(self) -> Option<Duration> {
        let clock = self.clock?;
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out-pointer; an invalid clock id makes
        // the call fail with EINVAL, which we handle.
        if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
            return None;
        }
        Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }

    /// Whether the thread sleeps in the kernel (`S`, `D`: blocked in a
    /// syscall) rather than being runnable (`R`). `None` if unknown.
    pub(crate) fn is_blocked(self) -> Option<bool> {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{}/stat", self.tid)).ok()?;
        // The state follows the command name, which is in parentheses and
        // may itself contain spaces or parentheses.
        let state = stat[stat.rfind(')')? + 1..].trim_start().chars().next()?;
        Some(matches!(state, 'S' | 'D'))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_this_thread() {
        let t = ThreadRef::current();
        assert_eq!(ThreadRef::from_bits(t.to_bits()), t);
        let before = t.cpu_time().unwrap();
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(20) {
            std::hint::spin_loop();
        }
        assert!(t.cpu_time().unwrap() > before);
        assert_eq!(t.is_blocked(), Some(false), "a running thread is R");
    }

    #[test]
    fn a_sleeping_thread_is_blocked() {
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            tx.send(ThreadRef::current()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
        });
        let t = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(t.is_blocked(), Some(true));
        h.join().unwrap();
    }
}
