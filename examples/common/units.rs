//! Command-line values shared by the WebSocket examples (`ws_echo`,
//! `ws_load`): durations with units.

use std::time::Duration;

/// The longest duration a flag takes: far beyond any sensible timeout, and
/// far from where `Instant + duration` overflows (which panics).
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// `10s`, `500ms`, `2m`, `1h`, `1.5s`, or plain seconds; at most
/// [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (try 10s, 500ms, 2m)"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "unknown duration unit in {s:?} (try 10s, 500ms, 2m)"
            ));
        }
    };
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| *d <= MAX_DURATION)
        .ok_or_else(|| format!("duration out of range: {s:?} (at most 365 days)"))
}

/// [`parse_duration`] for the value of `flag`, whose name the error starts
/// with.
pub fn flag_duration(flag: &str, value: &str) -> Result<Duration, String> {
    parse_duration(value).map_err(|e| format!("{flag}: {e}"))
}
