//! Result lines: the `KEY key=value ...` lines children print and parents
//! parse, and the pass/fail word of a checked target.

/// The value of `key=value` in a result line.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// The number at `key=` in a result line, NaN if missing.
pub fn num(line: &str, key: &str) -> f64 {
    field(line, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// `pass` / `fail`, or `n/a` when a figure is missing.
pub fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "pass",
        Some(false) => "**fail**",
        None => "n/a",
    }
}

/// The number `key` of each line, to one decimal: a table's per-round
/// column.
pub fn per_round(lines: &[String], key: &str) -> Vec<String> {
    lines
        .iter()
        .map(|l| format!("{:.1}", num(l, key)))
        .collect()
}
