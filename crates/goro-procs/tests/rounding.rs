//! Go 1.25's rule end to end: min(affinity, max(ceil(quota / period), 2)).

use std::path::Path;

use goro_procs::{Source, available_cpus, detect_with};
use goro_testkit::fixture::{Fixture, cgroup_limit};

fn with_quota(name: &str, quota_us: u64) -> Fixture {
    Fixture::v2(name, "/app").write("sys/fs/cgroup/app/cpu.max", format!("{quota_us} 100000\n"))
}

#[test]
fn half_a_cpu_gives_two_unless_fewer_cpus() {
    let fx = with_quota("round-half", 50_000);
    assert_eq!(fx.detect(8).n, 2);
    assert_eq!(fx.detect(2).n, 2);
    assert_eq!(fx.detect(1).n, 1);
}

#[test]
fn one_and_a_half_cpus_round_up() {
    let fx = with_quota("round-1.5", 150_000);
    assert_eq!(fx.detect(8).n, 2);
    assert_eq!(fx.detect(1).n, 1);
}

#[test]
fn three_cpus_need_three_cpus() {
    let fx = with_quota("round-3", 300_000);
    assert_eq!(fx.detect(8).n, 3);
    assert_eq!(fx.detect(3).n, 3);
    assert_eq!(fx.detect(2).n, 2);
    // Just above 3 CPUs rounds up to 4.
    let fx = with_quota("round-3+", 300_001);
    assert_eq!(fx.detect(8).n, 4);
}

#[test]
fn tiny_quota_still_gives_at_least_one() {
    let fx = with_quota("round-tiny", 1_000);
    assert_eq!(fx.detect(8).n, 2);
    assert_eq!(fx.detect(1).n, 1);
}

#[test]
fn real_affinity_caps_the_count() {
    let cpus = available_cpus().unwrap();
    for (quota, ceil) in [(50_000, 1), (150_000, 2), (300_000, 3)] {
        let fx = with_quota("round-real", quota);
        let procs = detect_with(fx.root(), None).unwrap();
        assert_eq!(procs.n, cpus.min(ceil.max(2)), "quota {quota}");
        assert!(matches!(procs.source, Source::Cgroup { cpus: c, .. } if c == cpus));
        assert_eq!(cgroup_limit(&procs).quota.quota_us(), quota);
    }
}

#[test]
fn production_root_agrees_with_affinity_or_a_limit() {
    // Whatever this machine is, the count respects the affinity mask (no
    // GORO_MAXPROCS here: detect_with does not read the environment).
    let procs = detect_with(Path::new("/"), None).unwrap();
    let cpus = available_cpus().unwrap();
    assert!(procs.n >= 1 && procs.n <= cpus, "{procs}");
    if let Source::Affinity { cpus: c, .. } = procs.source {
        assert_eq!((procs.n, c), (cpus, cpus));
    }
}
