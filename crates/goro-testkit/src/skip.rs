//! Skipping a test, or shrinking it, because its environment lacks something
//! (root, a cgroup hierarchy, a tool, a Python package, file descriptors, a
//! database server).
//!
//! A skip is written straight to the process's stderr, past the test
//! harness's capture, so that `cargo test` shows it. With
//! `GORO_TEST_STRICT=1` (CI sets it) a skip is a failure that says what was
//! missing instead.

use std::io::Write;

/// The variable that turns skips into failures.
pub const STRICT_VAR: &str = "GORO_TEST_STRICT";

/// The variable that makes tests needing a real server (PostgreSQL, Redis)
/// fail instead of skipping when they cannot start one.
pub const SERVICES_VAR: &str = "GORO_REQUIRE_SERVICES";

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

/// The test calling this cannot run as written because `why`: fails under
/// `GORO_TEST_STRICT=1`, else says so on stderr (uncaptured) and returns,
/// for the caller to skip or shrink the test. The message names the
/// caller's file and line and the test (the harness's thread name).
#[track_caller]
pub fn skip(why: &str) {
    let at = std::panic::Location::caller();
    if strict() {
        panic!("{at}: {why} ({STRICT_VAR}=1 makes this a failure instead of a skip)");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED {at} ({}): {why} (set {STRICT_VAR}=1 to make this fail)",
        std::thread::current().name().unwrap_or("unnamed thread")
    );
}

/// Whether tests that need a real server (PostgreSQL, Redis) must run:
/// `GORO_REQUIRE_SERVICES=1` (CI sets it) or `GORO_TEST_STRICT=1`.
pub fn services_required() -> bool {
    strict() || std::env::var_os(SERVICES_VAR).is_some_and(|v| v != "0")
}

/// Like [`skip`], for a server a test could not start: a failure under
/// `GORO_REQUIRE_SERVICES=1` or `GORO_TEST_STRICT=1`.
#[track_caller]
pub fn skip_service(why: &str) {
    let at = std::panic::Location::caller();
    if services_required() {
        panic!("{SERVICES_VAR}=1 (or {STRICT_VAR}=1) and this test cannot run ({at}): {why}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED {at}: {why} (set {SERVICES_VAR}=1 to make this a failure)"
    );
}
