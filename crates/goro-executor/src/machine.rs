//! Worker threads (Go's Ms): starting one for a P, keeping the threads that
//! lost their P as spares, and joining the ones that exited. Handing the P
//! off before a blocking call is in `handoff`.

use std::io;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use crate::context;
use crate::processor::Core;
use crate::runtime::Handle;
use crate::shared::Shared;
use crate::sync::{Mutex, lock, thread};
use crate::worker;

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
        let Some(spare) = lock(&shared.threads.spares).pop() else {
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
    // The core waits here for the new thread, so that a failed spawn does
    // not drop it: the thread takes it out first thing.
    let carrier = Arc::new(Mutex::new(Some(core)));
    let handle = Handle {
        shared: shared.clone(),
    };
    let (on_start, on_stop) = (cfg.on_start.clone(), cfg.on_stop.clone());
    let theirs = carrier.clone();
    let spawned = builder.spawn(move || {
        let Some(core) = lock(&theirs).take() else {
            return;
        };
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
            lock(&shared.threads.all).push(t);
            Ok(())
        }
        Err(e) => {
            let core = lock(&carrier).take().expect("no thread took the core");
            Err((e, core))
        }
    }
}

/// Joins the runtime's threads that have exited (spares past their
/// keep-alive): a joinable thread that has exited keeps its stack until it
/// is joined. Called by the monitor about once a second and before a new
/// thread is added.
#[cfg(not(loom))]
pub(crate) fn reap_threads(shared: &Shared) {
    let exited: Vec<thread::JoinHandle<()>> = {
        let mut threads = lock(&shared.threads.all);
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

/// Under loom, threads are joined at shutdown only (loom's handles cannot
/// tell whether a thread has finished).
#[cfg(loom)]
pub(crate) fn reap_threads(_: &Shared) {}

/// An M's life: run a P until it is handed away, then wait as a spare for
/// another P, until shutdown or [`SPARE_KEEP_ALIVE`] without one.
fn run_machine(shared: &Arc<Shared>, core: Box<Core>) {
    let mut core = core;
    loop {
        worker::run(shared.clone(), core);
        if shared.is_shutdown() || cfg!(loom) {
            // Under loom a thread that lost its P exits: a spare's timed
            // wait on a std channel would block the model.
            return;
        }
        let (tx, rx) = mpsc::sync_channel::<Box<Core>>(0);
        {
            let mut spares = lock(&shared.threads.spares);
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
