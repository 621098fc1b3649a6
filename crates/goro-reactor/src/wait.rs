//! What a task parked on the reactor waits for, for the scheduler's task
//! dump: the reactor's futures call `note` right before they return
//! `Pending`. The `goro` facade installs the hook that records it
//! (`goro_executor::note_wait`); without one, nothing happens.

use std::sync::OnceLock;

/// What the reactor makes a task wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wait {
    /// A timer (`sleep`, `interval`).
    Timer,
    /// Readiness of a descriptor.
    Io,
}

static HOOK: OnceLock<fn(Wait)> = OnceLock::new();

/// Tells the reactor how to record a wait reason for the task being
/// polled. The `goro` facade sets it; only the first call counts.
pub fn set_wait_hook(f: fn(Wait)) {
    let _ = HOOK.set(f);
}

/// The task being polled is about to wait for `w`.
#[inline]
pub(crate) fn note(w: Wait) {
    if let Some(f) = HOOK.get() {
        f(w);
    }
}
