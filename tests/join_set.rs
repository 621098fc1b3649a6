//! `goro::JoinSet`: results in the order tasks finish, errors as
//! `JoinError`, abort on `abort_all` and on drop (checked with drop
//! counters), and no lost result when `join_next` is cancelled.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use goro::JoinSet;
use goro::time::{sleep, timeout};

/// Generous: never reached by a working runtime, even under valgrind.
const PATIENCE: Duration = Duration::from_secs(20);

/// Counts its drops: proves a task's future was really dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[goro::test(maxprocs = 2)]
async fn ten_thousand_results_all_arrive_once() {
    let mut set = JoinSet::new();
    for i in 0..10_000u64 {
        set.spawn(async move {
            if i % 7 == 0 {
                goro::yield_now().await;
            }
            i
        });
    }
    assert_eq!(set.len(), 10_000);
    let mut seen = vec![false; 10_000];
    while let Some(r) = set.join_next().await {
        let i = r.unwrap() as usize;
        assert!(!seen[i], "result {i} returned twice");
        seen[i] = true;
    }
    assert!(seen.iter().all(|&s| s), "a result is missing");
    assert!(set.is_empty());
    assert!(set.join_next().await.is_none(), "empty set: None at once");
}

#[goro::test(maxprocs = 2)]
async fn results_come_in_the_order_tasks_finish() {
    let mut set = JoinSet::new();
    for (name, ms) in [("slow", 300), ("fast", 0), ("middle", 100)] {
        set.spawn(async move {
            sleep(Duration::from_millis(ms)).await;
            name
        });
    }
    let mut got = Vec::new();
    while let Some(r) = set.join_next().await {
        got.push(r.unwrap());
    }
    assert_eq!(got, ["fast", "middle", "slow"]);
}

#[goro::test]
async fn a_panic_is_a_join_error_and_the_set_carries_on() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("job exploded") });
    set.spawn(async { 1 });
    let (mut panics, mut values) = (0, 0);
    while let Some(r) = set.join_next().await {
        match r {
            Ok(v) => values += v,
            Err(e) => {
                assert!(e.is_panic());
                assert_eq!(e.panic_message(), Some("job exploded"));
                panics += 1;
            }
        }
    }
    assert_eq!((panics, values), (1, 1));
}

#[goro::test(maxprocs = 2)]
async fn abort_all_cancels_and_drops_every_unfinished_task() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..50 {
        let d = DropCounter(drops.clone());
        set.spawn(async move {
            let _d = d;
            std::future::pending::<()>().await
        });
    }
    set.spawn(async {}); // finishes: its result is still returned
    sleep(Duration::from_millis(20)).await;
    set.abort_all();
    let (mut cancelled, mut ok) = (0, 0);
    while let Some(r) = timeout(PATIENCE, set.join_next()).await.expect("stuck") {
        match r {
            Ok(()) => ok += 1,
            Err(e) => {
                assert!(e.is_cancelled(), "{e}");
                cancelled += 1;
            }
        }
    }
    assert_eq!((cancelled, ok), (50, 1));
    assert_eq!(drops.load(SeqCst), 50);
}

#[goro::test(maxprocs = 2)]
async fn dropping_the_set_aborts_its_tasks() {
    let drops = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..20 {
        let d = DropCounter(drops.clone());
        let started = started.clone();
        set.spawn(async move {
            let _d = d;
            started.fetch_add(1, SeqCst);
            std::future::pending::<()>().await
        });
    }
    while started.load(SeqCst) < 20 {
        sleep(Duration::from_millis(1)).await;
    }
    drop(set);
    timeout(PATIENCE, async {
        while drops.load(SeqCst) < 20 {
            sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("tasks still alive after the set was dropped");
}

#[goro::test(maxprocs = 2)]
async fn a_cancelled_join_next_loses_no_result() {
    let mut set = JoinSet::new();
    set.spawn(async {
        sleep(Duration::from_millis(50)).await;
        "late"
    });
    // Give up on the first wait, before the task is done...
    assert!(
        timeout(Duration::from_millis(1), set.join_next())
            .await
            .is_err()
    );
    assert_eq!(set.len(), 1);
    // ...and the result is still there.
    let r = timeout(PATIENCE, set.join_next())
        .await
        .expect("result lost");
    assert_eq!(r.unwrap().unwrap(), "late");
}

#[goro::test]
async fn ids_try_join_next_insert_and_shutdown() {
    let mut set = JoinSet::new();
    let a = set.spawn(async { 'a' });
    let b = set.insert(goro::go(async { 'b' }));
    assert_ne!(a, b);
    let mut got = Vec::new();
    while let Some(r) = set.join_next_with_id().await {
        got.push(r.unwrap());
    }
    got.sort();
    assert_eq!(got, [(a, 'a'), (b, 'b')]);

    set.spawn(std::future::pending());
    assert!(set.try_join_next().is_none(), "nothing has finished");
    set.shutdown().await;
    assert!(set.is_empty());
}
