//! Helpers shared by the integration tests.

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
