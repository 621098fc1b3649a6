//! Hybrid hosts: v1 hierarchies and the v2 unified hierarchy side by side.

use goro_procs::CgroupVersion;
use goro_testkit::fixture::{Fixture, assert_affinity, cgroup_limit, fallback, v1_mount, v2_mount};

fn hybrid(name: &str, cgroup_lines: &str) -> Fixture {
    Fixture::new(name)
        .proc_cgroup(cgroup_lines)
        .mountinfo(&[
            &v1_mount("/", "/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct"),
            &v1_mount("/", "/sys/fs/cgroup/memory", "memory"),
            &v2_mount("/", "/sys/fs/cgroup/unified"),
        ])
        .write("sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us", "300000\n")
        .write(
            "sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_period_us",
            "100000\n",
        )
        // Tighter, but v2 does not own the cpu controller here.
        .write("sys/fs/cgroup/unified/svc/cpu.max", "50000 100000\n")
}

#[test]
fn v1_cpu_controller_beats_v2() {
    let fx = hybrid(
        "hybrid-v1-wins",
        "5:memory:/svc\n4:cpu,cpuacct:/svc\n0::/svc\n",
    );
    let procs = fx.detect(8);
    assert_eq!(procs.n, 3);
    let limit = cgroup_limit(&procs);
    assert_eq!(limit.version, CgroupVersion::V1);
    assert_eq!(limit.path, fx.path("sys/fs/cgroup/cpu,cpuacct/svc"));
}

#[test]
fn v1_without_cpu_controller_uses_v2() {
    let fx = hybrid("hybrid-v2", "5:memory:/svc\n0::/svc\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 2);
    let limit = cgroup_limit(&procs);
    assert_eq!(limit.version, CgroupVersion::V2);
    assert_eq!(limit.path, fx.path("sys/fs/cgroup/unified/svc"));
}

#[test]
fn unmounted_v1_cpu_is_a_fallback_not_v2() {
    // The process is in a v1 cpu cgroup, but no mount shows that hierarchy:
    // its limit is unknown, and v2 cannot hold one.
    let fx = Fixture::new("hybrid-unmounted")
        .proc_cgroup("4:cpu,cpuacct:/svc\n0::/svc\n")
        .mountinfo(&[&v2_mount("/", "/sys/fs/cgroup/unified")])
        .write("sys/fs/cgroup/unified/svc/cpu.max", "50000 100000\n");
    let procs = fx.detect(8);
    let (reason, limit) = fallback(&procs);
    assert_eq!(limit, None);
    assert!(
        reason.contains("cgroup v1 /svc: the hierarchy is not mounted"),
        "{reason}"
    );
    assert_eq!(procs.n, 8);
}

#[test]
fn no_cpu_hierarchy_at_all_means_no_limit() {
    let fx = Fixture::new("hybrid-none")
        .proc_cgroup("5:memory:/svc\n1:name=systemd:/svc\n")
        .mountinfo(&[&v1_mount("/", "/sys/fs/cgroup/memory", "memory")]);
    assert_affinity(&fx.detect(5), 5);
}
