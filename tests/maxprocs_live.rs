//! Against the real kernel: a child process running goro's global runtime,
//! in a fresh cgroup, reports `goro::maxprocs()` while this test changes the
//! CPU limit and the affinity mask around it. The runtime's monitor must
//! follow within 3 s, growing and retiring workers.
//!
//! Needs root and a writable cgroup `cpu` controller; elsewhere the test
//! prints `skipped: <reason>` and passes. The cgroup sandbox is shared with
//! `goro-procs`'s `real_cgroup.rs`, which checks the detection itself.

#[path = "../crates/goro-procs/tests/sandbox/mod.rs"]
mod sandbox;

use std::time::Duration;

use sandbox::{FOLLOW, PERIOD, REPORT, Reporter, START, TestCgroup, pin_to_one_cpu, unpin};

/// The child: prints the runtime's view every 100 ms, in the sandbox's
/// report format (`<n> <kind> - - | <line>`).
#[test]
#[ignore = "helper: run in a child process by `the_runtime_follows_real_cgroup_limits`"]
fn child_reports() {
    if !sandbox::child_start() {
        return;
    }
    loop {
        // Inside the runtime: also proves the workers still run tasks.
        let (n, automatic, workers) = goro::block_on(goro::go(async {
            let s = goro::stats();
            (
                goro::maxprocs(),
                goro::Handle::current().maxprocs_is_automatic(),
                s.local_queues.len(),
            )
        }))
        .unwrap();
        println!(
            "\n{REPORT}{n} runtime - - | maxprocs={n} automatic={automatic} workers={workers}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_runtime_follows_real_cgroup_limits() {
    let cgroup = match TestCgroup::create() {
        Ok(cgroup) => cgroup,
        Err(reason) => {
            println!("skipped: {reason}");
            return;
        }
    };
    let cpus = goro::procs::available_cpus().unwrap();
    let expected = |quota: u64| cpus.min(usize::try_from(quota.div_ceil(PERIOD)).unwrap().max(2));

    // At start-up: a fresh child for each quota (0.5, 1.5 and 3 CPUs).
    for quota in [50_000, 150_000, 300_000] {
        cgroup.set_limit(&cgroup.leaf, Some(quota));
        let child = Reporter::start(&cgroup);
        let first = child.next(START);
        assert_eq!(first.n, expected(quota), "quota {quota}us: {}", first.line);
        assert!(first.line.contains("automatic=true"), "{}", first.line);
        assert!(
            first.line.contains(&format!("workers={}", first.n)),
            "{}",
            first.line
        );
        println!("quota {quota}us: {}", first.line);
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
             the affinity steps below show the live resize"
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
        println!("affinity steps skipped: only 1 CPU");
    }
}
