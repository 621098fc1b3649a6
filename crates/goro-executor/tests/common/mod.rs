//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses some of them

/// Scales a stress-test size down by `GORO_STRESS_SCALE` (default 1), so the
/// same tests run in seconds natively and in minutes under valgrind.
pub fn scaled(n: usize) -> usize {
    let divisor = std::env::var("GORO_STRESS_SCALE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    (n / divisor).max(1)
}

/// Whether this process runs under valgrind (`.ci/valgrind`), which makes
/// everything 20 to 100 times slower: tests skip their timing checks then,
/// and keep their correctness checks. Valgrind preloads its own libraries.
pub fn under_valgrind() -> bool {
    std::env::var("LD_PRELOAD").is_ok_and(|v| v.contains("vgpreload"))
}

/// `builder` with hooks that keep the returned counter at the number of its
/// live threads: up when one starts, down when one stops.
pub fn counting_threads(
    builder: goro_executor::Builder,
) -> (
    goro_executor::Builder,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let live = std::sync::Arc::new(AtomicUsize::new(0));
    let (up, down) = (live.clone(), live.clone());
    let builder = builder
        .on_thread_start(move || {
            up.fetch_add(1, SeqCst);
        })
        .on_thread_stop(move || {
            down.fetch_sub(1, SeqCst);
        });
    (builder, live)
}
