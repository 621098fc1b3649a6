//! `goro::join!`, `goro::try_join!` and the `goro::task` names.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use goro::time::timeout;

const PATIENCE: Duration = Duration::from_secs(20);

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[goro::test]
async fn join_polls_its_futures_concurrently() {
    // Each future waits for the other's message: run one after the other,
    // they would wait forever.
    let (a_tx, a_rx) = goro::chan::bounded(1);
    let (b_tx, b_rx) = goro::chan::bounded(1);
    let both = async {
        goro::join!(
            async {
                a_tx.send("from a").await.unwrap();
                b_rx.recv().await.unwrap()
            },
            async {
                b_tx.send("from b").await.unwrap();
                a_rx.recv().await.unwrap()
            },
        )
    };
    let (got_a, got_b) = timeout(PATIENCE, both)
        .await
        .expect("join! ran them in turn");
    assert_eq!((got_a, got_b), ("from b", "from a"));
}

#[goro::test]
async fn join_returns_outputs_in_the_order_written() {
    let (one,) = goro::join!(async { 1 });
    assert_eq!(one, 1);
    let t = goro::join!(
        async {
            goro::time::sleep(Duration::from_millis(30)).await;
            'a'
        },
        async { 2u8 },
        async { "three" },
        async { 4.0f32 },
        async { vec![5] }
    );
    assert_eq!(t, ('a', 2u8, "three", 4.0f32, vec![5]));
}

#[goro::test]
async fn try_join_returns_the_first_error_and_drops_the_rest() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = DropCounter(drops.clone());
    let r: Result<((), u8), String> = timeout(PATIENCE, async {
        goro::try_join!(
            async move {
                let _d = d;
                std::future::pending::<Result<(), String>>().await
            },
            async { Err("second failed".to_string()) },
        )
    })
    .await
    .expect("try_join! waited for a future after an error");
    assert_eq!(r, Err("second failed".to_string()));
    assert_eq!(drops.load(SeqCst), 1, "the pending future was not dropped");

    let ok: Result<(u8, &str), ()> = goro::try_join!(async { Ok(1) }, async { Ok("x") });
    assert_eq!(ok, Ok((1, "x")));
}

#[goro::test(maxprocs = 2)]
async fn task_module_has_the_tokio_names() {
    let on_pool = goro::task::spawn_blocking(|| std::thread::current().name().map(String::from));
    let name = on_pool.await.unwrap().unwrap_or_default();
    assert_eq!(name, "goro-blocking", "spawn_blocking ran off the pool");
    let mut set = goro::task::JoinSet::new();
    set.spawn(async { goro::task::block_in_place(|| 6 * 7) });
    assert_eq!(set.join_next().await.unwrap().unwrap(), 42);
    goro::task::yield_now().await;
    assert_eq!(goro::task::spawn(async { 1 }).await.unwrap(), 1);
}
