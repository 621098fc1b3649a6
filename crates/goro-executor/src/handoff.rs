//! [`blocking`]: hands the P of the current worker to another thread before
//! a call that blocks this one (Go's `entersyscallblock`).
//!
//! The name is the facade's `goro::blocking`. It is not the blocking *pool*
//! (the `goro-blocking` crate: `goro::unblock`, `goro::fs`), which runs
//! closures on pool threads; this function runs its closure right here and
//! moves the P away instead.

use crate::context;
use crate::machine;
use crate::worker::WorkerContext;

/// Runs `f`, a call expected to block its thread (a slow syscall, file I/O,
/// an FFI call), without stalling the other tasks of this worker: like Go's
/// `entersyscallblock`, the worker's P — its run queue, its `runnext` task —
/// passes at once to a new thread, which keeps running them, while this
/// thread runs `f`. When the calling task's poll ends, this thread exits.
///
/// Afterwards the thread finishes the task's poll and becomes a spare: the
/// next hand-off gives it a P instead of starting a thread; after 10 s
/// without one it exits. Go's thread first tries to take a P back; in goro
/// every P always has a thread (an idle P sleeps with its own), so there is
/// never a free one to take. For many short blocking calls, prefer the
/// blocking pool (`goro::unblock`).
///
/// Outside a worker thread, or when the OS refuses a new thread, `f` simply
/// runs here.
///
/// Despite the name, this is not the blocking pool (the `goro-blocking`
/// crate behind `goro::unblock` and `goro::fs`): `f` runs on the calling
/// thread, and it is the worker's queue that moves.
///
/// # Examples
///
/// ```
/// let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
/// let len = rt.block_on(rt.spawn(async {
///     goro::blocking(|| std::fs::read("Cargo.toml").map(|b| b.len()))
/// }));
/// assert!(len.unwrap().unwrap() > 0);
/// ```
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    context::with_worker(|w| {
        if let Some(w) = w {
            w.hand_off_core();
        }
    });
    f()
}

impl WorkerContext {
    /// Gives this thread's P to a new thread. Does nothing if this thread
    /// holds no P (it was handed off already) or no thread can be started.
    fn hand_off_core(&self) {
        let Some(core) = self.take_core() else { return };
        if let Err((_, core)) = machine::start(self.shared(), core) {
            self.put_core(core);
        }
    }
}
