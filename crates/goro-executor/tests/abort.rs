//! `JoinHandle::abort`, `is_finished` and detaching.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use goro_executor::Runtime;

struct SetOnDrop(Arc<AtomicBool>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn abort_drops_a_pending_future() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(dropped.clone());
    let h = rt.spawn(async move {
        let _g = guard;
        std::future::pending::<()>().await
    });
    assert!(!h.is_finished());
    h.abort();
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    assert!(dropped.load(SeqCst));
}

#[test]
fn abort_after_completion_keeps_output() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    let h = rt.spawn(async { 9 });
    while !h.is_finished() {
        std::thread::yield_now();
    }
    h.abort();
    assert_eq!(rt.block_on(h).unwrap(), 9);
}

#[test]
fn dropping_the_handle_detaches_not_cancels() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    drop(rt.spawn(async move {
        for _ in 0..10 {
            goro_executor::yield_now().await;
        }
        tx.send(42).unwrap();
    }));
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap(),
        42
    );
}

#[test]
fn abort_from_another_task_while_running() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(dropped.clone());
    let looping = rt.spawn(async move {
        let _g = guard;
        loop {
            goro_executor::yield_now().await;
        }
    });
    let err = rt.block_on(async move {
        looping.abort();
        looping.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    assert!(dropped.load(SeqCst));
}
