//! Live resizes (`Handle::set_maxprocs`): workers added and retired while
//! tasks run, queued tasks moved off retired workers, nothing lost.

use std::collections::HashSet;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goro_executor::{Runtime, current_proc};
use goro_testkit::stress::scaled;
use goro_testkit::threads::LiveThreads;
use goro_testkit::wait_until;

/// `n` tasks that each hold their worker until all `n` run at once: this
/// completes only with at least `n` workers. Returns the Ps they ran on.
fn run_in_parallel(rt: &Runtime, n: usize) -> HashSet<usize> {
    let arrived = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let arrived = arrived.clone();
            rt.spawn(async move {
                arrived.fetch_add(1, SeqCst);
                let deadline = Instant::now() + Duration::from_secs(60);
                while arrived.load(SeqCst) < n {
                    assert!(Instant::now() < deadline, "fewer than {n} workers run");
                    std::hint::spin_loop();
                }
                current_proc().expect("on a worker")
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| rt.block_on(h).unwrap())
        .collect()
}

fn runtime(n: usize) -> Runtime {
    Runtime::builder()
        .maxprocs(n)
        // The tasks above spin on purpose: no retakes.
        .retake_after(Duration::ZERO)
        .build()
        .unwrap()
}

#[test]
fn growing_adds_workers_that_run_tasks_in_parallel() {
    let rt = runtime(1);
    assert_eq!(rt.handle().set_maxprocs(4), 1);
    assert_eq!(rt.maxprocs(), 4);
    assert_eq!(rt.handle().stats().local_queues.len(), 4);
    let ps = run_in_parallel(&rt, 4);
    assert_eq!(ps, (0..4).collect(), "four distinct Ps ran");
    // Past the first segment of the P table, too.
    assert_eq!(rt.handle().set_maxprocs(9), 4);
    let ps = run_in_parallel(&rt, 9);
    assert_eq!(ps.len(), 9);
}

#[test]
fn shrinking_retires_workers_and_later_tasks_run_on_the_rest() {
    let rt = runtime(4);
    let _ = run_in_parallel(&rt, 4);
    assert_eq!(rt.handle().set_maxprocs(1), 4);
    assert_eq!(rt.maxprocs(), 1);
    assert_eq!(rt.handle().stats().local_queues.len(), 1);
    // A retired worker may finish what it already took; soon every task
    // runs on P 0.
    wait_until("every task runs on P 0", || {
        let hs: Vec<_> = (0..100)
            .map(|_| rt.spawn(async { current_proc() }))
            .collect();
        hs.into_iter().all(|h| rt.block_on(h).unwrap() == Some(0))
    });
}

#[test]
fn sleeping_workers_wake_to_retire() {
    let rt = runtime(4);
    wait_until("all 4 workers sleep", || {
        rt.handle().stats().idle_workers == 4
    });
    rt.handle().set_maxprocs(2);
    // Retired workers leave the sleeper list (they wait as spare threads
    // now), without any task being spawned to wake them.
    wait_until("2 workers sleep", || {
        let s = rt.handle().stats();
        s.idle_workers == 2 && s.spinning_workers == 0
    });
    assert_eq!(run_in_parallel(&rt, 2), (0..2).collect());
}

/// The point: tasks queued on a retired worker move to the global
/// queue and run on the workers left.
#[test]
fn tasks_queued_on_a_retired_worker_move_to_the_global_queue() {
    const CHILDREN: usize = 200;
    let rt = runtime(2);
    let release = Arc::new(AtomicBool::new(false));
    let held = Arc::new(AtomicBool::new(false));
    let spawned = Arc::new(AtomicBool::new(false));
    let ran_on: Arc<Mutex<Vec<usize>>> = Arc::default();
    // Two tasks, one per P. The one on P 1 queues children on its own P and
    // retires it; the one on P 0 holds P 0 so nobody can steal them first.
    let roles: Vec<_> = (0..2)
        .map(|_| {
            let (release, held, spawned, ran_on) = (
                release.clone(),
                held.clone(),
                spawned.clone(),
                ran_on.clone(),
            );
            let handle = rt.handle().clone();
            rt.spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(60);
                if current_proc() == Some(1) {
                    // Only once P 0 is held: an idle P 0 would steal.
                    while !held.load(SeqCst) {
                        assert!(Instant::now() < deadline, "P 0 never held");
                        std::hint::spin_loop();
                    }
                    for _ in 0..CHILDREN {
                        let ran_on = ran_on.clone();
                        drop(goro_executor::spawn(async move {
                            ran_on.lock().unwrap().push(current_proc().unwrap());
                        }));
                    }
                    assert_eq!(handle.set_maxprocs(1), 2);
                    spawned.store(true, SeqCst);
                } else {
                    held.store(true, SeqCst);
                    while !release.load(SeqCst) {
                        assert!(Instant::now() < deadline, "never released");
                        std::hint::spin_loop();
                    }
                }
            })
        })
        .collect();
    wait_until("the children are spawned", || spawned.load(SeqCst));
    // P 1 retires after its task (and at most the `runnext` chain), moving
    // the rest to the global queue while P 0 is still held.
    wait_until("the children reach the global queue", || {
        rt.handle().stats().global_queue >= CHILDREN - 4
    });
    release.store(true, SeqCst);
    for h in roles {
        rt.block_on(h).unwrap();
    }
    wait_until("every child ran", || {
        ran_on.lock().unwrap().len() == CHILDREN
    });
    let on_p1 = ran_on.lock().unwrap().iter().filter(|&&p| p == 1).count();
    assert!(on_p1 <= 4, "{on_p1} children ran on the retired P");
}

