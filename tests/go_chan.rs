//! `goro::chan` and `goro::select!`: Go's channel semantics and their
//! documented differences.

use std::time::{Duration, Instant};

use goro::chan::{self, RecvError, SendError, TryRecvError, TrySendError};

#[goro::test]
async fn send_on_a_closed_channel_is_an_error_that_returns_the_value() {
    let (tx, rx) = chan::bounded::<String>(4);
    assert!(tx.close(), "first close reports it closed the channel");
    assert!(!tx.close(), "second close is a no-op");
    assert_eq!(tx.send("v".into()).await, Err(SendError("v".to_string())));
    assert!(rx.is_closed());
}

#[goro::test]
async fn receive_from_a_closed_channel_drains_then_ends() {
    let (tx, rx) = chan::bounded(3);
    for i in 0..3 {
        tx.send(i).await.unwrap();
    }
    drop(tx); // the last sender gone: closed
    assert_eq!(rx.recv().await, Ok(0));
    assert_eq!(rx.recv().await, Ok(1));
    assert_eq!(rx.recv().await, Ok(2));
    assert_eq!(rx.recv().await, Err(RecvError));
    assert_eq!(rx.recv().await, Err(RecvError), "stays ended");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[goro::test]
async fn closing_from_the_receiver_side_stops_senders() {
    let (tx, rx) = chan::unbounded::<u8>();
    drop(rx);
    assert_eq!(tx.send(1).await, Err(SendError(1)));
}

#[goro::test]
async fn bounded_channel_is_full_at_capacity() {
    let (tx, rx) = chan::bounded(1);
    tx.try_send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(rx.recv().await, Ok(1));
    tx.try_send(2).unwrap();
}

#[test]
#[should_panic]
fn no_unbuffered_channels() {
    let _ = chan::bounded::<u8>(0);
}

#[goro::test]
async fn range_over_a_channel_fed_by_tasks() {
    let (tx, rx) = chan::unbounded();
    for i in 0..10u64 {
        let tx = tx.clone();
        goro::go(async move { tx.send(i).await.unwrap() });
    }
    drop(tx);
    let mut got = Vec::new();
    while let Ok(v) = rx.recv().await {
        got.push(v);
    }
    got.sort_unstable();
    assert_eq!(got, (0..10).collect::<Vec<_>>());
}

#[goro::test]
async fn select_takes_the_ready_branch() {
    let (_idle_tx, idle) = chan::bounded::<&str>(1);
    let (tx, rx) = chan::bounded::<&str>(1);
    tx.send("ready").await.unwrap();
    let got = goro::select! {
        v = idle.recv() => v.map(|s| format!("idle {s}")),
        v = rx.recv() => v.map(|s| format!("rx {s}")),
    };
    assert_eq!(got, Ok("rx ready".to_string()));
    // The losing `recv` was dropped without taking anything.
    assert!(idle.is_empty());
}

#[goro::test]
async fn select_with_three_branches_and_block_bodies() {
    let (_a_tx, a) = chan::bounded::<u8>(1);
    let (_b_tx, b) = chan::bounded::<u8>(1);
    let stop = goro::CancelToken::new();
    stop.cancel();
    let which;
    goro::select! {
        _ = a.recv() => { which = "a"; }
        _ = b.recv() => { which = "b"; }
        _ = stop.cancelled() => { which = "stop"; }
    }
    assert_eq!(which, "stop");
}

#[goro::test]
async fn select_body_can_break_the_enclosing_loop() {
    let (tx, rx) = chan::unbounded();
    let stop = goro::CancelToken::new();
    for i in 1..=3 {
        tx.send(i).await.unwrap();
    }
    let mut sum = 0;
    loop {
        goro::select! {
            v = rx.recv() => {
                sum += v.unwrap();
                if sum == 6 {
                    stop.cancel();
                }
            }
            _ = stop.cancelled() => break,
        }
    }
    assert_eq!(sum, 6);
}

#[goro::test]
async fn both_ready_either_picks_each_side_sometimes() {
    use goro::select::{Either, either};
    let (mut left, mut right) = (0, 0);
    for _ in 0..200 {
        match either(async { 1 }, async { 2 }).await {
            Either::Left(_) => left += 1,
            Either::Right(_) => right += 1,
        }
    }
    assert!(left > 20 && right > 20, "left {left}, right {right}");
}

#[goro::test]
async fn select_times_out_through_a_deadline_token() {
    let (_tx, rx) = chan::bounded::<u8>(1);
    let deadline = goro::CancelToken::new();
    let start = Instant::now();
    deadline.cancel_after(Duration::from_millis(30));
    let timed_out = goro::select! {
        _ = rx.recv() => false,
        _ = deadline.cancelled() => true,
    };
    assert!(timed_out);
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn bounded_zero_panics_saying_what_to_use() {
    let payload = std::panic::catch_unwind(|| goro::chan::bounded::<u8>(0)).unwrap_err();
    let msg = payload
        .downcast_ref::<&str>()
        .copied()
        .or(payload.downcast_ref::<String>().map(String::as_str))
        .expect("a text message");
    assert!(msg.contains("bounded(0)"), "{msg}");
    assert!(msg.contains("bounded(1)"), "names the alternative: {msg}");
    assert!(msg.contains("rendezvous"), "{msg}");
}
