//! Worker threads (Go's Ms): starting one for a P, and handing a P to a new
//! thread when the task running on the current one is about to block
//! ([`blocking`], Go's `entersyscallblock`).

use std::io;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

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

/// How long a thread left without a P waits to be given one by a later
/// hand-off before it exits (Go keeps such spare Ms around too).
const SPARE_KEEP_ALIVE: Duration = Duration::from_secs(10);
/// Spare threads kept at most: `maxprocs`, or this many if more.
const MIN_SPARES: usize = 4;

/// Hands `core` to a spare thread, or starts a new thread for it. On
/// failure the core comes back.
pub(crate) fn start(shared: &Arc<Shared>, core: Box<Core>) -> Result<(), (io::Error, Box<Core>)> {
    let mut core = core;
    loop {
        let Some(spare) = lock(&shared.spares).pop() else {
            break;
        };
        // A rendezvous: either the spare takes the core, or it has given up
        // waiting and the core comes back.
        match spare.send(core) {
            Ok(()) => return Ok(()),
            Err(mpsc::SendError(back)) => core = back,
        }
    }
    spawn_thread(shared, core)
}

fn spawn_thread(shared: &Arc<Shared>, core: Box<Core>) -> Result<(), (io::Error, Box<Core>)> {
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
        run_machine(&shared, core);
        if let Some(f) = on_stop {
            f();
        }
    });
    match spawned {
        Ok(t) => {
            reap_threads(shared);
            lock(&shared.threads).push(t);
            // The receiver waits in the new thread: this cannot fail.
            let _ = tx.send(core);
            Ok(())
        }
        Err(e) => Err((e, core)),
    }
}

/// Joins the runtime's threads that have exited (spares past their
/// keep-alive): a joinable thread that has exited keeps its stack until it
/// is joined. Called by the monitor about once a second and before a new
/// thread is added.
pub(crate) fn reap_threads(shared: &Shared) {
    let exited: Vec<thread::JoinHandle<()>> = {
        let mut threads = lock(&shared.threads);
        let (exited, running) = std::mem::take(&mut *threads)
            .into_iter()
            .partition(|t| t.is_finished());
        *threads = running;
        exited
    };
    for t in exited {
        // Finished: this does not wait. A panic there was reported already.
        let _ = t.join();
    }
}

/// An M's life: run a P until it is handed away, then wait as a spare for
/// another P, until shutdown or [`SPARE_KEEP_ALIVE`] without one.
fn run_machine(shared: &Arc<Shared>, core: Box<Core>) {
    let mut core = core;
    loop {
        worker::run(shared.clone(), core);
        if shared.is_shutdown() {
            return;
        }
        let (tx, rx) = mpsc::sync_channel::<Box<Core>>(0);
        {
            let mut spares = lock(&shared.spares);
            if spares.len() >= shared.num_procs().max(MIN_SPARES) {
                return; // enough threads wait already
            }
            spares.push(tx);
        }
        if shared.is_shutdown() {
            // Shutdown may have cleared the spares before our push.
            return;
        }
        match rx.recv_timeout(SPARE_KEEP_ALIVE) {
            Ok(next) => core = next,
            // Timed out, or shutdown dropped our sender. A hand-off that
            // picks our stale sender gets its core back: `rx` is gone.
            Err(_) => return,
        }
    }
}

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
