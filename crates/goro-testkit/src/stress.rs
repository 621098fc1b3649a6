//! Sizing stress tests: the same tests run in seconds natively and in
//! minutes under valgrind (`.ci/valgrind` sets `GORO_STRESS_SCALE`).

/// The variable that divides stress-test sizes.
pub const SCALE_VAR: &str = "GORO_STRESS_SCALE";

/// The divisor in `GORO_STRESS_SCALE`: 1 when unset. Anything but a
/// positive whole number is a mistake, and fails loudly.
pub fn scale() -> usize {
    match std::env::var(SCALE_VAR) {
        Err(std::env::VarError::NotPresent) => 1,
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{SCALE_VAR}={v:?} is invalid: expected a whole number from 1 up"),
        },
        Err(e) => panic!("{SCALE_VAR} is invalid: {e}"),
    }
}

/// `n` divided by [`scale`], at least `floor` (and at least 1).
pub fn scaled_at_least(n: usize, floor: usize) -> usize {
    (n / scale()).max(floor).max(1)
}

/// `n` divided by [`scale`], at least 1.
pub fn scaled(n: usize) -> usize {
    scaled_at_least(n, 1)
}

/// Whether this process runs under valgrind (`.ci/valgrind`), which makes
/// everything 20 to 100 times slower: tests skip their timing checks then,
/// and keep their correctness checks. Valgrind preloads its own libraries.
pub fn under_valgrind() -> bool {
    std::env::var("LD_PRELOAD").is_ok_and(|v| v.contains("vgpreload"))
}
