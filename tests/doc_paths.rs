//! The doc examples of what the facade re-exports use `goro::` paths, so
//! that an example pasted into a user's program compiles. (The doctests of
//! each crate then prove they compile: the crates have `goro` as a
//! dev-dependency for this.) This test catches a relapse to the internal
//! paths in any doc code block of those items.

use std::path::Path;

/// Paths a user cannot name, that the facade re-exports under `goro::`.
const INTERNAL: &[(&str, &str)] = &[
    ("goro_reactor::net", "goro::net"),
    ("goro_reactor::time", "goro::time"),
    ("goro_reactor::Async", "goro::Async"),
    ("goro_reactor::coop", "goro::coop"),
    ("goro_reactor::__block_on_for_docs", "goro::block_on"),
    ("goro_blocking::fs", "goro::fs"),
    ("goro_blocking::unblock", "goro::unblock"),
    ("goro_blocking::Unblock", "goro::Unblock"),
    ("goro_blocking::spawn_blocking", "goro::spawn_blocking"),
    ("goro_procs::", "goro::procs::"),
    ("goro_executor::JoinHandle", "goro::JoinHandle"),
    ("goro_executor::JoinError", "goro::JoinError"),
    ("goro_executor::Handle", "goro::Handle"),
    ("goro_executor::yield_now", "goro::yield_now"),
    ("goro_executor::should_yield", "goro::should_yield"),
    ("goro_executor::blocking", "goro::blocking"),
    ("futures_lite::future::block_on", "goro::block_on"),
    ("use futures_lite::", "goro::io, goro::stream"),
];

/// Files whose doc examples are all on items the facade re-exports.
const FILES: &[&str] = &[
    "crates/goro-reactor/src/async_io.rs",
    "crates/goro-reactor/src/coop.rs",
    "crates/goro-reactor/src/net",
    "crates/goro-reactor/src/time",
    "crates/goro-blocking/src/fs",
    "crates/goro-blocking/src/unblock.rs",
    "crates/goro-blocking/src/stream.rs",
    "crates/goro-procs/src",
    "crates/goro-executor/src/join.rs",
    "crates/goro-executor/src/dump.rs",
    "crates/goro-executor/src/stats.rs",
    "crates/goro-executor/src/latency.rs",
    "crates/goro-executor/src/yield_now.rs",
    "crates/goro-executor/src/handoff.rs",
    "src",
    "docs",
    "README.md",
];

fn rust_and_md_files(p: &Path, out: &mut Vec<std::path::PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            rust_and_md_files(&e.unwrap().path(), out);
        }
    } else if p.extension().is_some_and(|e| e == "rs" || e == "md") {
        out.push(p.to_owned());
    }
}

/// The lines of code blocks in doc comments (`.rs`) or fenced blocks (`.md`).
fn example_lines(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let md = path.extension().is_some_and(|e| e == "md");
    let mut in_code = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let body = if md {
            t
        } else if let Some(b) = t.strip_prefix("///").or_else(|| t.strip_prefix("//!")) {
            b.trim_start()
        } else {
            in_code = false;
            continue;
        };
        if body.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push((i + 1, body.to_owned()));
        }
    }
    out
}

#[test]
fn doc_examples_of_reexported_items_use_goro_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for f in FILES {
        rust_and_md_files(&root.join(f), &mut files);
    }
    assert!(files.len() > 40, "found only {} files", files.len());
    let mut bad = Vec::new();
    for f in &files {
        for (n, line) in example_lines(f) {
            for (internal, public) in INTERNAL {
                if line.contains(internal) {
                    bad.push(format!(
                        "{}:{n}: `{internal}` (use {public}): {line}",
                        f.strip_prefix(root).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "doc examples with internal paths:\n{}",
        bad.join("\n")
    );
}
