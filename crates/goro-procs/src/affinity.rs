//! How many CPUs the process may run on: the scheduler affinity mask.

use std::io;

/// The number of CPUs in the calling thread's affinity mask
/// (`sched_getaffinity(2)` on Linux, `cpuset_getaffinity(2)` on FreeBSD; the
/// process's `GetProcessAffinityMask` on Windows), i.e. the CPUs it may be
/// scheduled on. This is what `taskset`, `cpuset(1)`, `start /affinity` and
/// cpusets restrict; cgroup CPU quotas are separate.
///
/// Threads inherit the mask of the thread that created them, so a monitor
/// thread sees the process's mask unless someone pinned it. Masks larger than
/// the C library's fixed-size set are handled.
///
/// # Errors
///
/// The OS error if the mask cannot be read; `Unsupported` on systems without
/// one (macOS), and on Windows for a process spread over several processor
/// groups (more than 64 CPUs).
///
/// # Examples
///
/// ```
/// let cpus = goro::procs::available_cpus().unwrap();
/// assert!(cpus >= 1);
/// ```
pub fn available_cpus() -> io::Result<usize> {
    imp::available_cpus()
}

/// The CPU count that caps maxprocs, and why it is not the affinity count
/// when reading the mask failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CpuCount {
    pub(crate) cpus: usize,
    pub(crate) problem: Option<String>,
}

impl CpuCount {
    /// The affinity count, or `num_cpus::get()` with the reason when it fails.
    pub(crate) fn detect() -> CpuCount {
        match available_cpus() {
            Ok(cpus) => CpuCount {
                cpus,
                problem: None,
            },
            Err(e) => {
                let cpus = num_cpus::get().max(1);
                CpuCount {
                    cpus,
                    problem: Some(format!(
                        "cannot read the CPU affinity mask ({e}); using num_cpus: {cpus}"
                    )),
                }
            }
        }
    }

    /// A count given by the caller, taken as the affinity count.
    pub(crate) fn given(cpus: usize) -> CpuCount {
        CpuCount {
            cpus: cpus.max(1),
            problem: None,
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::mem::size_of;

    /// The largest mask tried: 8 KiB, i.e. 65536 CPUs (the kernel allows 8192).
    const MAX_MASK_BYTES: usize = 8 * 1024;

    pub(super) fn available_cpus() -> io::Result<usize> {
        // Start with glibc's fixed-size set; the kernel answers EINVAL when its
        // mask is larger than the buffer, so grow until it fits.
        let mut bytes = size_of::<libc::cpu_set_t>();
        loop {
            let mut mask = vec![0u64; bytes.div_ceil(size_of::<u64>())];
            let len = mask.len() * size_of::<u64>();
            // SAFETY: `mask` is a live, zeroed allocation of exactly `len`
            // bytes that nothing else references during the call, and `u64`
            // is at least as aligned as `cpu_set_t` (an array of `c_ulong`).
            // `sched_getaffinity` writes at most `len` bytes into it.
            let rc = unsafe {
                libc::sched_getaffinity(0, len, mask.as_mut_ptr().cast::<libc::cpu_set_t>())
            };
            if rc == 0 {
                let count: u32 = mask.iter().map(|word| word.count_ones()).sum();
                return Ok((count as usize).max(1));
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINVAL) || len >= MAX_MASK_BYTES {
                return Err(err);
            }
            bytes = len * 2;
        }
    }
}

#[cfg(target_os = "freebsd")]
mod imp {
    use std::io;
    use std::mem::size_of;

    /// The largest mask tried: 8 KiB, i.e. 65536 CPUs.
    const MAX_MASK_BYTES: usize = 8 * 1024;

    pub(super) fn available_cpus() -> io::Result<usize> {
        // Start with libc's `cpuset_t`; the kernel answers ERANGE when its
        // set is larger than the buffer, so grow until it fits.
        let mut bytes = size_of::<libc::cpuset_t>();
        loop {
            let mut mask = vec![0u64; bytes.div_ceil(size_of::<u64>())];
            let len = mask.len() * size_of::<u64>();
            // SAFETY: `mask` is a live, zeroed allocation of exactly `len`
            // bytes that nothing else references during the call, and `u64`
            // is at least as aligned as `cpuset_t` (an array of `c_long`).
            // The kernel writes at most `len` bytes; id -1 with
            // CPU_WHICH_TID is the calling thread.
            let rc = unsafe {
                libc::cpuset_getaffinity(
                    libc::CPU_LEVEL_WHICH,
                    libc::CPU_WHICH_TID,
                    -1,
                    len,
                    mask.as_mut_ptr().cast::<libc::cpuset_t>(),
                )
            };
            if rc == 0 {
                let count: u32 = mask.iter().map(|word| word.count_ones()).sum();
                return Ok((count as usize).max(1));
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ERANGE) || len >= MAX_MASK_BYTES {
                return Err(err);
            }
            bytes = len * 2;
        }
    }
}

#[cfg(windows)]
mod imp {
    use std::io;

    use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessAffinityMask};

    pub(super) fn available_cpus() -> io::Result<usize> {
        let (mut process, mut system) = (0usize, 0usize);
        // SAFETY: both are valid out-pointers; the pseudo-handle of the
        // current process needs no closing.
        let ok = unsafe { GetProcessAffinityMask(GetCurrentProcess(), &mut process, &mut system) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        if process == 0 {
            // Documented for a process with threads in several processor
            // groups: the mask covers one group, so it cannot be counted.
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the process spans several processor groups",
            ));
        }
        Ok(process.count_ones() as usize)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd", windows)))]
mod imp {
    use std::io;

    pub(super) fn available_cpus() -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this OS has no CPU affinity mask goro can read",
        ))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn matches_std_view_of_the_mask() {
        // std's `available_parallelism` also starts from sched_getaffinity but
        // then applies cgroup quotas, so it can only be lower.
        let ours = available_cpus().unwrap();
        let std = std::thread::available_parallelism().unwrap().get();
        assert!(std <= ours, "std {std} > affinity {ours}");
        assert!(
            ours <= cpus_configured(),
            "affinity {ours} > configured CPUs"
        );
    }

    fn cpus_configured() -> usize {
        // SAFETY: sysconf has no memory-safety preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    #[test]
    fn detect_has_no_problem_when_the_mask_is_readable() {
        let count = CpuCount::detect();
        assert_eq!(count.problem, None);
        assert_eq!(count.cpus, available_cpus().unwrap());
        assert_eq!(CpuCount::given(0).cpus, 1);
    }
}
