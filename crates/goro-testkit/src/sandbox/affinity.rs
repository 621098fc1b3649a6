//! Restricting a child's threads to fewer CPUs and back.

use std::fs;

/// Restricts every thread of `pid` to the first CPU this process may use.
pub fn pin_to_one_cpu(pid: libc::pid_t) {
    let mine = own_affinity();
    let word = mine
        .iter()
        .position(|&w| w != 0)
        .expect("some CPU is allowed");
    let mut one = [0u64; MASK_WORDS];
    one[word] = 1 << mine[word].trailing_zeros();
    set_affinity(pid, &one);
}

/// Gives every thread of `pid` this process's CPUs again.
pub fn unpin(pid: libc::pid_t) {
    set_affinity(pid, &own_affinity());
}

/// glibc's `cpu_set_t`: 1024 CPUs in 64-bit words.
const MASK_WORDS: usize = 1024 / 64;

fn own_affinity() -> [u64; MASK_WORDS] {
    let mut mine = [0u64; MASK_WORDS];
    // SAFETY: `mine` is a writable buffer of `size_of_val(&mine)` bytes,
    // aligned for cpu_set_t (an array of 64-bit words); the kernel writes at
    // most that many.
    let rc = unsafe {
        libc::sched_getaffinity(0, std::mem::size_of_val(&mine), mine.as_mut_ptr().cast())
    };
    assert_eq!(
        rc,
        0,
        "sched_getaffinity: {}",
        std::io::Error::last_os_error()
    );
    mine
}

fn set_affinity(pid: libc::pid_t, mask: &[u64; MASK_WORDS]) {
    for task in fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let tid: libc::pid_t = task.unwrap().file_name().to_str().unwrap().parse().unwrap();
        // SAFETY: `mask` is a readable buffer of `size_of_val(mask)` bytes
        // laid out as a cpu_set_t; the kernel only reads it.
        let rc = unsafe {
            libc::sched_setaffinity(tid, std::mem::size_of_val(mask), mask.as_ptr().cast())
        };
        // A thread that exited meanwhile is no longer there to restrict.
        let err = std::io::Error::last_os_error();
        assert!(
            rc == 0 || err.raw_os_error() == Some(libc::ESRCH),
            "sched_setaffinity({tid}): {err}"
        );
    }
}
