//! What goro's tests and benches share, in one unpublished crate (like
//! tokio's `tokio-test`), instead of files included by `#[path]` or copied
//! between test binaries.
//!
//! It depends on none of goro's runtime crates, so that a crate's tests, which
//! dev-depend on it, see exactly one copy of every runtime type. What needs a
//! runtime type stays in the tests of the crate that has it.
//!
//! | module | what |
//! |---|---|
//! | [`skip`](mod@skip) | loud skips on stderr, failures under `GORO_TEST_STRICT=1` |
//! | [`wait`](mod@wait) | polling a condition with a generous deadline |
//! | [`stress`] | `GORO_STRESS_SCALE` and running under valgrind |
//! | [`threads`] | the process's threads from `/proc`, counting a runtime's threads |
//! | [`tools`] | third-party programs: finding and running them, the Python with `websockets` |
//! | [`child`] | this test binary run again to run one of its ignored helper tests |
//! | [`error`] | an error and its sources in one line |
//! | [`example`] | running one of the workspace's examples as a child process |
//! | [`dir`] | temporary directories and free ports |
//! | [`services`] | real servers started by a test: PostgreSQL |
//! | [`fixture`] | fake filesystem roots with `/proc/self` and cgroup mounts; with feature `procs`, detection against them |
//! | `sandbox` | a real cgroup for child processes (root only; Linux, feature `procs`) |
//!
//! [`lock`] is the poison-ignoring mutex lock of `goro-lock`, the one the
//! runtime crates use.

pub mod child;
pub mod dir;
pub mod error;
pub mod example;
pub mod fixture;
#[cfg(all(feature = "procs", target_os = "linux"))]
pub mod sandbox;
pub mod services;
pub mod skip;
pub mod stress;
pub mod threads;
pub mod tools;
pub mod wait;

pub use goro_lock::lock;
pub use skip::{skip, skip_service, strict};
pub use wait::wait_until;
