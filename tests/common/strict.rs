//! Skipping a test, or shrinking it, because its environment lacks
//! something (root, a cgroup hierarchy, a Python package, file
//! descriptors). Shared by the facade's tests and `goro-procs`' real-cgroup
//! test (which includes this file by path).
//!
//! A skip is written straight to the process's stderr, past the test
//! harness's capture, so that `cargo test` shows it. With
//! `GORO_TEST_STRICT=1` (CI sets it) a skip is a failure that says what was
//! missing instead.

#![allow(dead_code)] // each test binary uses some of it

use std::io::Write;

/// The variable that turns skips into failures.
pub const STRICT_VAR: &str = "GORO_TEST_STRICT";

/// Whether `GORO_TEST_STRICT=1`. Any value but `1`, `0` or empty is a
/// mistake, and fails loudly.
pub fn strict() -> bool {
    match std::env::var(STRICT_VAR) {
        Err(std::env::VarError::NotPresent) => false,
        Ok(v) if v == "1" => true,
        Ok(v) if v.is_empty() || v == "0" => false,
        Ok(v) => panic!("{STRICT_VAR}={v:?} is invalid: expected 1 (skips fail) or 0"),
        Err(e) => panic!("{STRICT_VAR} is invalid: {e}"),
    }
}

/// `test` cannot run as written because `why`: fails under
/// `GORO_TEST_STRICT=1`, else says so on stderr (uncaptured) and returns,
/// for the caller to skip or shrink the test.
#[track_caller]
pub fn skip(test: &str, why: &str) {
    if strict() {
        panic!("{test}: {why} ({STRICT_VAR}=1 makes this a failure instead of a skip)");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED {test}: {why} (set {STRICT_VAR}=1 to make this fail)"
    );
}
