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
    // Both workers (Ps) still run tasks afterwards. Rounds of 200 short
    // tasks until both have run some: on a loaded machine the second may
    // not get the CPU during one round; a dead one never does. By P index,
    // not thread name: a retake (a descheduled 200 µs poll looks blocked)
    // hands a P to a spare thread, which keeps the name it started with.
    let start = std::time::Instant::now();
    let mut names = std::collections::BTreeSet::new();
    while names.len() < 2 && start.elapsed() < std::time::Duration::from_secs(60) {
        names.extend(rt.block_on(async {
            let hs: Vec<_> = (0..200)
                .map(|_| {
                    spawn(async {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                        goro_executor::current_proc().expect("on a worker")
                    })
                })
                .collect();
            let mut names = Vec::new();
            for h in hs {
                names.push(h.await.unwrap());
            }
            names
        }));
    }
    assert_eq!(names.len(), 2, "Ps that ran tasks: {names:?}");
}

#[test]
fn detached_panicking_task_does_not_disturb_others() {
    let rt = Runtime::builder().maxprocs(1).build().unwrap();
    drop(rt.spawn(async { panic!("detached boom") }));
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
}

/// Runs in a child process (see the next test): a panic with
/// `panic_aborts(true)` must abort the whole process.
#[test]
#[ignore = "helper: run in a child process by panic_aborts_the_process"]
fn child_panics_with_panic_aborts() {
    if std::env::var_os("GORO_PANIC_ABORT_CHILD").is_none() {
        return;
    }
    let rt = Runtime::builder()
        .maxprocs(1)
        .panic_aborts(true)
        .build()
        .unwrap();
    let _ = rt.block_on(rt.spawn(async { panic!("fatal in task") }));
    println!("CHILD SURVIVED");
}

#[test]
fn panic_aborts_the_process() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_panics_with_panic_aborts",
            "--ignored",
            "--nocapture",
        ])
        .env("GORO_PANIC_ABORT_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child must abort");
    assert!(!stdout.contains("CHILD SURVIVED"), "{stdout}");
    assert!(stderr.contains("aborting the process"), "{stderr}");
    assert!(
        stderr.contains("tests/panic.rs"),
        "names the spawn location: {stderr}"
    );
}

#[test]
fn detached_panic_is_reported_with_its_spawn_location() {
    // In a child process too, so its stderr can be read.
    if std::env::var_os("GORO_DETACHED_PANIC_CHILD").is_some() {
        let rt = Runtime::builder().maxprocs(1).build().unwrap();
        drop(rt.spawn(async { panic!("nobody listens") }));
        // Let it run, then prove the worker still works.
        assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
        std::thread::sleep(std::time::Duration::from_millis(50));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "detached_panic_is_reported_with_its_spawn_location",
            "--nocapture",
        ])
        .env("GORO_DETACHED_PANIC_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("JoinHandle was dropped"), "{stderr}");
    assert!(stderr.contains("tests/panic.rs"), "{stderr}");
}
