//! The facade: `goro::go` anywhere, `goro::block_on`, and the attribute macros.

use std::panic::Location;

#[test]
fn go_outside_any_runtime_uses_the_global_runtime() {
    let h = goro::go(async { std::thread::current().name().map(str::to_owned) });
    let name = goro::block_on(h).unwrap().unwrap();
    assert!(name.starts_with("goro-worker-"), "ran on {name}");
}

#[test]
fn worker_threads_have_one_name_scheme_in_every_runtime() {
    let global = goro::block_on(goro::go(async {
        std::thread::current().name().map(str::to_owned)
    }));
    let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    let own = rt.block_on(rt.spawn(async { std::thread::current().name().map(str::to_owned) }));
    assert_eq!(
        own.unwrap().as_deref(),
        Some("goro-worker-0"),
        "a Runtime's worker"
    );
    let global = global.unwrap().unwrap();
    let n = global.strip_prefix("goro-worker-").expect(&global);
    assert!(
        n.parse::<usize>().is_ok(),
        "the global runtime's worker: {global}"
    );
}

#[test]
fn go_records_the_callers_location() {
    let here = Location::caller().line() + 1;
    let h = goro::go(async {});
    assert_eq!(h.location().line(), here);
    assert_eq!(h.location().file(), file!());
    goro::block_on(h).unwrap();
    let here = Location::caller().line() + 1;
    let h = goro::spawn(async {});
    assert_eq!(
        h.location().line(),
        here,
        "spawn passes the caller through too"
    );
    goro::block_on(h).unwrap();
}

#[test]
fn spawn_inside_a_runtime_stays_in_it() {
    let rt = goro::Runtime::builder()
        .maxprocs(1)
        .thread_name(|_| "mine".into())
        .build()
        .unwrap();
    let name = rt.block_on(async {
        goro::go(async { std::thread::current().name().unwrap().to_owned() })
            .await
            .unwrap()
    });
    assert_eq!(name, "mine");
}

#[goro::test(maxprocs = 3)]
async fn test_macro_runs_on_a_runtime_of_its_own() {
    assert_eq!(goro::Handle::current().maxprocs(), 3);
    assert_eq!(goro::go(async { 2 + 2 }).await.unwrap(), 4);
}

#[goro::test]
async fn test_macro_default_runtime() {
    goro::yield_now().await;
    assert!(goro::Handle::try_current().is_some());
}

const NO_FDS_CHILD: &str = "GORO_FACADE_NO_FDS_CHILD";

/// Run in a child process by `build_without_descriptors_is_an_error`: uses
/// up every file descriptor the process may open, then builds a runtime.
#[test]
#[ignore = "helper: run in a child process by `build_without_descriptors_is_an_error`"]
fn no_fds_child() {
    if std::env::var_os(NO_FDS_CHILD).is_none() {
        return;
    }
    let limit = libc::rlimit {
        rlim_cur: 64,
        rlim_max: 64,
    };
    // SAFETY: plain system calls on this (child) process.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
    let mut held = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        held.push(f);
    }
    match goro::Runtime::builder().maxprocs(1).build() {
        Ok(_) => println!("\nRESULT OK"),
        Err(e) => println!("\nRESULT ERR {e}"),
    }
}

/// Creating the reactor's poller fails without descriptors: `build` says so
/// (after retrying for about half a second) instead of panicking.
#[test]
fn build_without_descriptors_is_an_error() {
    let out = goro_testkit::child::ignored_test("no_fds_child")
        .env(NO_FDS_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the child failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "RESULT ERR could not start the I/O driver: goro: cannot create the I/O poller"
        ) && stdout.contains("ulimit -n"),
        "{stdout}"
    );
}
