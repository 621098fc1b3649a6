//! The check the compat tests end with, `assert_no_hidden_runtime`, can
//! fail: a thread named as async-compat's, tokio's, reqwest's blocking
//! client's, async-io's, smol's or the `blocking` crate's threads are makes
//! it panic. (A binary of its own, so the fake threads cannot trip
//! the real checks in `compat_postgres`, `compat_redis` and `compat_tls`.)

use std::sync::mpsc;

#[test]
fn a_thread_named_like_a_hidden_runtime_is_caught() {
    goro_testkit::threads::assert_no_hidden_runtime();
    for name in [
        "async-compat/tokio-1",
        "tokio-runtime-worker",
        "reqwest-internal-sync-runtime",
        "async-io",
        "smol-1",
        "blocking-1",
    ] {
        let (stop, wait) = mpsc::channel::<()>();
        let (started, ready) = mpsc::channel::<()>();
        let t = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                started.send(()).unwrap();
                let _ = wait.recv();
            })
            .unwrap();
        ready.recv().unwrap();
        let caught = std::panic::catch_unwind(goro_testkit::threads::assert_no_hidden_runtime);
        drop(stop);
        t.join().unwrap();
        // The kernel truncates thread names to 15 bytes; the check still
        // matches.
        assert!(caught.is_err(), "a thread named {name:?} was not reported");
    }
    goro_testkit::threads::assert_no_hidden_runtime();
}
