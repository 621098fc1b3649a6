//! The monitor following a CPU limit that changes while the runtime runs,
//! end to end: a `MaxProcsWatcher` on a fixture cgroup tree (with 8 CPUs
//! standing in for the affinity mask, so quotas above 2 CPUs matter on any
//! machine) drives a real runtime through `Builder::maxprocs_watcher`. The
//! real-cgroup version of this is the facade's `tests/maxprocs_live.rs`.

use std::time::{Duration, Instant};

use goro_executor::Runtime;
use goro_procs::MaxProcsWatcher;
use goro_testkit::fixture::Fixture;

const CPU_MAX: &str = "sys/fs/cgroup/app/cpu.max";

/// How long a new limit may take to show before the test calls it missed.
/// The monitor re-reads it once a second (and sleeps up to 1 s when every
/// worker is idle), so 1 to 2 s is normal; the bound is far wider so that
/// only a runtime that does not follow, not a loaded machine or valgrind,
/// exceeds it. The time taken is printed.
const FOLLOW: Duration = Duration::from_secs(30);

/// Waits for maxprocs to become `n`, then checks that `n` workers take
/// tasks: the count is not just a number.
fn expect_maxprocs(rt: &Runtime, n: usize, after: &str) {
    let start = Instant::now();
    while rt.maxprocs() != n {
        assert!(
            start.elapsed() < FOLLOW,
            "{after}: maxprocs stayed {} instead of {n} for {FOLLOW:?}",
            rt.maxprocs()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("{after}: maxprocs={n} after {:?}", start.elapsed());
    let tasks: Vec<_> = (0..64).map(|i| rt.spawn(async move { i * 2 })).collect();
    let sum: usize = tasks.into_iter().map(|t| rt.block_on(t).unwrap()).sum();
    assert_eq!(sum, 63 * 64);
    assert_eq!(rt.handle().stats().maxprocs, n);
}

fn quota(cpus_tenths: u64) -> String {
    format!("{} 100000\n", cpus_tenths * 10_000)
}

/// A fixture whose cgroup allows `cpus_tenths` / 10 CPUs, and a runtime
/// on a watcher of it (with `env` as `GORO_MAXPROCS`) assuming 8 CPUs.
fn runtime_on_fixture(name: &str, cpus_tenths: u64, env: Option<&str>) -> (Fixture, Runtime) {
    let fx = Fixture::v2(name, "/app").write(CPU_MAX, quota(cpus_tenths));
    let watcher = MaxProcsWatcher::with_root_and_cpus(fx.root(), env, 8).unwrap();
    let rt = Runtime::builder()
        .maxprocs_watcher(watcher)
        .build()
        .unwrap();
    (fx, rt)
}

#[test]
fn the_runtime_follows_a_changing_cpu_limit() {
    let (fx, rt) = runtime_on_fixture("exec-follow", 30, None);
    assert!(rt.handle().maxprocs_is_automatic());
    expect_maxprocs(&rt, 3, "start at 3 CPUs");

    fx.put(CPU_MAX, quota(15));
    expect_maxprocs(&rt, 2, "1.5 CPUs (rounded up)");
    fx.put(CPU_MAX, quota(55));
    expect_maxprocs(&rt, 6, "5.5 CPUs");
    fx.put(CPU_MAX, "max 100000\n");
    expect_maxprocs(&rt, 8, "no limit (8 CPUs)");
    fx.put(CPU_MAX, quota(5));
    expect_maxprocs(&rt, 2, "0.5 CPUs (at least 2)");
}

#[test]
fn an_explicit_set_stops_following_until_set_default() {
    let (fx, rt) = runtime_on_fixture("exec-explicit", 40, None);
    expect_maxprocs(&rt, 4, "start at 4 CPUs");

    assert_eq!(rt.handle().set_maxprocs(3), 4);
    assert!(!rt.handle().maxprocs_is_automatic());
    fx.put(CPU_MAX, quota(60));
    // Two refresh periods and more: an automatic runtime would be at 6.
    std::thread::sleep(Duration::from_millis(2_500));
    assert_eq!(
        rt.maxprocs(),
        3,
        "an explicit count must not follow the limit"
    );

    // Back to the default: the watcher's root and CPU count, not `/`'s.
    assert_eq!(rt.handle().set_default_maxprocs(), 6);
    assert!(rt.handle().maxprocs_is_automatic());
    expect_maxprocs(&rt, 6, "set_default_maxprocs at 6 CPUs");
    fx.put(CPU_MAX, quota(20));
    expect_maxprocs(&rt, 2, "2 CPUs after set_default_maxprocs");
}

#[test]
fn an_explicit_watcher_starts_fixed_and_set_default_keeps_its_root() {
    // As with `GORO_MAXPROCS=3`: explicit, so not followed.
    let (fx, rt) = runtime_on_fixture("exec-env", 50, Some("3"));
    assert_eq!(rt.maxprocs(), 3);
    assert!(!rt.handle().maxprocs_is_automatic());

    assert_eq!(rt.handle().set_default_maxprocs(), 5);
    assert!(rt.handle().maxprocs_is_automatic());
    fx.put(CPU_MAX, quota(70));
    expect_maxprocs(&rt, 7, "7 CPUs after set_default_maxprocs");
}

#[test]
fn the_last_of_maxprocs_and_maxprocs_watcher_wins() {
    let fx = Fixture::v2("exec-last", "/app").write(CPU_MAX, quota(50));
    let watcher = || MaxProcsWatcher::with_root_and_cpus(fx.root(), None, 8).unwrap();
    let rt = Runtime::builder()
        .maxprocs(1)
        .maxprocs_watcher(watcher())
        .build()
        .unwrap();
    assert_eq!(rt.maxprocs(), 5);
    assert!(rt.handle().maxprocs_is_automatic());
    drop(rt);
    let rt = Runtime::builder()
        .maxprocs_watcher(watcher())
        .maxprocs(1)
        .build()
        .unwrap();
    assert_eq!(rt.maxprocs(), 1);
    assert!(!rt.handle().maxprocs_is_automatic());
}
