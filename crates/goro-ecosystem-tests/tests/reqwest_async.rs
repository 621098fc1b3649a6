//! The async `reqwest::Client` inside goro, against a `goro::http` server
//! on 127.0.0.1. docs/tokio-crates.md says it is hard-wired to tokio and
//! panics off a tokio runtime: these tests hold it to that, in a goro task
//! (the panic comes back through the `JoinHandle`) and in `block_on`.
//! They also check that it starts no tokio runtime of its own, and that the
//! page's recommendation, `goro::http::Client`, gets the body from the same
//! server.

use std::panic::{AssertUnwindSafe, catch_unwind};

use goro::http::http_body_util::BodyExt;
use goro_ecosystem_tests::HelloServer;
use goro_testkit::threads::assert_no_hidden_runtime;

/// What tokio says when its I/O is used with no tokio runtime around.
const NO_REACTOR: &str =
    "there is no reactor running, must be called from the context of a Tokio 1.x runtime";

fn rt() -> goro::Runtime {
    goro::Runtime::builder().maxprocs(2).build().unwrap()
}

/// One GET with the async reqwest client: the body, if it got that far.
async fn reqwest_get(url: String) -> String {
    let resp = reqwest::Client::new().get(url).send().await.expect("send");
    resp.text().await.expect("body")
}

#[test]
fn async_client_in_a_goro_task_panics_with_no_reactor() {
    rt().block_on(async {
        let server = HelloServer::start().await;
        let err = goro::go(reqwest_get(server.url("/reqwest")))
            .await
            .expect_err("the async reqwest client worked off a tokio runtime");
        assert!(err.is_panic(), "{err}");
        let msg = err.panic_message().expect("a string panic");
        assert!(msg.contains(NO_REACTOR), "{msg}");
        assert_eq!(server.requests(), 0, "no request reached the server");
        // It panicked rather than starting a tokio runtime of its own.
        assert_no_hidden_runtime();

        // What the page recommends instead: goro's own client, same server.
        let resp = goro::http::Client::new()
            .get(server.url("/goro").parse().unwrap())
            .await
            .expect("goro::http::Client");
        assert!(resp.status().is_success());
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"hello from goro: /goro");
        assert_eq!(server.requests(), 1);
        server.shutdown().await;
    });
}

#[test]
fn async_client_in_block_on_panics_with_no_reactor() {
    let rt = rt();
    let server = rt.block_on(HelloServer::start());
    let url = server.url("/reqwest");
    let panic = catch_unwind(AssertUnwindSafe(|| rt.block_on(reqwest_get(url))))
        .expect_err("the async reqwest client worked off a tokio runtime");
    let msg = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .expect("a string panic");
    assert!(msg.contains(NO_REACTOR), "{msg}");
    assert_eq!(server.requests(), 0, "no request reached the server");
    assert_no_hidden_runtime();
    // The runtime is still usable after the panic in `block_on`.
    rt.block_on(server.shutdown());
}
