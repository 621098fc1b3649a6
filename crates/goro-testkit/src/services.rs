//! Real servers that a test starts for itself and that stop when dropped.
//!
//! Each one runs on a random port of 127.0.0.1 in a temporary directory.
//! When it cannot be started (not installed, no user to run it as), it says
//! why with [`skip_service`](crate::skip_service), a failure under
//! `GORO_REQUIRE_SERVICES=1` or `GORO_TEST_STRICT=1`, and the test skips.
//! They know nothing of any client crate: a test builds its client's config
//! from the host, port, user and database name, or the URL.

// Unix only: it runs the server as the `postgres` user when root.
#[cfg(unix)]
pub mod postgres;
