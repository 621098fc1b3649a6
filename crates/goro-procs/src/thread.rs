//! What the OS says a thread is doing: its CPU time, and whether it sleeps
//! in the kernel. goro's executor uses it to tell a worker thread *blocked*
//! in one poll (retake its P) from one that is merely *waiting for a CPU*
//! (leave it: on a saturated machine another thread would not run sooner,
//! and the hand-off only adds threads); its blocking pool, to grow only for
//! jobs that really block. It lives here, beside the other `/proc` readers,
//! so both crates use one copy.
//!
//! | platform | CPU time | asleep in the kernel? |
//! |----------|----------|-----------------------|
//! | Linux    | the thread's CPU clock | `/proc/self/task/<tid>/stat` |
//! | FreeBSD  | the thread's CPU clock | `sysctl kern.proc.pid` with threads: `ki_stat` |
//! | macOS, iOS | `thread_info(THREAD_BASIC_INFO)` | its `run_state` |
//! | elsewhere | unknown | unknown |
//!
//! Both are needed: a thread that got little CPU is either asleep in a
//! syscall or waiting for a CPU, and only the state tells which (so a CPU
//! clock alone, as Windows' `GetThreadTimes`, would change nothing). Where it
//! is unknown (Windows) callers fall back to their wall-clock rules.

pub use imp::ThreadRef;

#[cfg(any(target_os = "linux", target_os = "freebsd"))]
mod imp {
    use std::time::Duration;

    /// A handle to one thread of this process, to read its CPU time and
    /// whether it sleeps in the kernel; `Copy`, and packs into a `u64` for
    /// an atomic.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = goro::procs::ThreadRef::current();
    /// assert_eq!(goro::procs::ThreadRef::from_bits(me.to_bits()), me);
    /// // A running thread is not asleep in the kernel (or its state is unknown).
    /// assert_ne!(me.is_blocked(), Some(true));
    /// ```
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct ThreadRef {
        tid: i32,
        clock: Option<libc::clockid_t>,
    }

    impl ThreadRef {
        /// The calling thread.
        pub fn current() -> ThreadRef {
            // SAFETY: gettid has no preconditions.
            #[cfg(target_os = "linux")]
            let tid = unsafe { libc::gettid() };
            // SAFETY: pthread_getthreadid_np has no preconditions; it is
            // the kernel's thread id (lwpid).
            #[cfg(target_os = "freebsd")]
            let tid = unsafe { libc::pthread_getthreadid_np() };
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
        pub fn to_bits(self) -> u64 {
            let clock = self.clock.map_or(u32::MAX, |c| c as u32);
            (u64::from(self.tid as u32) << 32) | u64::from(clock)
        }

        /// Unpacks what [`ThreadRef::to_bits`] packed.
        pub fn from_bits(bits: u64) -> ThreadRef {
            let clock = bits as u32;
            ThreadRef {
                tid: (bits >> 32) as u32 as i32,
                clock: (clock != u32::MAX).then_some(clock as libc::clockid_t),
            }
        }

        /// CPU time the thread has used, if readable.
        ///
        /// A thread's CPU clock is only valid while the thread lives; a
        /// clock of a thread that has exited reads as an error (`None`), not
        /// garbage.
        pub fn cpu_time(self) -> Option<Duration> {
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
        #[cfg(target_os = "linux")]
        pub fn is_blocked(self) -> Option<bool> {
            let stat =
                std::fs::read_to_string(format!("/proc/self/task/{}/stat", self.tid)).ok()?;
            // The state follows the command name, which is in parentheses and
            // may itself contain spaces or parentheses.
            let state = stat[stat.rfind(')')? + 1..].trim_start().chars().next()?;
            Some(matches!(state, 'S' | 'D'))
        }

        /// Whether the thread sleeps in the kernel (`SSLEEP`, or `SLOCK`:
        /// blocked on a kernel lock) rather than running or runnable
        /// (`SRUN`), from the process's per-thread `kinfo_proc` records.
        /// `None` if unknown.
        #[cfg(target_os = "freebsd")]
        pub fn is_blocked(self) -> Option<bool> {
            let record = std::mem::size_of::<libc::kinfo_proc>();
            // SAFETY: getpid has no preconditions.
            let pid = unsafe { libc::getpid() };
            let mib = [
                libc::CTL_KERN,
                libc::KERN_PROC,
                libc::KERN_PROC_PID | libc::KERN_PROC_INC_THREAD,
                pid,
            ];
            let mut len = 0;
            // SAFETY: a null buffer asks for the size only, written to `len`.
            let rc = unsafe {
                libc::sysctl(
                    mib.as_ptr(),
                    4,
                    std::ptr::null_mut(),
                    &mut len,
                    std::ptr::null(),
                    0,
                )
            };
            if rc != 0 {
                return None;
            }
            // Room for a few threads started since.
            len += 8 * record;
            // SAFETY: all-zero is a valid `kinfo_proc` (integers, arrays and
            // pointers only read back as numbers).
            let mut buf: Vec<libc::kinfo_proc> = vec![unsafe { std::mem::zeroed() }; len / record];
            len = buf.len() * record;
            // SAFETY: `buf` is a writable buffer of `len` bytes; the kernel
            // writes at most that and sets `len` to what it wrote.
            let rc = unsafe {
                libc::sysctl(
                    mib.as_ptr(),
                    4,
                    buf.as_mut_ptr().cast(),
                    &mut len,
                    std::ptr::null(),
                    0,
                )
            };
            // A kernel whose `kinfo_proc` differs from libc's writes
            // records of another size: then the layout is not trusted.
            if rc != 0 || len % record != 0 || buf.first()?.ki_structsize as usize != record {
                return None;
            }
            let thread = buf[..len / record].iter().find(|k| k.ki_tid == self.tid)?;
            Some(matches!(thread.ki_stat, libc::SSLEEP | libc::SLOCK))
        }
    }
}

#[cfg(target_vendor = "apple")]
mod imp {
    use std::time::Duration;

