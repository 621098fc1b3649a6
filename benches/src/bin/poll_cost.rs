//! Instructions per yield and per channel round trip on one worker, for
//! counting with valgrind (`cachegrind`): run it with two sizes and divide
//! the difference, so start-up cancels out.
//!
//! ```text
//! cargo build --release -p goro-benches --bin poll_cost
//! valgrind --tool=cachegrind --cache-sim=no target/release/poll_cost yield 100000
//! valgrind --tool=cachegrind --cache-sim=no target/release/poll_cost yield 200000
//! ```
//!
//! `yield N`: one task yields N times. `chan N`: two tasks pass a value
//! back and forth N times over two `goro::chan::bounded(1)` channels (each
//! receive waits, so each round trip is two waits and two wakes).

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: poll_cost yield|chan N";
    let shape = args.next().expect(usage);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).expect(usage);
    let rt = goro::Runtime::builder()
        .maxprocs(1)
        .build()
        .expect("runtime");
    match shape.as_str() {
        "yield" => rt.block_on(async move {
            goro::go(async move {
                for _ in 0..n {
                    goro::yield_now().await;
                }
            })
            .await
            .unwrap();
        }),
        "chan" => rt.block_on(async move {
            let (ping_tx, ping_rx) = goro::chan::bounded::<u64>(1);
            let (pong_tx, pong_rx) = goro::chan::bounded::<u64>(1);
            let echo = goro::go(async move {
                while let Ok(v) = ping_rx.recv().await {
                    pong_tx.send(v).await.unwrap();
                }
            });
            goro::go(async move {
                for i in 0..n {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await.unwrap(), i);
                }
            })
            .await
            .unwrap();
            echo.await.unwrap();
        }),
        other => panic!("{usage}: got {other}"),
    }
}
