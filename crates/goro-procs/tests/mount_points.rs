//! Cgroup hierarchies mounted away from /sys/fs/cgroup, or only in part.

use goro_procs::CgroupVersion;
use goro_testkit::fixture::{Fixture, cgroup_limit, fallback, v1_mount, v2_mount};

#[test]
fn v2_mounted_at_cgroup2() {
    let fx = Fixture::new("mount-cgroup2")
        .proc_cgroup("0::/svc\n")
        .mountinfo(&[&v2_mount("/", "/cgroup2")])
        .write("cgroup2/svc/cpu.max", "300000 100000\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 3);
    assert_eq!(cgroup_limit(&procs).path, fx.path("cgroup2/svc"));
}

#[test]
fn v1_mounted_at_odd_place() {
    let fx = Fixture::new("mount-v1-odd")
        .proc_cgroup("3:cpu,cpuacct:/jobs/7\n")
        .mountinfo(&[&v1_mount("/", "/run/cg/cpu", "cpu,cpuacct")])
        .write("run/cg/cpu/jobs/7/cpu.cfs_quota_us", "400000\n")
        .write("run/cg/cpu/jobs/7/cpu.cfs_period_us", "100000\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 4);
    assert_eq!(cgroup_limit(&procs).version, CgroupVersion::V1);
}

#[test]
fn container_mount_root_is_the_own_cgroup() {
    // Docker without a cgroup namespace: /proc/self/cgroup shows the host path
    // and the mount shows exactly that directory at /sys/fs/cgroup.
    let fx = Fixture::new("mount-container")
        .proc_cgroup("0::/system.slice/docker-abc.scope\n")
        .mountinfo(&[&v2_mount(
            "/system.slice/docker-abc.scope",
            "/sys/fs/cgroup",
        )])
        .write("sys/fs/cgroup/cpu.max", "150000 100000\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 2);
    assert_eq!(cgroup_limit(&procs).path, fx.path("sys/fs/cgroup"));
}

#[test]
fn container_process_in_a_sub_cgroup() {
    let fx = Fixture::new("mount-container-sub")
        .proc_cgroup("4:cpu,cpuacct:/docker/abc/worker\n")
        .mountinfo(&[&v1_mount(
            "/docker/abc",
            "/sys/fs/cgroup/cpu,cpuacct",
            "cpu,cpuacct",
        )])
        .write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "300000\n")
        .write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
        .write(
            "sys/fs/cgroup/cpu,cpuacct/worker/cpu.cfs_quota_us",
            "200000\n",
        )
        .write(
            "sys/fs/cgroup/cpu,cpuacct/worker/cpu.cfs_period_us",
            "100000\n",
        );
    let procs = fx.detect(8);
    assert_eq!(procs.n, 2);
    let worker = fx.path("sys/fs/cgroup/cpu,cpuacct/worker");
    assert_eq!(cgroup_limit(&procs).path, worker);

    // The limit on the container's own cgroup still counts when tighter.
    fx.put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "100000\n");
    let procs = fx.detect(8);
    assert_eq!(
        cgroup_limit(&procs).path,
        fx.path("sys/fs/cgroup/cpu,cpuacct")
    );
}

#[test]
fn deepest_of_several_mounts_is_used() {
    // The host hierarchy at /host-cg and the container's own part at
    // /sys/fs/cgroup: both show the cgroup, the second one more closely.
    let fx = Fixture::new("mount-two")
        .proc_cgroup("0::/pod/ctr\n")
        .mountinfo(&[
            &v2_mount("/", "/host-cg"),
            &v2_mount("/pod/ctr", "/sys/fs/cgroup"),
        ])
        .write("host-cg/pod/ctr/cpu.max", "100000 100000\n")
        .write("sys/fs/cgroup/cpu.max", "200000 100000\n");
    let procs = fx.detect(8);
    assert_eq!(cgroup_limit(&procs).path, fx.path("sys/fs/cgroup"));
}

#[test]
fn escaped_mount_point() {
    let fx = Fixture::new("mount-escaped")
        .proc_cgroup("0::/a\n")
        .mountinfo(&[&v2_mount("/", "/my\\040cgroups")])
        .write("my cgroups/a/cpu.max", "300000 100000\n");
    let procs = fx.detect(8);
    assert_eq!(cgroup_limit(&procs).path, fx.path("my cgroups/a"));
}

#[test]
fn cgroup_outside_the_mount_is_a_fallback() {
    let fx = Fixture::new("mount-outside")
        .proc_cgroup("0::/other/ctr\n")
        .mountinfo(&[&v2_mount("/pod", "/sys/fs/cgroup")])
        .write("sys/fs/cgroup/cpu.max", "100000 100000\n");
    let procs = fx.detect(4);
    let (reason, limit) = fallback(&procs);
    assert_eq!(limit, None);
    assert!(
        reason.contains("cgroup v2 /other/ctr: outside the mounted part"),
        "{reason}"
    );
    assert_eq!(procs.n, 4);
}
