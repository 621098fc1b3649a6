//! Missing, unreadable and malformed files never panic: detection falls back
//! to what it could read and says why.

use goro_testkit::fixture::{
    Fixture, assert_affinity, cgroup_limit, fallback, fallback_reason, v2_mount,
};

#[test]
fn missing_proc_files() {
    let fx = Fixture::new("broken-no-proc");
    let procs = fx.detect(4);
    let (reason, _) = fallback(&procs);
    assert!(reason.starts_with("cannot read "), "{reason}");
    assert!(reason.contains("proc/self/cgroup"), "{reason}");
    assert_eq!(procs.n, 4);

    let fx = Fixture::new("broken-no-mountinfo").proc_cgroup("0::/\n");
    let reason = fallback_reason(&fx.detect(4));
    assert!(reason.contains("proc/self/mountinfo"), "{reason}");
}

#[test]
fn missing_limit_files_mean_no_limit() {
    let fx = Fixture::v2("broken-missing-limit", "/a/b").dir("sys/fs/cgroup/a/b");
    assert_affinity(&fx.detect(4), 4);
    // Even the cgroup directory itself may be missing (not mounted in full).
    let fx = Fixture::v2("broken-missing-dir", "/a/b");
    assert_affinity(&fx.detect(4), 4);
}

#[test]
fn malformed_cpu_max() {
    for bad in [
        "",
        "abc\n",
        "150000\n",
        "0 100000\n",
        "1.5 100000\n",
        "max\n",
        "1 2 3\n",
    ] {
        let fx = Fixture::v2("broken-cpu-max", "/a").write("sys/fs/cgroup/a/cpu.max", bad);
        let procs = fx.detect(4);
        let (reason, limit) = fallback(&procs);
        assert_eq!(limit, None, "{bad:?}");
        let path = fx.path("sys/fs/cgroup/a/cpu.max");
        assert_eq!(
            reason,
            format!(
                "{}: cpu.max holds {bad:?}: expected \"max <period>\" or \"<quota> <period>\", in positive whole microseconds",
                path.display()
            )
        );
        assert_eq!(procs.n, 4, "{bad:?}");
    }
}

#[test]
fn malformed_v1_files() {
    let cases = [
        ("abc\n", "100000\n", "cpu.cfs_quota_us holds"),
        ("50000\n", "x\n", "cpu.cfs_period_us holds"),
    ];
    for (quota, period, expected) in cases {
        let fx = Fixture::v1("broken-v1", "/a")
            .write("sys/fs/cgroup/cpu,cpuacct/a/cpu.cfs_quota_us", quota)
            .write("sys/fs/cgroup/cpu,cpuacct/a/cpu.cfs_period_us", period);
        let procs = fx.detect(4);
        let (reason, _) = fallback(&procs);
        assert!(reason.contains(expected), "{reason}");
        assert_eq!(procs.n, 4);
    }
}

#[test]
fn malformed_level_keeps_the_readable_limit() {
    let fx = Fixture::v2("broken-one-level", "/pod/ctr")
        .write("sys/fs/cgroup/pod/cpu.max", "100000 100000\n")
        .write("sys/fs/cgroup/pod/ctr/cpu.max", "garbage\n");
    let procs = fx.detect(8);
    let (reason, limit) = fallback(&procs);
    assert!(
        reason.contains("pod/ctr/cpu.max: cpu.max holds \"garbage\\n\""),
        "{reason}"
    );
    assert_eq!(limit.unwrap().path, fx.path("sys/fs/cgroup/pod"));
    assert_eq!(procs.n, 2);
    assert!(
        procs
            .to_string()
            .starts_with("maxprocs=2 (fallback: cgroup v2 "),
        "{procs}"
    );
}

#[test]
fn unreadable_and_oversized_files() {
    // A directory where the file should be: opens, but reading fails.
    let fx = Fixture::v2("broken-dir", "/a").dir("sys/fs/cgroup/a/cpu.max");
    let reason = fallback_reason(&fx.detect(4));
    assert!(reason.starts_with("cannot read "), "{reason}");

    let fx = Fixture::v2("broken-long", "/a").write("sys/fs/cgroup/a/cpu.max", "1".repeat(100));
    let reason = fallback_reason(&fx.detect(4));
    assert!(
        reason.ends_with("cpu.max is longer than 64 bytes"),
        "{reason}"
    );

    let fx =
        Fixture::v2("broken-binary", "/a").write("sys/fs/cgroup/a/cpu.max", b"\xff\xfe 100000");
    let reason = fallback_reason(&fx.detect(4));
    assert!(reason.ends_with("cpu.max is not text"), "{reason}");
}

#[test]
fn malformed_proc_files() {
    let fx = Fixture::new("broken-cgroup-file")
        .proc_cgroup("this is not a cgroup line\n")
        .mountinfo(&[&v2_mount("/", "/sys/fs/cgroup")]);
    let reason = fallback_reason(&fx.detect(4));
    assert!(
        reason.contains("proc/self/cgroup: line 1 is malformed"),
        "{reason}"
    );

    let fx = Fixture::new("broken-mountinfo")
        .proc_cgroup("0::/\n")
        .write("proc/self/mountinfo", "1 2 3\n");
    let reason = fallback_reason(&fx.detect(4));
    assert!(
        reason.contains("proc/self/mountinfo: line 1 is malformed"),
        "{reason}"
    );
}

#[test]
fn valid_file_after_fix_is_read() {
    // Sanity check that the fixtures above fail for the intended reason.
    let fx = Fixture::v2("broken-fixed", "/a").write("sys/fs/cgroup/a/cpu.max", "100000 100000\n");
    assert_eq!(cgroup_limit(&fx.detect(4)).quota.quota_us(), 100_000);
}
