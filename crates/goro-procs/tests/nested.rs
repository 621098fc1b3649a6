//! goro walks from the process's cgroup up to the mount root and keeps the
//! tightest limit (Go reads the leaf only).

use goro_testkit::fixture::{Fixture, cgroup_limit, v2_mount};

const BASE: &str = "sys/fs/cgroup";

fn cpu_max(fx: Fixture, dir: &str, value: &str) -> Fixture {
    fx.write(&format!("{BASE}{dir}/cpu.max"), value)
}

#[test]
fn parent_tighter_than_leaf() {
    let fx = Fixture::v2("nested-parent", "/pod/ctr");
    let fx = cpu_max(fx, "/pod", "100000 100000\n");
    let fx = cpu_max(fx, "/pod/ctr", "400000 100000\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 2); // 1 CPU, raised to the floor of 2
    let limit = cgroup_limit(&procs);
    assert_eq!(limit.path, fx.path("sys/fs/cgroup/pod"));
    assert_eq!(limit.quota.quota_us(), 100_000);
}

#[test]
fn parent_limit_with_unlimited_leaf() {
    let fx = Fixture::v2("nested-unlimited-leaf", "/pod/ctr");
    let fx = cpu_max(fx, "/pod", "300000 100000\n");
    let fx = cpu_max(fx, "/pod/ctr", "max 100000\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 3);
    assert_eq!(cgroup_limit(&procs).path, fx.path("sys/fs/cgroup/pod"));
}

#[test]
fn grandparent_limit_compared_by_ratio_not_quota() {
    // 200ms per 50ms (4 CPUs) at the top is looser than 300ms per 100ms
    // (3 CPUs) in the middle, even though its period differs.
    let fx = Fixture::v2("nested-ratio", "/a/b/c");
    let fx = cpu_max(fx, "/a", "200000 50000\n");
    let fx = cpu_max(fx, "/a/b", "300000 100000\n");
    let fx = cpu_max(fx, "/a/b/c", "max 100000\n");
    let procs = fx.detect(16);
    assert_eq!(procs.n, 3);
    assert_eq!(cgroup_limit(&procs).path, fx.path("sys/fs/cgroup/a/b"));
}

#[test]
fn leaf_tighter_than_parent() {
    let fx = Fixture::v2("nested-leaf", "/pod/ctr");
    let fx = cpu_max(fx, "/pod", "800000 100000\n");
    let fx = cpu_max(fx, "/pod/ctr", "500000 100000\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 5);
    assert_eq!(cgroup_limit(&procs).path, fx.path("sys/fs/cgroup/pod/ctr"));
}

#[test]
fn equal_limits_report_the_nearest() {
    let fx = Fixture::v2("nested-equal", "/pod/ctr");
    let fx = cpu_max(fx, "/pod", "200000 100000\n");
    let fx = cpu_max(fx, "/pod/ctr", "100000 50000\n");
    let procs = fx.detect(8);
    assert_eq!(cgroup_limit(&procs).path, fx.path("sys/fs/cgroup/pod/ctr"));
}

#[test]
fn v1_parent_tighter_than_leaf() {
    let fx = Fixture::v1("nested-v1", "/slice/svc")
        .write(
            "sys/fs/cgroup/cpu,cpuacct/slice/cpu.cfs_quota_us",
            "50000\n",
        )
        .write(
            "sys/fs/cgroup/cpu,cpuacct/slice/cpu.cfs_period_us",
            "100000\n",
        )
        .write(
            "sys/fs/cgroup/cpu,cpuacct/slice/svc/cpu.cfs_quota_us",
            "-1\n",
        )
        .write(
            "sys/fs/cgroup/cpu,cpuacct/slice/svc/cpu.cfs_period_us",
            "100000\n",
        );
    let procs = fx.detect(8);
    assert_eq!(procs.n, 2);
    assert_eq!(
        cgroup_limit(&procs).path,
        fx.path("sys/fs/cgroup/cpu,cpuacct/slice")
    );
}

#[test]
fn nothing_above_the_mount_root_is_read() {
    // The container sees only its own cgroup (/kubepods/pod), mounted at
    // /sys/fs/cgroup. A cpu.max in the fixture's directory above the mount
    // point belongs to no level the process can see and must not count.
    let fx = Fixture::new("nested-mount-root")
        .proc_cgroup("0::/kubepods/pod/ctr\n")
        .mountinfo(&[&v2_mount("/kubepods/pod", "/sys/fs/cgroup")])
        .write("sys/fs/cpu.max", "10000 100000\n")
        .write("sys/fs/cgroup/cpu.max", "400000 100000\n")
        .write("sys/fs/cgroup/ctr/cpu.max", "max 100000\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 4);
    assert_eq!(cgroup_limit(&procs).path, fx.path("sys/fs/cgroup"));
}
