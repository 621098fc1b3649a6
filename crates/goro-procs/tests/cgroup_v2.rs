//! cgroup v2: `cpu.max` in the unified hierarchy.

use goro_procs::CgroupVersion;
use goro_testkit::fixture::{Fixture, assert_affinity, assert_one_and_a_half_cpus, cgroup_limit};

#[test]
fn limit_in_own_cgroup() {
    let fx = Fixture::v2("v2-limit", "/app").write("sys/fs/cgroup/app/cpu.max", "150000 100000\n");
    assert_one_and_a_half_cpus(
        &fx.detect(8),
        CgroupVersion::V2,
        &fx.path("/sys/fs/cgroup/app"),
    );
}

#[test]
fn max_means_no_limit() {
    let fx = Fixture::v2("v2-max", "/app").write("sys/fs/cgroup/app/cpu.max", "max 100000\n");
    let procs = fx.detect(8);
    assert_affinity(&procs, 8);
    assert_eq!(
        procs.to_string(),
        "maxprocs=8 (affinity: 8 CPUs, no cgroup CPU limit)"
    );
}

#[test]
fn controller_not_enabled_means_no_limit() {
    // Without `+cpu` in the parent's subtree_control there is no cpu.max.
    let fx = Fixture::v2("v2-no-file", "/app").dir("sys/fs/cgroup/app");
    assert_affinity(&fx.detect(4), 4);
}

#[test]
fn root_cgroup_has_no_limit() {
    let fx = Fixture::v2("v2-root", "/").dir("sys/fs/cgroup");
    assert_affinity(&fx.detect(3), 3);
}

#[test]
fn non_default_period() {
    // 25ms of CPU every 10ms: 2.5 CPUs.
    let fx = Fixture::v2("v2-period", "/a").write("sys/fs/cgroup/a/cpu.max", "25000 10000\n");
    let procs = fx.detect(16);
    assert_eq!(procs.n, 3);
    assert_eq!(cgroup_limit(&procs).quota.period_us(), 10_000);
}
