//! `goro::spawn_pinned` / `goro::LockedThread`: Go's `runtime.LockOSThread`.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use goro::LockedThread;

/// Sends on a channel when the thread that owns it exits: thread-local
/// destructors run at thread exit.
struct ExitSignal(mpsc::Sender<ThreadId>);

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let _ = self.0.send(thread::current().id());
    }
}

thread_local! {
    static ON_EXIT: RefCell<Option<ExitSignal>> = const { RefCell::new(None) };
}

fn watch_this_thread_exit(tx: mpsc::Sender<ThreadId>) {
    ON_EXIT.with(|s| *s.borrow_mut() = Some(ExitSignal(tx)));
}

#[test]
fn pinned_tasks_share_one_thread_that_no_worker_uses() {
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    let worker_ids: HashSet<ThreadId> = rt.block_on(async {
        let hs: Vec<_> = (0..64)
            .map(|_| {
                goro::go(async {
                    goro::yield_now().await;
                    thread::current().id()
                })
            })
            .collect();
        let mut ids = HashSet::new();
        for h in hs {
            ids.insert(h.await.unwrap());
        }
        ids
    });
    assert!(!worker_ids.is_empty());

    let locked = LockedThread::new().unwrap();
    let pinned_ids: HashSet<ThreadId> = rt.block_on(async {
        let hs: Vec<_> = (0..32)
            .map(|_| {
                locked.spawn(|| async {
                    let before = thread::current().id();
                    // Ordinary tasks run in between; the pinned one stays put.
                    goro::go(async {}).await.unwrap();
                    goro::yield_now().await;
                    assert_eq!(thread::current().id(), before);
                    before
                })
            })
            .collect();
        let mut ids = HashSet::new();
        for h in hs {
            ids.insert(h.await.unwrap());
        }
        ids
    });
    assert_eq!(pinned_ids.len(), 1, "all pinned tasks on one thread");
    let pinned = *pinned_ids.iter().next().unwrap();
    assert_eq!(pinned, locked.thread().id());
    assert!(!worker_ids.contains(&pinned));
    assert_ne!(pinned, thread::current().id());
}

#[test]
fn spawn_pinned_thread_exits_after_its_task() {
    let (exit_tx, exit_rx) = mpsc::channel();
    let (release_tx, release_rx) = goro::chan::bounded::<()>(1);
    let h = goro::spawn_pinned(move || async move {
        watch_this_thread_exit(exit_tx);
        let _ = release_rx.recv().await;
        thread::current().id()
    });
    // Still running: the thread must not have exited.
    assert!(exit_rx.recv_timeout(Duration::from_millis(50)).is_err());
    drop(release_tx);
    let ran_on = goro::block_on(h).unwrap();
    let exited = exit_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the locked thread exits after its last task");
    assert_eq!(exited, ran_on);
}

#[test]
fn locked_thread_lives_while_a_handle_or_a_task_does() {
    let (exit_tx, exit_rx) = mpsc::channel();
    let t = LockedThread::new().unwrap();
    goro::block_on(t.spawn(move || async move { watch_this_thread_exit(exit_tx) })).unwrap();
    // No task left, but the handle may still spawn: the thread stays.
    assert!(exit_rx.recv_timeout(Duration::from_millis(50)).is_err());

    let (release_tx, release_rx) = goro::chan::bounded::<()>(1);
    let last = t.spawn(move || async move {
        let _ = release_rx.recv().await;
    });
    drop(t);
    // The handle is gone, but a task still runs: the thread stays.
    assert!(exit_rx.recv_timeout(Duration::from_millis(50)).is_err());
    drop(release_tx);
    goro::block_on(last).unwrap();
    exit_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("exits once both the handles and the tasks are gone");
}

#[test]
fn not_send_state_lives_across_awaits() {
    let t = LockedThread::new().unwrap();
    let h = t.spawn(|| async {
        let shared = Rc::new(RefCell::new(Vec::new()));
        for i in 0..5 {
            shared.borrow_mut().push(i);
            goro::yield_now().await;
        }
        Rc::try_unwrap(shared).unwrap().into_inner()
    });
    assert_eq!(goro::block_on(h).unwrap(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn a_panic_reaches_the_handle_and_the_thread_survives() {
    let t = LockedThread::new().unwrap();
    let err = goro::block_on(t.spawn(|| async { panic!("pinned boom") })).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("pinned boom"));
    let after = goro::block_on(t.spawn(|| async { 7 })).unwrap();
    assert_eq!(after, 7);
}

#[test]
fn a_dropped_handle_detaches_the_task() {
    let t = LockedThread::new().unwrap();
    let (tx, rx) = mpsc::channel();
    drop(t.spawn(move || async move {
        goro::yield_now().await;
        tx.send("still ran").unwrap();
    }));
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        "still ran"
    );
}

#[goro::test]
async fn pinned_handles_can_be_awaited_from_tasks() {
    let h = goro::go(async { goro::spawn_pinned(|| async { 40 + 2 }).await.unwrap() });
    assert_eq!(h.await.unwrap(), 42);
}
