//! [`raise_fd_limit`]: the soft limit on open files, raised to the hard one.

use std::io;

/// Raises this process's soft limit on open files (`RLIMIT_NOFILE`) to its
/// hard limit, and returns the limit now in force. A server holds one
/// descriptor per connection, and the usual soft limit of 1,024 is far
/// below what a goro server can serve.
///
/// Go raises this limit by itself at start-up (since Go 1.19). goro leaves
/// the call to the program: a raised limit lets descriptors above 1,023
/// appear, which code that still uses `select(2)` (through some C library)
/// cannot handle, and a library should not change a process-wide limit
/// behind its user's back. On macOS the limit is capped at `OPEN_MAX`
/// when the hard limit is unlimited, as Go does.
///
/// # Errors
/// When the limits cannot be read or set.
///
/// # Examples
///
/// ```
/// let limit = goro::net::raise_fd_limit()?;
/// assert!(limit >= 64);
/// # std::io::Result::Ok(())
/// ```
#[allow(clippy::unnecessary_cast)] // `rlim_t` is `i64` on FreeBSD
pub fn raise_fd_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit` for the call to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: soft_limit_for(lim.rlim_max),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit` that the call only reads.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
        lim = raised;
    }
    Ok(lim.rlim_cur as u64)
}

/// The soft limit to ask for under the hard limit `max`.
#[cfg(not(target_vendor = "apple"))]
fn soft_limit_for(max: libc::rlim_t) -> libc::rlim_t {
    max
}

/// The soft limit to ask for under the hard limit `max`: macOS refuses a
/// soft limit above `OPEN_MAX` (10240 in `<sys/syslimits.h>`; the libc
/// crate does not define it there) when the hard one is unlimited.
#[cfg(target_vendor = "apple")]
fn soft_limit_for(max: libc::rlim_t) -> libc::rlim_t {
    const OPEN_MAX: libc::rlim_t = 10240;
    if max == libc::RLIM_INFINITY {
        OPEN_MAX
    } else {
        max
    }
}
