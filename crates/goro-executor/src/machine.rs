//! Worker threads (Go's Ms): starting one for a P, and handing a P to a new
//! thread when the task running on the current one is about to block
//! ([`blocking`], Go's `entersyscallblock`).

use std::io;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;

use crate::context;
use crate::runtime::Handle;
use crate::shared::Shared;
use crate::sync::lock;
use crate::worker::{self, Core};

type Callback = Arc<dyn Fn() + Send + Sync>;

/// How worker threads are started; kept for threads started after `build`.
pub(crate) struct ThreadConfig {
    pub(crate) name: Arc<dyn Fn(usize) -> String + Send + Sync>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_start: Option<Callback>,
    pub(crate) on_stop: Option<Callback>,
}

/// Starts an OS thread running `core`. On failure the core comes back.
pub(crate) fn start(shared: &Arc<Shared>, core: Box<Core>) -> Result<(), (io::Error, Box<Core>)> {
    let cfg = &shared.config.threads;
    let mut builder = thread::Builder::new().name((cfg.name)(core.index()));
    if let Some(size) = cfg.stack_size {
        builder = builder.stack_size(size);
    }
    // The core travels by channel so that a failed spawn does not drop it.
    let (tx, rx) = mpsc::sync_channel::<Box<Core>>(1);
    let handle = Handle {
        shared: shared.clone(),
    };
    let (on_start, on_stop) = (cfg.on_start.clone(), cfg.on_stop.clone());
    let spawned = builder.spawn(move || {
        let Ok(core) = rx.recv() else { return };
        let shared = handle.shared.clone();
        let _enter = context::enter(handle);
        if let Some(f) = on_start {
            f();
        }
        worker::run(shared, core);
        if let Some(f) = on_stop {
            f();
        }
    });
    match spawned {
        Ok(t) => {
            lock(&shared.threads).push(t);
            // The receiver waits in the new thread: this cannot fail.
            let _ = tx.send(core);
            Ok(())
        }
        Err(e) => Err((e, core)),
    }
}

/// Runs `f`, a call expected to block its thread (a slow syscall, file I/O,
/// an FFI call), without stalling the other tasks of this worker: like Go's
/// `entersyscallblock`, the worker's P — its run queue, its `runnext` task —
/// passes at once to a new thread, which keeps running them, while this
/// thread runs `f`. When the calling task's poll ends, this thread exits.
///
/// Go's thread would then try to take a P back and otherwise park as a
/// spare; goro starts a fresh thread per hand-off instead (tens of
/// microseconds), which is cheap next to a call worth handing off. For
/// many short blocking calls, prefer the blocking pool (`goro::unblock`).
///
/// Outside a worker thread, or when the OS refuses a new thread, `f` simply
/// runs here.
///
/// # Examples
///
/// ```
/// let rt = goro_executor::Runtime::builder().maxprocs(1).build().unwrap();
/// let len = rt.block_on(rt.spawn(async {
///     goro_executor::blocking(|| std::fs::read("Cargo.toml").map(|b| b.len()))
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

impl worker::WorkerContext {
    /// Gives this thread's P to a new thread. Does nothing if this thread
    /// holds no P (it was handed off already) or no thread can be started.
    fn hand_off_core(&self) {
        let Some(core) = self.take_core() else { return };
        if let Err((_, core)) = start(self.shared(), core) {
            self.put_core(core);
        }
    }
}
