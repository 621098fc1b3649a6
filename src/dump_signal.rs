//! A task dump on a signal: Go prints every goroutine on `SIGQUIT` (and
//! exits); [`install_dump_signal`] prints goro's tasks on `SIGUSR1` and
//! carries on.
//!
//! Why a call and not automatic: a signal's disposition belongs to the
//! program. `SIGUSR1` terminates a process by default, and programs use it
//! for their own ends (reopening logs, say); a library that caught it at
//! start-up would change the behaviour of every program that links goro.
//! So nothing is installed until the program asks, with one line in
//! `main`. The feature `dump-signal` (on by default) only makes the call
//! available; without it goro uses only `signal-hook`'s low-level
//! registration, for [`crate::signal`].

use std::io::{self, Write as _};
use std::sync::Mutex;

use goro_executor::Handle;
use signal_hook::iterator::{Handle as SignalsHandle, Signals};

/// The handler thread's control handle and the signals it listens to.
static INSTALLED: Mutex<Option<(SignalsHandle, Vec<i32>)>> = Mutex::new(None);

/// From now on, `SIGUSR1` prints a task dump of every goro runtime in the
/// process to stderr (`kill -USR1 <pid>`), without stopping anything: the
/// scheduler's `SCHED` line (see [`Stats::schedtrace`](crate::Stats::schedtrace))
/// and each task that has waited at least once, grouped by spawn location
/// with state, age and poll count (see [`crate::dump_tasks`]).
///
/// The signal is received by `signal-hook` and handled on a thread of its
/// own (`goro-dump-signal`), so the dump runs outside the signal handler
/// and on no worker. Calling it again does nothing. For another signal,
/// see [`install_dump_signal_on`].
///
/// # Errors
/// When the signal handler cannot be installed or the thread started.
///
/// # Examples
///
/// ```
/// goro::install_dump_signal().unwrap();
/// goro::block_on(async {
///     // ... serve; `kill -USR1 <pid>` prints what every task is doing.
/// });
/// ```
pub fn install_dump_signal() -> io::Result<()> {
    install_dump_signal_on(signal_hook::consts::SIGUSR1)
}

/// Like [`install_dump_signal`], for `signal` (a `libc` signal number such
/// as `signal_hook::consts::SIGUSR2`). May be called for several signals.
///
/// # Errors
/// `InvalidInput` for a signal that cannot be caught or that the process
/// needs for itself (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGILL`,
/// `SIGFPE`; `signal_hook::consts::FORBIDDEN`); an OS error when the
/// handler or the thread cannot be set up.
///
/// # Examples
///
/// ```
/// let err = goro::install_dump_signal_on(9).unwrap_err(); // SIGKILL
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// ```
pub fn install_dump_signal_on(signal: i32) -> io::Result<()> {
    if signal_hook::consts::FORBIDDEN.contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("goro: signal {signal} cannot carry a task dump"),
        ));
    }
    let mut installed = goro_lock::lock(&INSTALLED);
    if let Some((handle, signals)) = installed.as_mut() {
        if !signals.contains(&signal) {
            handle.add_signal(signal)?;
            signals.push(signal);
        }
        return Ok(());
    }
    let mut signals = Signals::new([signal])?;
    let handle = signals.handle();
    std::thread::Builder::new()
        .name("goro-dump-signal".into())
        .spawn(move || {
            for sig in signals.forever() {
                print_dump(sig);
            }
        })?;
    *installed = Some((handle, vec![signal]));
    Ok(())
}

/// Writes the dump of every runtime to stderr, in one piece so that other
/// output does not interleave.
fn print_dump(signal: i32) {
    let runtimes = Handle::all();
    let mut out = format!(
        "goro: signal {signal}: task dump of {} runtime(s)\n",
        runtimes.len()
    );
    for (i, h) in runtimes.iter().enumerate() {
        let stats = h.stats();
        out.push_str(&format!(
            "\n=== runtime {} of {} ===\n{}\n{}",
            i + 1,
            runtimes.len(),
            stats.schedtrace(),
            h.dump_tasks()
        ));
    }
    let _ = io::stderr().lock().write_all(out.as_bytes());
}
