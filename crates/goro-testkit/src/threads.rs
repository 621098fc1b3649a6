//! The process's threads, from `/proc` (Linux), and a counter of a runtime's
//! live threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// The process's thread count now, from `Threads:` in `/proc/self/status`.
///
/// # Panics
/// If `/proc/self/status` cannot be read or has no `Threads:` line.
pub fn process_threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("parse Threads: in /proc/self/status")
}

/// The names of this process's threads, from `/proc/self/task/*/comm`.
pub fn thread_names() -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for t in dir.flatten() {
            if let Ok(n) = std::fs::read_to_string(t.path().join("comm")) {
                names.push(n.trim().to_owned());
            }
        }
    }
    names
}

/// The names of this process's threads that belong to a second runtime,
/// sorted: a tokio runtime's (`tokio-runtime-worker`, cut to
/// `tokio-runtime-w` by Linux), async-compat's (`async-compat/tokio-1`),
/// reqwest's blocking client's (`reqwest-internal-sync-runtime`, a tokio
/// runtime of its own), async-io's reactor (`async-io`), smol's global
/// executor (`smol-N`) and the `blocking` crate's pool (`blocking-N`).
pub fn hidden_runtime_threads() -> Vec<String> {
    let mut hidden: Vec<_> = thread_names()
        .into_iter()
        .filter(|n| {
            let n = n.to_ascii_lowercase();
            n.contains("tokio")
                || n.contains("async-compat")
                || n.contains("async-io")
                || n.starts_with("reqwest-interna")
                || n.starts_with("smol-")
                || n.starts_with("blocking-")
        })
        .collect();
    hidden.sort();
    hidden
}

/// Fails if any thread is named like a second runtime's (see
/// [`hidden_runtime_threads`]): goro starts no hidden second runtime.
#[track_caller]
pub fn assert_no_hidden_runtime() {
    let names = thread_names();
    assert!(!names.is_empty(), "cannot read /proc/self/task/*/comm");
    let hidden = hidden_runtime_threads();
    assert!(
        hidden.is_empty(),
        "a hidden runtime thread is running: {hidden:?} (all threads: {names:?})"
    );
}

/// A count of live threads kept by a runtime's thread start and stop hooks:
/// pass [`LiveThreads::on_start`] and [`LiveThreads::on_stop`] to the
/// builder's `on_thread_start` and `on_thread_stop`.
#[derive(Debug, Clone, Default)]
pub struct LiveThreads(Arc<AtomicUsize>);

impl LiveThreads {
    /// A count at zero.
    pub fn new() -> LiveThreads {
        LiveThreads::default()
    }

    /// The hook that counts a thread starting.
    pub fn on_start(&self) -> impl Fn() + Send + Sync + 'static {
        let live = self.0.clone();
        move || {
            live.fetch_add(1, SeqCst);
        }
    }

    /// The hook that counts a thread stopping.
    pub fn on_stop(&self) -> impl Fn() + Send + Sync + 'static {
        let live = self.0.clone();
        move || {
            live.fetch_sub(1, SeqCst);
        }
    }

    /// Threads started and not yet stopped.
    pub fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}
