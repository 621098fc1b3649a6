//! `goro::CancelToken`: Go's `context` cancellation tree.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use futures_lite::future::poll_once;
use goro::CancelToken;

#[goro::test]
async fn cancel_before_start_never_polls_the_future() {
    let t = CancelToken::new();
    t.cancel();
    let polled = Arc::new(AtomicUsize::new(0));
    let p = polled.clone();
    let out = t
        .run_until_cancelled(async move {
            p.fetch_add(1, SeqCst);
        })
        .await;
    assert_eq!(out, None);
    assert_eq!(polled.load(SeqCst), 0);
    assert_eq!(poll_once(t.cancelled()).await, Some(()));
}

#[goro::test]
async fn cancelled_wakes_a_waiting_task() {
    let t = CancelToken::new();
    let waiter = goro::go(t.cancelled());
    goro::yield_now().await;
    assert!(!waiter.is_finished());
    t.cancel();
    waiter.await.unwrap();
}

#[goro::test]
async fn not_cancelled_means_pending() {
    let t = CancelToken::new();
    assert_eq!(poll_once(t.cancelled()).await, None);
}

#[test]
fn parent_cancels_children_and_grandchildren() {
    let root = CancelToken::new();
    let child = root.child();
    let grandchild = child.child();
    let sibling = root.child();
    root.cancel();
    assert!(child.is_cancelled());
    assert!(grandchild.is_cancelled());
    assert!(sibling.is_cancelled());
}

#[test]
fn child_cancel_does_not_reach_parent_or_siblings() {
    let root = CancelToken::new();
    let child = root.child();
    let grandchild = child.child();
    let sibling = root.child();
    child.cancel();
    assert!(child.is_cancelled());
    assert!(grandchild.is_cancelled());
    assert!(!root.is_cancelled());
    assert!(!sibling.is_cancelled());
}

#[test]
fn child_of_a_cancelled_parent_starts_cancelled() {
    let root = CancelToken::new();
    root.cancel();
    assert!(root.child().is_cancelled());
}

#[test]
fn clones_share_the_signal() {
    let t = CancelToken::new();
    let c = t.clone();
    c.cancel();
    assert!(t.is_cancelled());
}

#[test]
fn many_dropped_children_are_pruned_and_live_ones_still_cancelled() {
    let root = CancelToken::new();
    for _ in 0..10_000 {
        drop(root.child());
    }
    let kept = root.child();
    root.cancel();
    assert!(kept.is_cancelled());
}

#[test]
fn cancel_after_fires_at_the_deadline_and_not_before() {
    let parent = CancelToken::new();
    let t = parent.child();
    let start = Instant::now();
    t.cancel_after(Duration::from_millis(50));
    assert!(!t.is_cancelled());
    goro::block_on(t.cancelled());
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(50), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    assert!(!parent.is_cancelled());
}

#[test]
fn earlier_deadline_set_later_fires_first() {
    let slow = CancelToken::new();
    let fast = CancelToken::new();
    slow.cancel_after(Duration::from_secs(60));
    fast.cancel_after(Duration::from_millis(10));
    goro::block_on(fast.cancelled());
    assert!(!slow.is_cancelled());
}

#[test]
fn parent_deadline_reaches_children() {
    let parent = CancelToken::new();
    let child = parent.child();
    parent.cancel_after(Duration::from_millis(10));
    goro::block_on(child.cancelled());
    assert!(parent.is_cancelled());
}

/// Names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_owned())
        .collect()
}

#[test]
fn deadlines_are_reactor_timers_with_no_thread() {
    let t = CancelToken::new();
    t.cancel_after(Duration::from_millis(5));
    goro::block_on(t.cancelled());
    let names = thread_names();
    assert!(
        !names.iter().any(|n| n == "goro-deadlines"),
        "a deadline thread runs: {names:?}"
    );
}

#[test]
fn cancelling_or_dropping_a_token_removes_its_timers() {
    // Process-wide timer count: other tests' timers come and go, so the
    // margins are wide (1,000 timers against a few).
    let timers = || goro::stats().timers;
    let before = timers();
    let tokens: Vec<_> = (0..1000)
        .map(|_| {
            let t = CancelToken::new();
            t.cancel_after(Duration::from_secs(3600));
            t
        })
        .collect();
    let during = timers();
    assert!(during >= before + 1000, "{before} -> {during} timers");
    for t in &tokens[..500] {
        t.cancel();
    }
    drop(tokens); // the other 500: dropped, never cancelled
    let after = timers();
    assert!(
        after < before + 100,
        "timers left behind: {before} before, {during} during, {after} after"
    );
}

#[test]
fn drop_guard_is_defer_cancel() {
    let t = CancelToken::new();
    let guard = t.clone().drop_guard();
    assert!(!t.is_cancelled());
    drop(guard);
    assert!(t.is_cancelled());
    let t2 = CancelToken::new();
    let _ = t2.clone().drop_guard().disarm();
    assert!(!t2.is_cancelled());
}

#[goro::test]
async fn cancellation_stops_a_select_loop_in_a_task() {
    let stop = CancelToken::new();
    let (tx, rx) = goro::chan::unbounded::<u32>();
    let worker = goro::go({
        let stop = stop.clone();
        async move {
            let mut n = 0;
            loop {
                goro::select! {
                    v = rx.recv() => n += v.unwrap(),
                    _ = stop.cancelled() => return n,
                }
            }
        }
    });
    tx.send(5).await.unwrap();
    while !tx.is_empty() {
        goro::yield_now().await;
    }
    stop.cancel();
    assert_eq!(worker.await.unwrap(), 5);
}
