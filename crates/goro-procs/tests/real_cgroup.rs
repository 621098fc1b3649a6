//! Against the real kernel: a child process in a fresh cgroup reports what its
//! `MaxProcsWatcher` sees while this test changes the limits around it.
//!
//! Needs root and a writable cgroup hierarchy with the `cpu` controller (v1
//! `cpu`, or v2 where `+cpu` can be enabled for a new child cgroup). Where the
//! machine does not allow that, the test says `SKIPPED` and why on stderr
//! and passes, or fails with `GORO_TEST_STRICT=1` (as in CI). Every cgroup it creates is removed on the way out, panics
//! included, after killing the children placed in it.

use std::thread;
use std::time::Duration;

use goro_procs::{MaxProcs, MaxProcsWatcher, Source, available_cpus};
use goro_testkit::sandbox::{
    self, FOLLOW, PERIOD, REPORT, Reporter, START, TestCgroup, pin_to_one_cpu,
};
use goro_testkit::skip;

// ---------------------------------------------------------------------------
// The child.

/// Runs in the child: waits for a line on stdin (sent once it is in the test
/// cgroup), then prints its watcher's view every 100 ms. Exits when stdin
/// closes, so it cannot outlive the test even if the test is killed.
#[test]
#[ignore = "helper: run in a child process by `follows_real_cgroup_limits`"]
fn child_reports() {
    if !sandbox::child_start() {
        return;
    }
    let mut watcher = MaxProcsWatcher::new().unwrap();
    loop {
        println!("\n{REPORT}{}", encode(watcher.current()));
        thread::sleep(Duration::from_millis(100));
        watcher.refresh();
    }
}

/// `<n> <kind> <quota_us or -> <limit dir or -> | <display line>`.
fn encode(procs: &MaxProcs) -> String {
    let (kind, limit) = match &procs.source {
        Source::Cgroup { limit, .. } => ("cgroup", Some(limit)),
        Source::Affinity { .. } => ("affinity", None),
        Source::Fallback { limit, .. } => ("fallback", limit.as_ref()),
        Source::Env { .. } => ("env", None),
        _ => ("other", None),
    };
    let quota = limit.map_or("-".to_owned(), |l| l.quota.quota_us().to_string());
    let path = limit.map_or("-".to_owned(), |l| l.path.display().to_string());
    format!("{} {kind} {quota} {path} | {procs}", procs.n)
}

// ---------------------------------------------------------------------------
// The test.

#[test]
fn follows_real_cgroup_limits() {
    let cgroup = match TestCgroup::create() {
        Ok(cgroup) => cgroup,
        Err(reason) => {
            skip(&reason);
            return;
        }
    };
    let cpus = available_cpus().unwrap();
    let expected = |quota: u64| cpus.min(usize::try_from(quota.div_ceil(PERIOD)).unwrap().max(2));
    println!(
        "running in cgroup {} {} with {cpus} CPUs",
        if cgroup.v2 { "v2" } else { "v1" },
        cgroup.leaf.display()
    );

    // Detection at start-up: a fresh child for each quota.
    for quota in [50_000, 150_000, 300_000] {
        cgroup.set_limit(&cgroup.leaf, Some(quota));
        let child = Reporter::start(&cgroup);
        let first = child.next(START);
        assert_eq!(
            (
                first.n,
                first.kind.as_str(),
                first.quota,
                first.path.as_deref()
            ),
            (
                expected(quota),
                "cgroup",
                Some(quota),
                Some(cgroup.leaf.as_path())
            ),
            "{}",
            first.line
        );
        println!("quota {quota}us: {}", first.line);
    }

    // Live updates: one child, limits changed under it.
    cgroup.set_limit(&cgroup.leaf, Some(50_000));
    let child = Reporter::start(&cgroup);
    assert_eq!(child.next(START).quota, Some(50_000));

    cgroup.set_limit(&cgroup.leaf, Some(300_000));
    let report = child.wait_for("leaf quota of 3 CPUs", FOLLOW, |r| r.quota == Some(300_000));
    assert_eq!(report.n, expected(300_000), "{}", report.line);

    cgroup.set_limit(&cgroup.leaf, None);
    let report = child.wait_for("no limit", FOLLOW, |r| r.kind == "affinity");
    assert_eq!(report.n, cpus, "{}", report.line);

    // A limit on the parent counts (goro walks up; Go reads the leaf only).
    cgroup.set_limit(&cgroup.outer, Some(100_000));
    let report = child.wait_for("parent quota of 1 CPU", FOLLOW, |r| {
        r.quota == Some(100_000)
    });
    assert_eq!(
        report.path.as_deref(),
        Some(cgroup.outer.as_path()),
        "{}",
        report.line
    );
    assert_eq!(report.n, expected(100_000), "{}", report.line);

    // The count follows the affinity mask as well: pinned to one CPU, 1 worker.
    if cpus >= 2 {
        pin_to_one_cpu(child.pid());
        let report = child.wait_for("affinity of 1 CPU", FOLLOW, |r| r.n == 1);
        assert_eq!(report.kind, "cgroup", "{}", report.line);
        println!("pinned: {}", report.line);
    } else {
        skip("the affinity step needs 2 CPUs, this machine has 1");
    }
}
