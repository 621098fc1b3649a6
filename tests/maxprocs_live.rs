//! Against the real kernel: a child process running goro's global runtime,
//! in a fresh cgroup, reports `goro::maxprocs()` while this test changes the
//! CPU limit and the affinity mask around it. The runtime's monitor must
//! follow within 3 s, growing and retiring workers.
//!
//! On a machine of 2 CPUs every quota gives 2 workers (Go's rule keeps at
//! least 2), so a second child reads the same real cgroup files through a
//! watcher that takes 8 CPUs as the affinity count
//! (`Builder::maxprocs_watcher`): there the quota changes move the count.
//!
//! Needs root and a writable cgroup `cpu` controller; elsewhere the test
//! prints `skipped: <reason>` and passes. The cgroup sandbox is shared with
//! `goro-procs`'s `real_cgroup.rs`, which checks the detection itself.

use std::path::Path;
use std::time::Duration;

use goro_testkit::sandbox::{
    self, FOLLOW, PERIOD, REPORT, Reporter, START, TestCgroup, pin_to_one_cpu, unpin,
};

/// Set in a child to the CPU count its watcher should assume.
const STAND_IN_CPUS: &str = "GORO_TEST_STAND_IN_CPUS";
/// The count passed in [`STAND_IN_CPUS`].
const STAND_IN: usize = 8;

/// The child: prints the runtime's view every 100 ms, in the sandbox's
/// report format (`<n> <kind> - - | <line>`). The global runtime, or with
/// [`STAND_IN_CPUS`] its own runtime on a watcher assuming that many CPUs.
#[test]
#[ignore = "helper: run in a child process by `the_runtime_follows_real_cgroup_limits`"]
fn child_reports() {
    if !sandbox::child_start() {
        return;
    }
    let own = std::env::var(STAND_IN_CPUS).ok().map(|cpus| {
        let cpus = cpus.parse().unwrap();
        let watcher =
            goro::procs::MaxProcsWatcher::with_root_and_cpus(Path::new("/"), None, cpus).unwrap();
        goro::Runtime::builder()
            .maxprocs_watcher(watcher)
            .build()
            .unwrap()
    });
    loop {
        // Inside the runtime: also proves the workers still run tasks.
        let view = || async {
            // `maxprocs()` and the stats snapshot, taken between two
            // resizes (the monitor may resize in between).
            let (n, s) = loop {
                let n = goro::maxprocs();
                let s = goro::stats();
                if s.maxprocs == n {
                    break (n, s);
                }
            };
            (
                n,
                goro::Handle::current().maxprocs_is_automatic(),
                s.local_queues.len(),
            )
        };
        let (n, automatic, workers) = match &own {
            Some(rt) => rt.block_on(rt.go(view())),
            None => goro::block_on(goro::go(view())),
        }
        .unwrap();
        println!(
            "\n{REPORT}{n} runtime - - | maxprocs={n} automatic={automatic} workers={workers}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Go 1.25's count for `cpus` CPUs under `quota` µs per [`PERIOD`].
fn expected_for(cpus: usize, quota: u64) -> usize {
    cpus.min(usize::try_from(quota.div_ceil(PERIOD)).unwrap().max(2))
}

/// A reporting child whose runtime assumes [`STAND_IN`] CPUs.
fn start_stand_in(cgroup: &TestCgroup) -> Reporter {
    Reporter::start_with_env(cgroup, &[(STAND_IN_CPUS, &STAND_IN.to_string())])
}

#[test]
fn the_runtime_follows_real_cgroup_limits() {
    let cgroup = match TestCgroup::create() {
        Ok(cgroup) => cgroup,
        Err(reason) => {
            goro_testkit::skip(&reason);
            return;
        }
    };
    let cpus = goro::procs::available_cpus().unwrap();
    let expected = |quota: u64| expected_for(cpus, quota);
    let expected8 = |quota: u64| expected_for(STAND_IN, quota);

    // At start-up: fresh children for each quota (0.5, 1.5 and 3 CPUs),
    // one on the real CPU count and one on 8 stand-in CPUs.
    for quota in [50_000, 150_000, 300_000] {
        cgroup.set_limit(&cgroup.leaf, Some(quota));
        for (label, child, want) in [
            ("real CPUs", Reporter::start(&cgroup), expected(quota)),
            ("8 stand-in CPUs", start_stand_in(&cgroup), expected8(quota)),
        ] {
            let first = child.next(START);
            assert_eq!(first.n, want, "quota {quota}us: {}", first.line);
            assert!(first.line.contains("automatic=true"), "{}", first.line);
            assert!(
                first.line.contains(&format!("workers={want}")),
                "{}",
                first.line
            );
            println!("quota {quota}us, {label}: {}", first.line);
        }
    }

    // Live: one child, the limit changed under it.
    cgroup.set_limit(&cgroup.leaf, Some(50_000));
    let child = Reporter::start(&cgroup);
    assert_eq!(child.next(START).n, expected(50_000));
    cgroup.set_limit(&cgroup.leaf, Some(300_000));
    let report = child.wait_for("3 CPUs", FOLLOW, |r| r.n == expected(300_000));
    println!("quota raised to 3 CPUs: {}", report.line);
    if expected(300_000) == expected(50_000) {
        println!(
            "note: with {cpus} CPUs, quotas of 0.5 and 3 CPUs give the same count; \
             the affinity steps and the stand-in CPUs below show the live resize"
        );
    }

    if cpus >= 2 {
        // Fewer CPUs: workers retire.
        pin_to_one_cpu(child.pid());
        let report = child.wait_for("1 worker after pinning to 1 CPU", FOLLOW, |r| r.n == 1);
        assert!(report.line.contains("workers=1"), "{}", report.line);
        println!("pinned to 1 CPU: {}", report.line);
        // More again: workers come back.
        unpin(child.pid());
        let report = child.wait_for("workers back after unpinning", FOLLOW, |r| {
            r.n == expected(300_000)
        });
        println!("unpinned: {}", report.line);
    } else {
        goro_testkit::skip("the affinity steps need 2 CPUs, this machine has 1");
    }
    drop(child);

    // Live, with 8 CPUs standing in for the affinity count: the quota
    // alone moves the worker count, up and down.
    cgroup.set_limit(&cgroup.leaf, Some(50_000));
    let child = start_stand_in(&cgroup);
    let first = child.next(START);
    assert_eq!(first.n, expected8(50_000), "{}", first.line);
    println!("{STAND_IN} stand-in CPUs, quota 0.5 CPUs: {}", first.line);
    for quota in [300_000, 150_000, 550_000] {
        cgroup.set_limit(&cgroup.leaf, Some(quota));
        let report = child.wait_for(&format!("quota {quota}us"), FOLLOW, |r| {
            r.n == expected8(quota)
        });
        assert!(
            report
                .line
                .contains(&format!("workers={}", expected8(quota))),
            "{}",
            report.line
        );
        println!(
            "{STAND_IN} stand-in CPUs, quota changed to {quota}us: {}",
            report.line
        );
    }
    cgroup.set_limit(&cgroup.leaf, None);
    let report = child.wait_for("no limit", FOLLOW, |r| r.n == STAND_IN);
    println!("{STAND_IN} stand-in CPUs, limit removed: {}", report.line);
}
