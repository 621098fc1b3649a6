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
//! `spawn N`: a task spawns N empty detached tasks (spawn from a worker,
//! run, free). `remote N`: the main thread spawns N empty tasks and awaits
//! each handle (spawn from outside). `chained N`: a chain of N tasks, each
//! spawning the next. `pingpong N`: `ping_pong`'s pair N times: a task
//! spawns a pong, sends it a `goro::sync::oneshot`, waits for the reply on
//! another (two spawns, two sends, two waits per element).
//!
//! `smol-spawn`, `smol-remote`, `smol-chained`: the same shapes on smol's
//! `StaticExecutor` run by one thread, for comparison (no goro runtime is
//! built for them).
//!
//! `bare-spawn`, `bare-remote`, `bare-chained`: the same shapes, with the
//! same payloads as the smol ones, on the least executor `async-task`
//! allows: one thread, a thread-local `VecDeque` of runnables, no
//! bookkeeping. What they cost is async-task's own work, the allocator and
//! the payload: the floor under any executor built on async-task.

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: poll_cost [smol-|bare-]SHAPE N (see the module docs)";
    let shape = args.next().expect(usage);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).expect(usage);
    if let Some(shape) = shape.strip_prefix("smol-") {
        smol_static(shape, n);
        return;
    }
    if let Some(shape) = shape.strip_prefix("bare-") {
        bare(shape, n);
        return;
    }
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
        "spawn" => rt.block_on(async move {
            goro::go(async move {
                let (tx, rx) = goro::sync::oneshot::channel();
                let left = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(n));
                let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
                for _ in 0..n {
                    let (left, tx) = (left.clone(), tx.clone());
                    drop(goro::go(async move {
                        if left.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
                            let tx = tx.lock().unwrap().take().unwrap();
                            tx.send(()).unwrap();
                        }
                    }));
                }
                rx.await.unwrap();
            })
            .await
            .unwrap();
        }),
        "remote" => {
            let handles: Vec<_> = (0..n).map(|_| rt.spawn(async {})).collect();
            rt.block_on(async move {
                for h in handles {
                    h.await.unwrap();
                }
            });
        }
        "chained" => rt.block_on(async move {
            fn link(n: u64, done: goro::sync::oneshot::Sender<()>) {
                if n == 0 {
                    done.send(()).unwrap();
                } else {
                    drop(goro::go(async move { link(n - 1, done) }));
                }
            }
            let (tx, rx) = goro::sync::oneshot::channel();
            link(n, tx);
            rx.await.unwrap();
        }),
        "pingpong" => rt.block_on(async move {
            goro::go(async move {
                for _ in 0..n {
                    let (ping_tx, ping_rx) = goro::sync::oneshot::channel::<()>();
                    let (pong_tx, pong_rx) = goro::sync::oneshot::channel::<()>();
                    drop(goro::go(async move {
                        ping_rx.await.unwrap();
                        pong_tx.send(()).unwrap();
                    }));
                    ping_tx.send(()).unwrap();
                    pong_rx.await.unwrap();
                }
            })
            .await
            .unwrap();
        }),
        other => panic!("{usage}: got {other}"),
    }
}

/// The spawn shapes on smol's `StaticExecutor` with one worker thread.
fn smol_static(shape: &str, n: u64) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let ex: &'static async_executor::StaticExecutor = async_executor::Executor::new().leak();
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    let worker = std::thread::spawn(move || {
        futures_lite::future::block_on(ex.run(async move {
            let _ = stop_rx.recv().await;
        }));
    });
    match shape {
        "spawn" => {
            let (tx, rx) = async_channel::bounded::<()>(1);
            ex.spawn(async move {
                let left = std::sync::Arc::new(AtomicU64::new(n));
                for _ in 0..n {
                    let (left, tx) = (left.clone(), tx.clone());
                    ex.spawn(async move {
                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                            tx.try_send(()).unwrap();
                        }
                    })
                    .detach();
                }
            })
            .detach();
            futures_lite::future::block_on(rx.recv()).unwrap();
        }
        "remote" => {
            let handles: Vec<_> = (0..n).map(|_| ex.spawn(async {})).collect();
            futures_lite::future::block_on(async move {
                for h in handles {
                    h.await;
                }
            });
        }
        "chained" => {
            fn link(
                ex: &'static async_executor::StaticExecutor,
                n: u64,
                done: async_channel::Sender<()>,
            ) {
                if n == 0 {
                    done.try_send(()).unwrap();
                } else {
                    ex.spawn(async move { link(ex, n - 1, done) }).detach();
                }
            }
            let (tx, rx) = async_channel::bounded::<()>(1);
            link(ex, n, tx);
            futures_lite::future::block_on(rx.recv()).unwrap();
        }
        other => panic!("unknown smol shape {other}"),
    }
    drop(stop_tx);
    worker.join().unwrap();
}

/// The spawn shapes on a one-thread async-task executor with nothing but a
/// thread-local queue (see the module docs), with smol_static's payloads.
fn bare(shape: &str, n: u64) {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicU64, Ordering};
    thread_local! {
        static QUEUE: RefCell<VecDeque<async_task::Runnable>> =
            const { RefCell::new(VecDeque::new()) };
    }
    fn spawn<F>(future: F) -> async_task::Task<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, task) =
            async_task::spawn(future, |r| QUEUE.with(|q| q.borrow_mut().push_back(r)));
        runnable.schedule();
        task
    }
    fn run() {
        while let Some(r) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
            r.run();
        }
    }
    match shape {
        "spawn" => {
            let (tx, rx) = async_channel::bounded::<()>(1);
            spawn(async move {
                let left = std::sync::Arc::new(AtomicU64::new(n));
                for _ in 0..n {
                    let (left, tx) = (left.clone(), tx.clone());
                    spawn(async move {
                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                            tx.try_send(()).unwrap();
                        }
                    })
                    .detach();
                }
            })
            .detach();
            run();
            rx.try_recv().unwrap();
        }
        "remote" => {
            let handles: Vec<_> = (0..n).map(|_| spawn(async {})).collect();
            run();
            futures_lite::future::block_on(async move {
                for h in handles {
                    h.await;
                }
            });
        }
        "chained" => {
            fn link(n: u64, done: async_channel::Sender<()>) {
                if n == 0 {
                    done.try_send(()).unwrap();
                } else {
                    spawn(async move { link(n - 1, done) }).detach();
                }
            }
            let (tx, rx) = async_channel::bounded::<()>(1);
            link(n, tx);
            run();
            rx.try_recv().unwrap();
        }
        other => panic!("unknown bare shape {other}"),
    }
}
