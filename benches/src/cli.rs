//! The benches' command line: `--name value` flags and the runtime filter.

/// The value after a `--name` flag in `args`, parsed; `default` if absent.
///
/// # Panics
/// If the value does not parse.
pub fn flag<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} needs a value")),
        None => default,
    }
}

/// The runtimes to run: all of `all`, or those whose name contains the
/// first argument that is neither a flag nor a flag's value (so
/// `cargo bench --bench tcp_echo -- goro` runs only goro's server); a
/// comma-separated filter selects those matching any part
/// (`goro,tokio`).
pub fn selected<'a>(args: &[String], all: &[&'a str]) -> Vec<&'a str> {
    let mut filter = None;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--bench" || a == "--nocapture" {
            i += 1;
        } else if a.starts_with("--") {
            i += 2;
        } else {
            filter = Some(a.as_str());
            break;
        }
    }
    all.iter()
        .copied()
        .filter(|rt| filter.is_none_or(|f| f.split(',').any(|p| rt.contains(p))))
        .collect()
}
