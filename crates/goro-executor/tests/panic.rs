//! A panicking task reports through its handle and never kills a worker.

use goro_executor::{Runtime, spawn};

#[test]
fn panic_reaches_handle_with_payload_and_location() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let seven = std::hint::black_box(7);
    let h = rt.spawn(async move { panic!("boom {seven}") });
    let id = h.id();
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert_eq!(err.id(), id);
    assert_eq!(err.panic_message(), Some("boom 7"));
    assert_eq!(err.location().file(), file!());
    let msg = err.to_string();
    assert!(
        msg.contains("panicked: boom 7") && msg.contains(file!()),
        "{msg}"
    );
    let payload = err.try_into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "boom 7");
}

#[test]
fn panicking_tasks_among_normal_ones_keep_workers_alive() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let (ok, panicked) = rt.block_on(async {
        let hs: Vec<_> = (0..10_000u32)
            .map(|i| {
                spawn(async move {
                    if i % 10 == 0 {
                        panic!("task {i}");
                    }
                    i
                })
            })
            .collect();
        let (mut ok, mut panicked) = (0, 0);
        for h in hs {
            match h.await {
                Ok(_) => ok += 1,
                Err(e) if e.is_panic() => panicked += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        (ok, panicked)
    });
    assert_eq!((ok, panicked), (9_000, 1_000));
    // Both workers still run tasks afterwards.
    let names = rt.block_on(async {
        let hs: Vec<_> = (0..200)
            .map(|_| {
                spawn(async {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                    std::thread::current().name().unwrap().to_string()
                })
            })
            .collect();
        let mut names = std::collections::BTreeSet::new();
        for h in hs {
            names.insert(h.await.unwrap());
        }
        names
    });
    assert_eq!(names.len(), 2, "both workers survive: {names:?}");
}

#[test]
fn detached_panicking_task_does_not_disturb_others() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    drop(rt.spawn(async { panic!("detached boom") }));
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
}
