//! MaxProcsWatcher: files opened once, re-read on refresh.

use goro_procs::{MaxProcsWatcher, Source, available_cpus};
use goro_testkit::fixture::{Fixture, assert_affinity, cgroup_limit, fallback};

#[test]
fn follows_cpu_max_rewrites() {
    let fx = Fixture::v2("watch-v2", "/app").write("sys/fs/cgroup/app/cpu.max", "300000 100000\n");
    let mut watcher = MaxProcsWatcher::with_root_and_cpus(fx.root(), None, 8).unwrap();
    assert!(watcher.is_automatic());
    assert_eq!(watcher.current().n, 3);

    let same = watcher.refresh();
    assert_eq!((same.maxprocs.n, same.changed), (3, false));

    fx.put("sys/fs/cgroup/app/cpu.max", "500000 100000\n");
    let update = watcher.refresh();
    assert_eq!((update.maxprocs.n, update.changed), (5, true));
    assert_eq!(watcher.current(), &update.maxprocs);

    // A new quota that rounds to the same count: the source changes, not n.
    fx.put("sys/fs/cgroup/app/cpu.max", "450000 100000\n");
    let update = watcher.refresh();
    assert_eq!((update.maxprocs.n, update.changed), (5, false));
    assert_eq!(cgroup_limit(&update.maxprocs).quota.quota_us(), 450_000);

    fx.put("sys/fs/cgroup/app/cpu.max", "max 100000\n");
    let update = watcher.refresh();
    assert!(update.changed);
    assert_affinity(&update.maxprocs, 8);
}

#[test]
fn follows_v1_and_parent_levels() {
    let dir = "sys/fs/cgroup/cpu,cpuacct";
    let fx = Fixture::v1("watch-v1", "/slice/svc")
        .write(&format!("{dir}/slice/cpu.cfs_quota_us"), "-1\n")
        .write(&format!("{dir}/slice/cpu.cfs_period_us"), "100000\n")
        .write(&format!("{dir}/slice/svc/cpu.cfs_quota_us"), "-1\n")
        .write(&format!("{dir}/slice/svc/cpu.cfs_period_us"), "100000\n");
    let mut watcher = MaxProcsWatcher::with_root_and_cpus(fx.root(), None, 8).unwrap();
    assert_affinity(watcher.current(), 8);

    fx.put(&format!("{dir}/slice/cpu.cfs_quota_us"), "400000\n");
    let update = watcher.refresh();
    assert_eq!((update.maxprocs.n, update.changed), (4, true));
    assert_eq!(
        cgroup_limit(&update.maxprocs).path,
        fx.path(&format!("{dir}/slice"))
    );

    fx.put(&format!("{dir}/slice/svc/cpu.cfs_period_us"), "50000\n");
    fx.put(&format!("{dir}/slice/svc/cpu.cfs_quota_us"), "150000\n"); // 3 CPUs
    let update = watcher.refresh();
    assert_eq!(update.maxprocs.n, 3);
    assert_eq!(
        cgroup_limit(&update.maxprocs).path,
        fx.path(&format!("{dir}/slice/svc"))
    );
}

#[test]
fn malformed_then_fixed() {
    let fx =
        Fixture::v2("watch-broken", "/app").write("sys/fs/cgroup/app/cpu.max", "200000 100000\n");
    let mut watcher = MaxProcsWatcher::with_root_and_cpus(fx.root(), None, 6).unwrap();
    assert_eq!(watcher.current().n, 2);

    fx.put("sys/fs/cgroup/app/cpu.max", "oops\n");
    let update = watcher.refresh();
    let (reason, limit) = fallback(&update.maxprocs);
    assert!(reason.contains("cpu.max holds \"oops\\n\""), "{reason}");
    assert_eq!(limit, None);
    assert_eq!((update.maxprocs.n, update.changed), (6, true));

    fx.put("sys/fs/cgroup/app/cpu.max", "200000 100000\n");
    let update = watcher.refresh();
    assert_eq!((update.maxprocs.n, update.changed), (2, true));
    assert!(matches!(update.maxprocs.source, Source::Cgroup { .. }));
}

#[test]
fn deleted_file_keeps_being_read_through_the_open_handle() {
    // Refresh does no path lookups: removing the directory entry does not
    // change what an already-open file reads.
    let fx =
        Fixture::v2("watch-unlinked", "/app").write("sys/fs/cgroup/app/cpu.max", "300000 100000\n");
    let mut watcher = MaxProcsWatcher::with_root_and_cpus(fx.root(), None, 8).unwrap();
    std::fs::remove_file(fx.path("sys/fs/cgroup/app/cpu.max")).unwrap();
    fx.put("sys/fs/cgroup/app/cpu.max", "100000 100000\n"); // a new file
    let update = watcher.refresh();
    assert_eq!(cgroup_limit(&update.maxprocs).quota.quota_us(), 300_000);
}

#[test]
fn explicit_value_never_changes() {
    let fx =
        Fixture::v2("watch-explicit", "/app").write("sys/fs/cgroup/app/cpu.max", "300000 100000\n");
    let mut watcher = MaxProcsWatcher::with_root_and_cpus(fx.root(), Some("9"), 8).unwrap();
    assert!(!watcher.is_automatic());
    fx.put("sys/fs/cgroup/app/cpu.max", "100000 100000\n");
    let update = watcher.refresh();
    assert_eq!((update.maxprocs.n, update.changed), (9, false));
    assert!(matches!(
        update.maxprocs.source,
        Source::Env { value: 9, .. }
    ));
}

#[test]
fn real_affinity_is_reread() {
    let fx = Fixture::v2("watch-affinity", "/app").dir("sys/fs/cgroup/app");
    let mut watcher = MaxProcsWatcher::with_root(fx.root(), None).unwrap();
    let cpus = available_cpus().unwrap();
    assert_affinity(watcher.current(), cpus);
    assert_affinity(&watcher.refresh().maxprocs, cpus);
}
