//! Spawning and joining: outputs arrive, ids and locations are recorded.

use goro_executor::{Handle, Runtime, spawn};

#[test]
fn spawn_inside_block_on_and_join() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let out = rt.block_on(async {
        let hs: Vec<_> = (0..100u32).map(|i| spawn(async move { i * 2 })).collect();
        let mut v = Vec::new();
        for h in hs {
            v.push(h.await.unwrap());
        }
        v
    });
    assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
}

#[test]
fn spawn_from_outside_and_from_other_threads() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let h = rt.spawn(async { 5 });
    assert_eq!(rt.block_on(h).unwrap(), 5);
    let handle = rt.handle().clone();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                let hs: Vec<_> = (0..1000)
                    .map(|i| handle.spawn(async move { t * 1000 + i }))
                    .collect();
                handle.block_on(async {
                    let mut sum = 0;
                    for h in hs {
                        sum += h.await.unwrap();
                    }
                    sum
                })
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(total, (0..4000).sum::<usize>());
}

#[test]
fn spawn_records_location_and_unique_ids() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let line = line!() + 1;
    let a = rt.spawn(async {});
    let b = rt.spawn(async {});
    assert_ne!(a.id(), b.id());
    assert_eq!(a.location().file(), file!());
    assert_eq!(a.location().line(), line);
    let inner_loc = rt.block_on(async { spawn(async {}).location().line() });
    assert_eq!(inner_loc, line!() - 1);
}

#[test]
fn current_handle_inside_tasks() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    assert!(Handle::try_current().is_none());
    let n = rt.block_on(async { spawn(async { Handle::current().maxprocs() }).await.unwrap() });
    assert_eq!(n, 2);
}

#[test]
#[should_panic(expected = "outside a goro runtime")]
fn spawn_outside_runtime_panics_with_clear_message() {
    drop(spawn(async {}));
}

#[test]
fn builder_rejects_zero_maxprocs() {
    let err = Runtime::builder().maxprocs(0).build().unwrap_err();
    assert!(err.to_string().contains("maxprocs must be from 1"), "{err}");
}

#[test]
fn thread_callbacks_and_names() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let (s1, s2) = (started.clone(), stopped.clone());
    let rt = Runtime::builder()
        .maxprocs(3)
        .thread_name(|i| format!("custom-{i}"))
        .on_thread_start(move || {
            s1.fetch_add(1, SeqCst);
        })
        .on_thread_stop(move || {
            s2.fetch_add(1, SeqCst);
        })
        .build()
        .unwrap();
    let name = rt
        .block_on(rt.spawn(async { std::thread::current().name().unwrap().to_string() }))
        .unwrap();
    assert!(name.starts_with("custom-"), "{name}");
    drop(rt);
    assert_eq!(started.load(SeqCst), 3);
    assert_eq!(stopped.load(SeqCst), 3);
}

#[test]
#[should_panic(expected = "block_on called from a worker thread")]
fn block_on_inside_a_task_is_refused() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let h = rt.spawn(async {
        let inner = Runtime::builder().maxprocs(1).build().unwrap();
        inner.block_on(async {});
    });
    if let Err(e) = rt.block_on(h) {
        std::panic::resume_unwind(e.try_into_panic().unwrap());
    }
}

#[test]
fn join_handle_is_small() {
    // A FallibleTask pointer, a metadata pointer and a flag.
    assert!(std::mem::size_of::<goro_executor::JoinHandle<u64>>() <= 24);
}

#[test]
fn num_tasks_counts_live_tasks_exactly() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let (tx, rx) = async_channel::bounded::<()>(1);
    let base = rt.handle().num_tasks();
    let hs: Vec<_> = (0..500)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move {
                let _ = rx.recv().await;
            })
        })
        .collect();
    assert_eq!(rt.handle().num_tasks(), base + 500);
    drop(tx); // closes the channel: every task finishes
    for h in hs {
        rt.block_on(h).unwrap();
    }
    assert_eq!(rt.handle().num_tasks(), base);
}
