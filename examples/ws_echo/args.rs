//! `ws_echo`'s command line: every flag's value is checked here, at
//! start-up, and a bad one is an error naming the flag, not a panic later in
//! a connection's task. The tests (`tests.rs`) call it too.

use crate::server::{Config, FREE_PER_MESSAGE};
use crate::units::flag_duration;

/// The command line, parsed.
pub struct Options {
    pub addr: String,
    pub config: Config,
    pub quiet: bool,
}

/// Parses the arguments after the program name; `Ok(None)` for `--help`.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut opts = Options {
        addr: std::env::var("WS_ECHO_ADDR").unwrap_or_else(|_| "127.0.0.1:9001".to_owned()),
        config: Config::default(),
        quiet: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--quiet" | "-q" => opts.quiet = true,
            "--reuseport" => opts.config.reuseport = true,
            "--addr" => opts.addr = value("--addr")?,
            "--max-message" => {
                let size = parse_size(&value("--max-message")?)
                    .map_err(|e| format!("--max-message: {e}"))?;
                opts.config.max_message_size = size;
                opts.config.max_frame_size = size;
            }
            "--max-connections" => {
                let v = value("--max-connections")?;
                opts.config.max_connections =
                    v.parse().ok().filter(|&n: &usize| n > 0).ok_or_else(|| {
                        format!("--max-connections: not a count of 1 or more: {v:?}")
                    })?;
            }
            "--handshake-timeout" => {
                opts.config.handshake_timeout =
                    positive("--handshake-timeout", &value("--handshake-timeout")?)?;
            }
            "--idle-timeout" => {
                opts.config.idle_timeout = positive("--idle-timeout", &value("--idle-timeout")?)?;
            }
            "--read-buffer" => {
                let v = value("--read-buffer")?;
                opts.config.read_buffer_size = parse_size_up_to(&v, MAX_READ_BUFFER)
                    .ok()
                    .filter(|&n| n >= MIN_READ_BUFFER)
                    .ok_or_else(|| {
                        format!("--read-buffer: not a size from 64 bytes to 16MiB: {v:?}")
                    })?;
            }
            "--message-budget" => {
                let v = value("--message-budget")?;
                opts.config.message_budget = parse_size_up_to(&v, MAX_BUDGET)
                    .map_err(|e| format!("--message-budget: {e}"))?;
            }
            // Zero is allowed: drop open connections at once on a stop.
            "--grace" => opts.config.grace_period = flag_duration("--grace", &value("--grace")?)?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    // Checked once every flag is in, whatever their order.
    let c = &opts.config;
    let least = 2 * c.max_message_size.saturating_sub(FREE_PER_MESSAGE);
    if c.message_budget < least {
        return Err(format!(
            "--message-budget {} is too small for --max-message {}: a message is charged twice \
             its bytes past the first 64KiB, so the budget must be at least {least} bytes",
            c.message_budget, c.max_message_size
        ));
    }
    Ok(Some(opts))
}

/// A duration flag that must be more than zero (a zero timeout would drop
/// every connection at once).
fn positive(flag: &str, value: &str) -> Result<std::time::Duration, String> {
    let d = flag_duration(flag, value)?;
    if d.is_zero() {
        return Err(format!("{flag}: must be more than 0, got {value:?}"));
    }
    Ok(d)
}

/// The largest message size accepted: 1 GiB, as each message is buffered
/// whole before it is echoed.
pub const MAX_MESSAGE: usize = 1 << 30;

/// The read buffer's bounds: a frame header (14 bytes) must fit with room
/// to spare, and more than 16 MiB per connection is a mistake.
pub const MIN_READ_BUFFER: usize = 64;
pub const MAX_READ_BUFFER: usize = 16 << 20;

/// The largest message budget: 1 TiB.
pub const MAX_BUDGET: usize = 1 << 40;

/// `16MiB`, `64KiB`, `1M`, `4096` (bytes), from 1 byte to [`MAX_MESSAGE`].
pub fn parse_size(s: &str) -> Result<usize, String> {
    parse_size_up_to(s, MAX_MESSAGE)
}

/// A size as [`parse_size`] reads it, from 1 byte to `max`.
pub fn parse_size_up_to(s: &str, max: usize) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("not a size: {s:?} (try 16MiB, 64KiB, 4096)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "unknown size unit in {s:?} (try 16MiB, 64KiB, 4096)"
            ));
        }
    };
    n.checked_mul(1 << shift)
        .filter(|&n| (1..=max).contains(&n))
        .ok_or_else(|| {
            let max = crate::server::human_bytes(max).replace(' ', "");
            format!("size out of range: {s:?} (1 byte to {max})")
        })
}
