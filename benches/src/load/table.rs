//! The markdown table of a load setting, and goro against tokio's targets.

use super::runs::ServerRun;
use crate::lines::{num, verdict};
use crate::stats::mean;

/// Target for goro against tokio: round trips/s at least this multiple.
pub const TARGET_RT_RATIO: f64 = 1.1;
/// Target for goro against tokio: server CPU per round trip at most this multiple.
pub const TARGET_CPU_RATIO: f64 = 0.9;
/// Target for goro against tokio: p99 latency at most this multiple.
pub const TARGET_P99_RATIO: f64 = 1.0;

/// Prints the markdown table of one load setting (one connection count):
/// per server the mean over its rounds of round trips/s, p99, server and
/// client CPU per round trip, the server's threads and RSS after the run,
/// and goro / this server for round trips/s, CPU per round trip and p99;
/// then goro / tokio against the targets.
pub fn print_load_table(title: &str, rows: &[(&str, Vec<ServerRun>)]) {
    let agg = |runs: &[ServerRun], key: &str| {
        mean(&runs.iter().map(|r| num(&r.load, key)).collect::<Vec<_>>())
    };
    let stats: Vec<[f64; 5]> = rows
        .iter()
        .map(|(_, runs)| {
            [
                agg(runs, "rt_per_s"),
                agg(runs, "p99_us"),
                agg(runs, "server_cpu_us_per_rt"),
                agg(runs, "client_cpu_us_per_rt"),
                agg(runs, "p50_us"),
            ]
        })
        .collect();
    let goro = rows
        .iter()
        .position(|(n, _)| *n == "goro")
        .map(|i| stats[i]);
    println!();
    println!("{title}");
    println!();
    println!(
        "| server | rt/s | rt/s per round | p50 µs | p99 µs | server CPU µs/rt | client CPU µs/rt \
         | server threads | server RSS MiB | other CPU s per round | goro/this rt/s \
         | goro/this CPU/rt | goro/this p99 |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for ((name, runs), s) in rows.iter().zip(&stats) {
        let per_round: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.0}", num(&r.load, "rt_per_s")))
            .collect();
        let threads = runs
            .iter()
            .filter_map(|r| r.threads)
            .max()
            .map_or("-".to_owned(), |t| t.to_string());
        let rss = mean(
            &runs
                .iter()
                .map(|r| r.rss_mib.unwrap_or(f64::NAN))
                .collect::<Vec<_>>(),
        );
        let other: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.1}", num(&r.load, "other_cpu_s")))
            .collect();
        let ratio = |i: usize| goro.map_or(f64::NAN, |g| g[i] / s[i]);
        println!(
            "| {name} | {:.0} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {threads} | {rss:.1} | {} | {:.2} | {:.2} | {:.2} |",
            s[0],
            per_round.join(" / "),
            s[4],
            s[1],
            s[2],
            s[3],
            other.join(" / "),
            ratio(0),
            ratio(2),
            ratio(1)
        );
    }
    let bad: Vec<String> = rows
        .iter()
        .flat_map(|(name, runs)| {
            runs.iter().filter_map(move |r| {
                let errors =
                    num(&r.load, "errors") + num(&r.load, "connect_failed") + num(&r.load, "stuck");
                (errors != 0.0).then(|| format!("{name}: {}", r.load))
            })
        })
        .collect();
    for b in &bad {
        println!("errors in a run: {b}");
    }
    let tokio = rows
        .iter()
        .position(|(n, _)| *n == "tokio")
        .map(|i| stats[i]);
    if let (Some(g), Some(t)) = (goro, tokio) {
        let check = |r: f64, ok: bool| verdict(r.is_finite().then_some(ok));
        let rt = g[0] / t[0];
        let cpu = g[2] / t[2];
        let p99 = g[1] / t[1];
        println!();
        println!(
            "goro / tokio: rt/s {rt:.2} (target >= {TARGET_RT_RATIO}: {}), \
             CPU/rt {cpu:.2} (target <= {TARGET_CPU_RATIO}: {}), \
             p99 {p99:.2} (target <= {TARGET_P99_RATIO}: {})",
            check(rt, rt >= TARGET_RT_RATIO),
            check(cpu, cpu <= TARGET_CPU_RATIO),
            check(p99, p99 <= TARGET_P99_RATIO),
        );
    }
}
