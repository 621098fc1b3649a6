//! What the OS says a worker thread is doing, so the monitor can tell a
//! thread *blocked* in one poll (retake its P) from one that is merely
//! *waiting for a CPU* (leave it: on a saturated machine another thread
//! would not run sooner, and the hand-off only adds threads).
//!
//! | platform | CPU time | asleep in the kernel? |
//! |----------|----------|-----------------------|
//! | Linux    | the thread's CPU clock | `/proc/self/task/<tid>/stat` |
//! | macOS, iOS | `thread_info(THREAD_BASIC_INFO)` | its `run_state` |
//! | elsewhere | unknown | unknown |
//!
//! Both are needed: a thread that got little CPU is either asleep in a
//! syscall or waiting for a CPU, and only the state tells which. Where it is
//! unknown (FreeBSD, Windows) every long poll counts as blocked: the
//! wall-clock rule.

pub(crate) use imp::ThreadRef;

#[cfg(target_os = "linux")]
mod imp {
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
            let stat =
                std::fs::read_to_string(format!("/proc/self/task/{}/stat", self.tid)).ok()?;
            // The state follows the command name, which is in parentheses and
            // may itself contain spaces or parentheses.
            let state = stat[stat.rfind(')')? + 1..].trim_start().chars().next()?;
            Some(matches!(state, 'S' | 'D'))
        }
    }
}

#[cfg(target_vendor = "apple")]
mod imp {
    use std::time::Duration;

    /// How the monitor finds one thread's CPU time and scheduling state: its
    /// Mach thread port (0: none).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(crate) struct ThreadRef {
        port: libc::mach_port_t,
    }

    impl ThreadRef {
        /// The calling thread.
        pub(crate) fn current() -> ThreadRef {
            // SAFETY: `pthread_self()` is the calling thread, alive for the
            // duration of the call; the port name is not a new reference, so
            // nothing needs releasing.
            let port = unsafe { libc::pthread_mach_thread_np(libc::pthread_self()) };
            ThreadRef { port }
        }

        /// Packs into a word for an atomic.
        pub(crate) fn to_bits(self) -> u64 {
            u64::from(self.port)
        }

        pub(crate) fn from_bits(bits: u64) -> ThreadRef {
            ThreadRef {
                port: bits as libc::mach_port_t,
            }
        }

        /// The thread's basic info; `None` once the thread has exited (the
        /// port is then invalid and the call fails).
        fn info(self) -> Option<libc::thread_basic_info> {
            if self.port == 0 {
                return None;
            }
            // SAFETY: all-zero is a valid `thread_basic_info` (plain integers).
            let mut info: libc::thread_basic_info = unsafe { std::mem::zeroed() };
            let mut count = libc::THREAD_BASIC_INFO_COUNT;
            // SAFETY: `info` is a valid out-buffer of `count` integers, the
            // size THREAD_BASIC_INFO writes; a stale port makes the call
            // fail, which we handle.
            let rc = unsafe {
                libc::thread_info(
                    self.port,
                    libc::THREAD_BASIC_INFO as libc::thread_flavor_t,
                    (&raw mut info).cast(),
                    &mut count,
                )
            };
            (rc == libc::KERN_SUCCESS).then_some(info)
        }

        /// CPU time the thread has used (user + system), if readable.
        pub(crate) fn cpu_time(self) -> Option<Duration> {
            let info = self.info()?;
            let t = |v: libc::time_value_t| {
                Duration::new(v.seconds as u64, v.microseconds as u32 * 1000)
            };
            Some(t(info.user_time) + t(info.system_time))
        }

        /// Whether the thread sleeps in the kernel (`TH_STATE_WAITING`,
        /// `TH_STATE_UNINTERRUPTIBLE`) rather than running or runnable
        /// (`TH_STATE_RUNNING` covers both). `None` if unknown.
        pub(crate) fn is_blocked(self) -> Option<bool> {
            let state = self.info()?.run_state;
            Some(matches!(
                state,
                libc::TH_STATE_WAITING | libc::TH_STATE_UNINTERRUPTIBLE
            ))
        }
    }
}

#[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
mod imp {
    use std::time::Duration;

    /// Nothing is known about threads here: the monitor falls back to the
    /// wall-clock rule.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(crate) struct ThreadRef;

    impl ThreadRef {
        /// The calling thread.
        pub(crate) fn current() -> ThreadRef {
            ThreadRef
        }

        /// Packs into a word for an atomic.
        pub(crate) fn to_bits(self) -> u64 {
            0
        }

        pub(crate) fn from_bits(_bits: u64) -> ThreadRef {
            ThreadRef
        }

        /// Unknown.
        pub(crate) fn cpu_time(self) -> Option<Duration> {
            None
        }

        /// Unknown.
        pub(crate) fn is_blocked(self) -> Option<bool> {
            None
        }
    }
}

#[cfg(all(test, not(loom), any(target_os = "linux", target_vendor = "apple")))]
mod tests {
    use std::time::Duration;

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
