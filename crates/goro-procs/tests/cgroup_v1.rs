//! cgroup v1: the `cpu` controller's `cpu.cfs_quota_us` and `cpu.cfs_period_us`.

use goro_procs::CgroupVersion;
use goro_testkit::fixture::{
    Fixture, assert_affinity, assert_one_and_a_half_cpus, cgroup_limit, fallback,
};

const DIR: &str = "sys/fs/cgroup/cpu,cpuacct/app";

#[test]
fn limit_in_own_cgroup() {
    let fx = Fixture::v1("v1-limit", "/app")
        .write(&format!("{DIR}/cpu.cfs_quota_us"), "150000\n")
        .write(&format!("{DIR}/cpu.cfs_period_us"), "100000\n");
    assert_one_and_a_half_cpus(&fx.detect(8), CgroupVersion::V1, &fx.path(DIR));
}

#[test]
fn negative_quota_means_no_limit() {
    let fx = Fixture::v1("v1-unlimited", "/app")
        .write(&format!("{DIR}/cpu.cfs_quota_us"), "-1\n")
        .write(&format!("{DIR}/cpu.cfs_period_us"), "100000\n");
    assert_affinity(&fx.detect(6), 6);
}

#[test]
fn period_without_quota_means_no_limit() {
    let fx = Fixture::v1("v1-period-only", "/app")
        .write(&format!("{DIR}/cpu.cfs_period_us"), "100000\n");
    assert_affinity(&fx.detect(6), 6);
}

#[test]
fn quota_without_period_is_a_fallback() {
    let fx =
        Fixture::v1("v1-quota-only", "/app").write(&format!("{DIR}/cpu.cfs_quota_us"), "50000\n");
    let procs = fx.detect(6);
    let (reason, limit) = fallback(&procs);
    assert_eq!(limit, None);
    assert!(reason.contains("cpu.cfs_period_us is missing"), "{reason}");
    assert_eq!(procs.n, 6);
}

#[test]
fn separate_cpu_mount() {
    // Some hosts mount `cpu` alone at .../cpu, with `cpuacct` elsewhere.
    let fx = Fixture::new("v1-cpu-alone")
        .proc_cgroup("3:cpuacct:/x\n2:cpu:/x\n")
        .mountinfo(&[
            &goro_testkit::fixture::v1_mount("/", "/sys/fs/cgroup/cpuacct", "cpuacct"),
            &goro_testkit::fixture::v1_mount("/", "/sys/fs/cgroup/cpu", "cpu"),
        ])
        .write("sys/fs/cgroup/cpuacct/x/cpu.cfs_quota_us", "10000\n") // must not be read
        .write("sys/fs/cgroup/cpuacct/x/cpu.cfs_period_us", "100000\n")
        .write("sys/fs/cgroup/cpu/x/cpu.cfs_quota_us", "300000\n")
        .write("sys/fs/cgroup/cpu/x/cpu.cfs_period_us", "100000\n");
    let procs = fx.detect(8);
    assert_eq!(procs.n, 3);
    assert_eq!(cgroup_limit(&procs).path, fx.path("sys/fs/cgroup/cpu/x"));
}
