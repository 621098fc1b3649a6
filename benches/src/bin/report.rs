//! Turns criterion's saved estimates and the `idle_memory` output into one
//! markdown table: shape, goro / tokio / smol / smol_static ns per element, the ratio of goro
//! to the best peer, the target and pass/fail.
//!
//! ```text
//! report --criterion-dir DIR --baseline NAME [--idle FILE] [--allocator NAME]
//! ```
//!
//! `DIR` is `$CARGO_TARGET_DIR/criterion`; `NAME` is the `--save-baseline`
//! name the criterion run used (`report.sh` uses the allocator name). For each
//! bench it reads `DIR/<group>/<fn>[/<param>]/NAME/estimates.json` (median
//! point estimate, ns per iteration) and `benchmark.json` (throughput) and
//! prints the median per element. `FILE` is the captured stdout of the
//! `idle_memory` bench; its `IDLE_MEMORY rt=.. payload=.. bytes_per_task=..`
//! lines give the two memory rows (`channel` and `gate` payloads). Rows of
//! benches that were not run (no saved estimates) are left out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Runtime columns; `goro` first, then the peers.
const RUNTIMES: [&str; 4] = ["goro", "tokio", "smol", "smol_static"];

/// What goro is compared against.
#[derive(Clone, Copy)]
enum Peer {
    /// The fastest (smallest) of tokio, smol and smol's `StaticExecutor`.
    Best,
    /// tokio only.
    Tokio,
}

/// One table row: a criterion bench (group + optional parameter) and target.
struct Row {
    label: &'static str,
    group: &'static str,
    param: Option<&'static str>,
    /// Upper bound on goro / peer, if the shape has one.
    target: Option<f64>,
    peer: Peer,
}

const ROWS: &[Row] = &[
    Row {
        label: "spawn_many_local (10k)",
        group: "spawn_many_local",
        param: Some("10000"),
        target: Some(0.9),
        peer: Peer::Best,
    },
    Row {
        label: "spawn_many_local (1M)",
        group: "spawn_many_local",
        param: Some("1000000"),
        target: Some(0.9),
        peer: Peer::Best,
    },
    Row {
        label: "spawn_many_remote_idle",
        group: "spawn_many_remote_idle",
        param: None,
        target: Some(0.9),
        peer: Peer::Best,
    },
    Row {
        label: "spawn_many_remote_busy1",
        group: "spawn_many_remote_busy1",
        param: None,
        target: None,
        peer: Peer::Best,
    },
    Row {
        label: "ping_pong",
        group: "ping_pong",
        param: None,
        target: Some(0.75),
        peer: Peer::Tokio,
    },
    Row {
        label: "yield_many",
        group: "yield_many",
        param: None,
        target: Some(0.9),
        peer: Peer::Best,
    },
    Row {
        label: "chained_spawn",
        group: "chained_spawn",
        param: None,
        target: Some(0.9),
        peer: Peer::Best,
    },
    // `benches/spawn_blocking.rs`: element = one offload.
    Row {
        label: "spawn_blocking (1 task)",
        group: "spawn_blocking",
        param: Some("1"),
        target: Some(0.8),
        peer: Peer::Tokio,
    },
    Row {
        label: "spawn_blocking (4 tasks)",
        group: "spawn_blocking",
        param: Some("4"),
        target: Some(0.8),
        peer: Peer::Tokio,
    },
    Row {
        label: "spawn_blocking (16 tasks)",
        group: "spawn_blocking",
        param: Some("16"),
        target: Some(0.8),
        peer: Peer::Tokio,
    },
    Row {
        label: "spawn_blocking (64 tasks)",
        group: "spawn_blocking",
        param: Some("64"),
        target: Some(0.8),
        peer: Peer::Tokio,
    },
];

/// Target for idle bytes per parked task, goro / best peer.
const IDLE_TARGET: f64 = 0.8;

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Median ns per element of one bench, or `None` if it was not run.
fn ns_per_elem(dir: &Path, baseline: &str, row: &Row, rt: &str) -> Option<f64> {
    let mut base: PathBuf = dir.join(row.group).join(rt);
    if let Some(p) = row.param {
        base.push(p);
    }
    base.push(baseline);
    let est = read_json(&base.join("estimates.json"))?;
    let median = est["median"]["point_estimate"].as_f64()?;
    let elems = read_json(&base.join("benchmark.json"))
        .and_then(|b| b["throughput"]["Elements"].as_f64())
        .unwrap_or(1.0);
    Some(median / elems)
}

