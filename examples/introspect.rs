//! What goro tells you about a running program: the scheduler's stats, a
//! task dump grouped by spawn location, the `SCHED` trace line, the
//! Prometheus text, and a dump on `SIGUSR1`.
//!
//! ```sh
//! cargo run --example introspect                      # one of each, then exit
//! GORO_SCHEDTRACE=200 cargo run --example introspect  # plus a SCHED line every 200 ms
//! cargo run --example introspect -- --wait 30         # stay up: try `kill -USR1 <pid>`
//! ```

use std::time::Duration;

#[goro::main]
async fn main() {
    let wait = std::env::args()
        .skip_while(|a| a != "--wait")
        .nth(1)
        .map(|s| s.parse::<u64>().expect("--wait takes whole seconds"));

    // Opt in to the dump signal: goro never catches a signal by itself.
    // (Unix only: Windows has no SIGUSR1.)
    #[cfg(all(feature = "dump-signal", unix))]
    goro::install_dump_signal().expect("install the SIGUSR1 handler");

    // A little workload: 100 tasks blocked on a channel (Go: `<-ch`), 20
    // asleep, one ticking, and one burst of short tasks.
    let (tx, rx) = goro::chan::bounded::<()>(1);
    let waiters: Vec<_> = (0..100)
        .map(|_| {
            let rx = rx.clone();
            goro::go(async move { rx.recv().await.ok() })
        })
        .collect();
    let sleepers: Vec<_> = (0..20)
        .map(|_| goro::go(goro::time::sleep(Duration::from_secs(3600))))
        .collect();
    let ticker = goro::go(async {
        let mut tick = goro::time::interval(Duration::from_millis(10));
        loop {
            tick.tick().await;
        }
    });
    for _ in 0..10_000 {
        goro::go(async {}).await.unwrap();
    }
    goro::time::sleep(Duration::from_millis(50)).await;

    // runtime.NumGoroutine() and friends.
    let s = goro::stats();
    println!("== goro::stats()");
    println!(
        "maxprocs {}: {} running, {} idle, {} searching; {} OS threads ({} in the blocking pool)",
        s.maxprocs,
        s.running_workers,
        s.idle_workers,
        s.spinning_workers,
        s.threads,
        s.blocking_threads
    );
    println!(
        "tasks: {} live, {} spawned, {} finished; {} polls, {} steals, {} parks",
        s.tasks, s.tasks_spawned, s.tasks_finished, s.polls, s.steals, s.parks
    );
    println!(
        "queues: global {}, per worker {:?}; {} timers, {} I/O sources",
        s.global_queue, s.local_queues, s.timers, s.io_sources
    );
    let lat = &s.sched_latency;
    println!(
        "scheduling latency (wake to poll, {} timed wakes): p50 {:?}, p99 {:?}, max {:?}",
        lat.count(),
        lat.p50(),
        lat.p99(),
        lat.max()
    );

    // GODEBUG=schedtrace's line, on demand.
    println!("\n== the GORO_SCHEDTRACE line\n{}", s.schedtrace());

    // Which task is stuck where (pprof's goroutine profile).
    println!("\n== goro::dump_tasks()\n{}", goro::dump_tasks());

    // For a /metrics endpoint.
    let text = goro::metrics::prometheus();
    println!(
        "== goro::metrics::prometheus() (first lines of {})",
        text.lines().count()
    );
    for line in text.lines().take(8) {
        println!("{line}");
    }

    if let Some(secs) = wait {
        println!(
            "\nwaiting {secs} s: `kill -USR1 {}` prints a task dump to stderr",
            std::process::id()
        );
        goro::time::sleep(Duration::from_secs(secs)).await;
    }

    drop(tx);
    for w in waiters {
        w.await.unwrap();
    }
    for s in sleepers {
        s.abort();
    }
    ticker.abort();
}