    /// A handle to one thread of this process (its Mach thread port, 0:
    /// none), to read its CPU time and whether it sleeps in the kernel.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = goro::procs::ThreadRef::current();
    /// assert_eq!(goro::procs::ThreadRef::from_bits(me.to_bits()), me);
    /// assert_ne!(me.is_blocked(), Some(true));
    /// ```
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct ThreadRef {
        port: libc::mach_port_t,
    }

    impl ThreadRef {
        /// The calling thread.
        pub fn current() -> ThreadRef {
            // SAFETY: `pthread_self()` is the calling thread, alive for the
            // duration of the call; the port name is not a new reference, so
            // nothing needs releasing.
            let port = unsafe { libc::pthread_mach_thread_np(libc::pthread_self()) };
            ThreadRef { port }
        }

        /// Packs into a word for an atomic.
        pub fn to_bits(self) -> u64 {
            u64::from(self.port)
        }

        /// Unpacks what [`ThreadRef::to_bits`] packed.
        pub fn from_bits(bits: u64) -> ThreadRef {
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
        pub fn cpu_time(self) -> Option<Duration> {
            let info = self.info()?;
            let t = |v: libc::time_value_t| {
                Duration::new(v.seconds as u64, v.microseconds as u32 * 1000)
            };
            Some(t(info.user_time) + t(info.system_time))
        }

        /// Whether the thread sleeps in the kernel (`TH_STATE_WAITING`,
        /// `TH_STATE_UNINTERRUPTIBLE`) rather than running or runnable
        /// (`TH_STATE_RUNNING` covers both). `None` if unknown.
        pub fn is_blocked(self) -> Option<bool> {
            let state = self.info()?.run_state;
            Some(matches!(
                state,
                libc::TH_STATE_WAITING | libc::TH_STATE_UNINTERRUPTIBLE
            ))
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_vendor = "apple")))]
mod imp {
    use std::time::Duration;

    /// A handle to one thread of this process; nothing is known about
    /// threads on this platform, so every reading is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = goro::procs::ThreadRef::current();
    /// assert_eq!(goro::procs::ThreadRef::from_bits(me.to_bits()), me);
    /// assert_ne!(me.is_blocked(), Some(true));
    /// ```
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct ThreadRef;

    impl ThreadRef {
        /// The calling thread.
        pub fn current() -> ThreadRef {
            ThreadRef
        }

        /// Packs into a word for an atomic.
        pub fn to_bits(self) -> u64 {
            0
        }

        /// Unpacks what [`ThreadRef::to_bits`] packed.
        pub fn from_bits(_bits: u64) -> ThreadRef {
            ThreadRef
        }

        /// Unknown.
        pub fn cpu_time(self) -> Option<Duration> {
            None
        }

        /// Unknown.
        pub fn is_blocked(self) -> Option<bool> {
            None
        }
    }
}

#[cfg(all(
    test,
    not(loom),
    any(target_os = "linux", target_os = "freebsd", target_vendor = "apple")
))]
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