/// goro / peer, with the peer's name.
fn ratio(vals: &BTreeMap<&str, f64>, peer: Peer) -> Option<(f64, &'static str)> {
    let goro = *vals.get("goro")?;
    let (name, best) = match peer {
        Peer::Tokio => ("tokio", *vals.get("tokio")?),
        Peer::Best => ["tokio", "smol", "smol_static"]
            .into_iter()
            .filter_map(|n| Some((n, *vals.get(n)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?,
    };
    Some((goro / best, name))
}

fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.prec$}"))
}

/// Appends one table line.
fn line(
    out: &mut Vec<String>,
    label: &str,
    vals: &BTreeMap<&str, f64>,
    peer: Peer,
    target: Option<f64>,
) -> Option<bool> {
    let r = ratio(vals, peer);
    let pass = match (r, target) {
        (Some((r, _)), Some(t)) => Some(r <= t),
        _ => None,
    };
    let target_s = match (target, peer) {
        (Some(t), Peer::Tokio) => format!("≤ {t:.2} × tokio"),
        (Some(t), Peer::Best) => format!("≤ {t:.2}"),
        (None, _) => "—".to_owned(),
    };
    out.push(format!(
        "| {label} | {} | {} | {} | {} | {} | {target_s} | {} |",
        fmt_opt(vals.get("goro").copied(), 1),
        fmt_opt(vals.get("tokio").copied(), 1),
        fmt_opt(vals.get("smol").copied(), 1),
        fmt_opt(vals.get("smol_static").copied(), 1),
        r.map_or_else(|| "—".to_owned(), |(r, p)| format!("{r:.2} ({p})")),
        match pass {
            Some(true) => "pass",
            Some(false) => "**fail**",
            None => "n/a",
        }
    ));
    pass
}

/// `rt -> bytes_per_task` for one payload from captured `idle_memory` output.
fn idle_memory(path: &Path, payload: &str) -> BTreeMap<&'static str, f64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = BTreeMap::new();
    for l in text.lines() {
        let Some(rest) = l.strip_prefix("IDLE_MEMORY ") else {
            continue;
        };
        let field = |key: &str| {
            rest.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        };
        let (Some(rt), Some(b)) = (field("rt"), field("bytes_per_task")) else {
            continue;
        };
        if field("payload") != Some(payload) {
            continue;
        }
        if let (Some(rt), Ok(b)) = (RUNTIMES.into_iter().find(|r| *r == rt), b.parse()) {
            out.insert(rt, b);
        }
    }
    out
}

fn main() {
    let mut dir = None;
    let mut baseline = "new".to_owned();
    let mut idle = None;
    let mut allocator = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--criterion-dir" => dir = Some(PathBuf::from(val())),
            "--baseline" => baseline = val(),
            "--idle" => idle = Some(PathBuf::from(val())),
            "--allocator" => allocator = Some(val()),
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = dir.unwrap_or_else(|| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
        PathBuf::from(target).join("criterion")
    });

    let mut out = vec![
        format!(
            "### allocator: {} (criterion baseline `{baseline}`)",
            allocator.as_deref().unwrap_or(&baseline)
        ),
        String::new(),
        "Median ns per element (spawn, round trip or yield); ratio = goro / peer \
         named in brackets (best of tokio, smol and smol_static unless stated); \
         smol_static is smol's `StaticExecutor` (`Executor::leak()`)."
            .to_owned(),
        String::new(),
        "| shape | goro | tokio | smol | smol_static | ratio | target | result |".to_owned(),
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |".to_owned(),
    ];
    let (mut pass, mut fail) = (0, 0);
    let mut tally = |p: Option<bool>| match p {
        Some(true) => pass += 1,
        Some(false) => fail += 1,
        None => {}
    };
    for row in ROWS {
        let vals: BTreeMap<&str, f64> = RUNTIMES
            .into_iter()
            .filter_map(|rt| Some((rt, ns_per_elem(&dir, &baseline, row, rt)?)))
            .collect();
        if vals.is_empty() {
            continue; // not run (e.g. a filtered run or another bench target)
        }
        tally(line(&mut out, row.label, &vals, row.peer, row.target));
    }
    if let Some(path) = idle {
        for (payload, label) in [
            ("channel", "idle memory, channel (bytes / parked task)"),
            ("gate", "idle memory, gate (bytes / parked task)"),
        ] {
            let vals = idle_memory(&path, payload);
            tally(line(&mut out, label, &vals, Peer::Best, Some(IDLE_TARGET)));
        }
    }
    out.push(String::new());
    out.push(format!("targets met: {pass}, missed: {fail}"));
    println!("{}", out.join("\n"));
}
