//! Scheduling policy: runnext, yield to the tail, the runnext chain cap, the
//! global queue's fairness check, and runnext being stealable.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goro_executor::{Runtime, spawn, yield_now};

/// How long a test waits for what must happen before it calls it broken.
const GIVE_UP: Duration = Duration::from_secs(60);

#[test]
fn last_spawned_runs_first_then_fifo() {
    // One worker: the spawner's children go to runnext (newest) and the tail.
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    rt.block_on(rt.spawn(async move {
        let hs: Vec<_> = (1..=4)
            .map(|i| {
                let o = o.clone();
                spawn(async move { o.lock().unwrap().push(i) })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    }))
    .unwrap();
    assert_eq!(*order.lock().unwrap(), vec![4, 1, 2, 3]);
}

#[test]
fn yield_goes_behind_queued_tasks() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    rt.block_on(rt.spawn(async move {
        let o2 = o.clone();
        let a = spawn(async move { o2.lock().unwrap().push("a") });
        let o3 = o.clone();
        let b = spawn(async move { o3.lock().unwrap().push("b") });
        yield_now().await;
        o.lock().unwrap().push("parent");
        a.await.unwrap();
        b.await.unwrap();
    }))
    .unwrap();
    assert_eq!(*order.lock().unwrap(), vec!["b", "a", "parent"]);
}

#[test]
fn ping_pong_pair_cannot_starve_a_queued_task() {
    // Two tasks waking each other keep refilling runnext; the chain cap must
    // let a task waiting in the ring run. Without the cap the pair would
    // only stop at its own limit of CAP rounds.
    const CAP: u32 = 100_000;
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (rounds, stopped_by_flag) = rt
        .block_on(rt.spawn({
            let stop = stop.clone();
            async move {
                let (a_tx, a_rx) = async_channel::bounded::<()>(1);
                let (b_tx, b_rx) = async_channel::bounded::<()>(1);
                let s1 = stop.clone();
                let a = spawn(async move {
                    let mut rounds = 0;
                    while !s1.load(SeqCst) && rounds < CAP {
                        rounds += 1;
                        a_tx.send(()).await.unwrap();
                        b_rx.recv().await.unwrap();
                    }
                    (rounds, s1.load(SeqCst))
                });
                let b = spawn(async move {
                    while let Ok(()) = a_rx.recv().await {
                        if b_tx.send(()).await.is_err() {
                            break;
                        }
                    }
                });
                // Spawn order leaves the ring as [a, b, flag] and this
                // no-op in runnext, so the pair starts before the flag.
                let s2 = stop.clone();
                let flag = spawn(async move { s2.store(true, SeqCst) });
                let noop = spawn(async {});
                noop.await.unwrap();
                flag.await.unwrap();
                let out = a.await.unwrap();
                b.await.unwrap();
                out
            }
        }))
        .unwrap();
    println!("the queued task ran after {rounds} ping-pong rounds");
    assert!(
        stopped_by_flag && rounds < CAP,
        "the queued task waited for all {rounds} rounds of the pair"
    );
    assert!(rounds >= 1, "the pair never ran before the queued task");
}

#[test]
fn global_queue_is_not_starved_by_a_busy_local_queue() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Keep the worker's ring permanently non-empty.
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                while !stop.load(SeqCst) {
                    yield_now().await;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    // From outside: goes to the global queue.
    let s = stop.clone();
    let start = Instant::now();
    let h = rt.spawn(async move { s.store(true, SeqCst) });
    rt.block_on(h).unwrap();
    for s in spinners {
        rt.block_on(s).unwrap();
    }
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn runnext_is_stolen_from_a_worker_stuck_in_a_long_poll() {
    // No retake, which would also free the runnext task: only stealing can.
    let rt = Runtime::builder()
        .maxprocs(2)
        .retake_after(Duration::ZERO)
        .build()
        .unwrap();
    let ran_while_stuck = rt
        .block_on(rt.spawn(async {
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let child = spawn(async move { r.store(true, SeqCst) });
            // Block this worker without yielding until the child has run;
            // `child` sits in its runnext, so another worker must take it.
            let start = Instant::now();
            while !ran.load(SeqCst) && start.elapsed() < GIVE_UP {
                std::hint::spin_loop();
            }
            let ran_while_stuck = ran.load(SeqCst);
            child.await.unwrap();
            ran_while_stuck
        }))
        .unwrap();
    assert!(
        ran_while_stuck,
        "the child waited {GIVE_UP:?} in the runnext of a worker stuck in a poll"
    );
}

#[test]
fn all_workers_take_part() {
    // Rounds of 100 tasks of 1 ms until both workers (Ps, by index) have
    // run some: on a loaded machine the second may not get the CPU during
    // one round; one that never takes part never does.
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let start = Instant::now();
    let mut ids = std::collections::HashSet::new();
    while ids.len() < 2 && start.elapsed() < GIVE_UP {
        ids.extend(rt.block_on(async {
            let hs: Vec<_> = (0..100)
                .map(|_| {
                    spawn(async {
                        std::thread::sleep(Duration::from_millis(1));
                        goro_executor::current_proc().expect("on a worker")
                    })
                })
                .collect();
            let mut ids = Vec::new();
            for h in hs {
                ids.push(h.await.unwrap());
            }
            ids
        }));
    }
    assert_eq!(ids.len(), 2, "Ps that ran the tasks: {ids:?}");
}

#[test]
fn yielding_tasks_let_the_global_queue_in() {
    // Every worker runs a task that yields in a loop with a 100us stall, so
    // the rings never empty. 2,000 tasks spawned from outside must still
    // get through quickly, not one per 61 ticks per worker: that would take
    // 2,000 * 61 = 122,000 ticks of the busy tasks (~6 s). Counting ticks
    // instead of time keeps that floor whatever the machine's load.
    const BROKEN_TICKS: usize = 2_000 * 61;
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let ticks = Arc::new(AtomicUsize::new(0));
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            let ticks = ticks.clone();
            rt.spawn(async move {
                while !stop.load(SeqCst) {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(100) {}
                    ticks.fetch_add(1, SeqCst);
                    yield_now().await;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(10));
    let start = Instant::now();
    let ticks_before = ticks.load(SeqCst);
    let hs: Vec<_> = (0..2_000).map(|i| rt.spawn(async move { i })).collect();
    let sum: usize = hs.into_iter().map(|h| rt.block_on(h).unwrap()).sum();
    let took = start.elapsed();
    let ticked = ticks.load(SeqCst) - ticks_before;
    stop.store(true, SeqCst);
    for b in busy {
        rt.block_on(b).unwrap();
    }
    assert_eq!(sum, (0..2_000).sum::<usize>());
    println!("2,000 remote spawns: {took:?}, {ticked} ticks of the busy tasks");
    if goro_testkit::stress::under_valgrind() {
        return; // the tick count follows the wall clock; see under_valgrind
    }
    assert!(
        ticked < BROKEN_TICKS / 2,
        "2,000 remote spawns took {ticked} ticks of the busy tasks ({took:?}); \
         one per 61 ticks would be {BROKEN_TICKS}"
    );
}
