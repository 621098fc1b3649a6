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