/// Resizes every millisecond between 1 and 6 workers while tasks wake each
/// other in pairs (2.4 million wakeups) and thousands of tasks yield, so
/// queues are full and stolen from: no task is lost or run twice, and
/// nothing deadlocks.
#[test]
fn stress_resizing_under_a_wakeup_storm() {
    let pairs = 8;
    let rounds = scaled(150_000);
    let rt = runtime(2);
    let stop = Arc::new(AtomicBool::new(false));
    let resizer = {
        let (handle, stop) = (rt.handle().clone(), stop.clone());
        std::thread::spawn(move || {
            let mut x = 12345u64;
            let mut resizes = 0;
            while !stop.load(SeqCst) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                handle.set_maxprocs(1 + (x % 6) as usize);
                resizes += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            resizes
        })
    };
    let total = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..pairs)
        .map(|_| {
            let total = total.clone();
            rt.spawn(async move {
                let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
                let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
                let echo = goro_executor::spawn(async move {
                    while let Ok(v) = ping_rx.recv().await {
                        pong_tx.send(v + 1).await.unwrap();
                    }
                });
                for i in 0..rounds {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await.unwrap(), i + 1);
                    total.fetch_add(2, SeqCst);
                }
                drop(ping_tx);
                echo.await.unwrap();
            })
        })
        .collect();
    let yields = Arc::new(AtomicUsize::new(0));
    let yielders: Vec<_> = (0..scaled(2_000))
        .map(|_| {
            let yields = yields.clone();
            rt.spawn(async move {
                for _ in 0..50 {
                    goro_executor::yield_now().await;
                    yields.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    for h in handles.into_iter().chain(yielders) {
        rt.block_on(h).unwrap();
    }
    stop.store(true, SeqCst);
    assert_eq!(yields.load(SeqCst), scaled(2_000) * 50);
    let resizes = resizer.join().unwrap();
    assert_eq!(total.load(SeqCst), pairs * rounds * 2);
    assert!(resizes > 0);
    wait_until("no task is left", || rt.handle().num_tasks() == 0);
    eprintln!("{} wakeups across {resizes} resizes", pairs * rounds * 2);
}

#[test]
fn set_maxprocs_zero_only_asks_and_each_set_returns_the_old_value() {
    let rt = runtime(2);
    assert_eq!(rt.handle().set_maxprocs(0), 2);
    assert_eq!(rt.maxprocs(), 2);
    assert!(
        !rt.handle().maxprocs_is_automatic(),
        "built with maxprocs(2)"
    );
    assert_eq!(rt.handle().set_maxprocs(3), 2);
    assert_eq!(rt.handle().set_maxprocs(2), 3);
}

#[test]
fn set_default_maxprocs_turns_automatic_updates_on() {
    let rt = runtime(1);
    let want = goro_procs::detect_with(std::path::Path::new("/"), None)
        .unwrap()
        .n;
    assert_eq!(rt.handle().set_default_maxprocs(), want);
    assert_eq!(rt.maxprocs(), want);
    assert!(rt.handle().maxprocs_is_automatic());
    rt.handle().set_maxprocs(1);
    assert!(
        !rt.handle().maxprocs_is_automatic(),
        "an explicit set turns updates off"
    );
}

/// After shrinking and growing, the task running across the resizes
/// completes, the runtime has the last count of workers, and dropping it
/// stops every thread it started (workers retired and added alike) and
/// drops every task, including one parked forever.
#[test]
fn a_runtime_shrunk_and_grown_again_shuts_down_cleanly() {
    struct Dropped(Arc<AtomicUsize>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    for _ in 0..20 {
        let alive = LiveThreads::new();
        let builder = Runtime::builder()
            .maxprocs(3)
            .retake_after(Duration::ZERO)
            .on_thread_start(alive.on_start())
            .on_thread_stop(alive.on_stop());
        let rt = builder.build().unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        let parked = Dropped(dropped.clone());
        let _parked = rt.spawn(async move {
            let _parked = parked;
            std::future::pending::<()>().await
        });
        let h = rt.spawn(async {
            let mut yields = 0;
            for _ in 0..100 {
                goro_executor::yield_now().await;
                yields += 1;
            }
            yields
        });
        rt.handle().set_maxprocs(1);
        rt.handle().set_maxprocs(5);
        rt.handle().set_maxprocs(2);
        assert_eq!(rt.block_on(h).unwrap(), 100);
        assert_eq!(rt.maxprocs(), 2);
        assert_eq!(rt.handle().stats().local_queues.len(), 2);
        drop(rt);
        assert_eq!(alive.get(), 0, "a thread outlived the runtime");
        assert_eq!(dropped.load(SeqCst), 1, "the parked task was not dropped");
    }
}
