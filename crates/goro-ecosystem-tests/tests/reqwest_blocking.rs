//! `reqwest::blocking` inside `goro::unblock`, against a `goro::http`
//! server on 127.0.0.1: it works, and, as docs/tokio-crates.md warns, it
//! runs a tokio runtime on a thread of its own
//! (`reqwest-internal-sync-runtime`) for as long as the client lives.
//!
//! One test in this binary, so that no other test starts threads while it
//! compares the process's threads before and during the call.

use goro_ecosystem_tests::{HelloServer, new_threads};
use goro_testkit::threads::{hidden_runtime_threads, thread_names};

#[test]
fn blocking_client_in_unblock_works_on_a_tokio_thread_of_its_own() {
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    rt.block_on(async {
        let server = HelloServer::start().await;
        assert_eq!(hidden_runtime_threads(), Vec::<String>::new());
        let before = thread_names();
        let url = server.url("/blocking");
        let (body, during, hidden, after) = goro::unblock(move || {
            let client = reqwest::blocking::Client::new();
            let resp = client.get(&url).send().expect("reqwest::blocking GET");
            assert!(resp.status().is_success(), "{}", resp.status());
            let body = resp.text().expect("body");
            let during = new_threads(&before);
            let hidden = hidden_runtime_threads();
            // Dropping the client stops and joins its runtime thread.
            drop(client);
            (body, during, hidden, new_threads(&before))
        })
        .await
        .expect("the unblock task");
        assert_eq!(body, "hello from goro: /blocking");
        assert_eq!(server.requests(), 1);
        // Linux cuts thread names to 15 bytes.
        assert_eq!(during, ["reqwest-interna"], "threads that are not goro's");
        assert_eq!(hidden, ["reqwest-interna"], "hidden_runtime_threads");
        assert_eq!(after, Vec::<String>::new(), "left after the client");
        server.shutdown().await;
    });
}
