//! `ws_echo`: a WebSocket echo server on goro, one task per connection,
//! like a Go server's one goroutine per connection.
//!
//! ```text
//! cargo run --release --example ws_echo
//! cargo run --release --example ws_echo -- --addr 0.0.0.0:9001 --max-connections 20000
//! ```
//!
//! Point any WebSocket client at it (`python3 -m websockets
//! ws://127.0.0.1:9001`), or the load client: `cargo run --release
//! --example ws_load`. Ctrl-C or SIGTERM stops it gracefully: it stops
//! accepting, closes open connections with 1001 (going away), waits for
//! them up to the grace period and prints a summary. A second signal exits
//! at once. The server itself is in `server.rs`.

mod args;
mod server;
#[cfg(test)]
mod tests;
#[path = "../common/units.rs"]
mod units;

use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use args::{Options, parse_args};
use goro::CancelToken;
use indicatif::HumanCount;
use server::{Server, human_bytes};

const USAGE: &str = "\
usage: ws_echo [OPTIONS]

  --addr HOST:PORT         where to listen (env WS_ECHO_ADDR; default 127.0.0.1:9001)
  --max-message SIZE       largest message and frame accepted, e.g. 16MiB, 64KiB, 4096
                           (default 16MiB); bigger ones are closed with 1009
  --message-budget SIZE    buffered message bytes all connections together may hold
                           (default 512MiB; at least twice --max-message); a message
                           past it is refused with close code 1013 (try again later)
  --read-buffer SIZE       each connection's read buffer, 64 bytes to 16MiB (default
                           1KiB): held by idle connections too; 8KiB echoes messages
                           of a few KiB with fewer reads
  --max-connections N      open connections past which new clients get HTTP 503
                           (default 10000; lowered to fit the open-file limit)
  --handshake-timeout DUR  drop clients that have not finished the handshake by then,
                           e.g. 10s, 500ms, 2m (default 10s)
  --idle-timeout DUR       close connections silent that long with 1001 (default 300s)
  --grace DUR              on Ctrl-C/SIGTERM, how long open connections get to close
                           (default 5s)
  --reuseport              bind with SO_REUSEPORT: several ws_echo processes can share
                           the port, and the kernel spreads connections over them
  --quiet                  no status line
  -h, --help               this text
";

/// How often the status line is printed.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// How long after connections last fell the free memory is returned once
/// more: by then the runtime's spare threads, which outlive a burst by
/// their 10 s keep-alive, have exited and freed what they held.
const TRIM_AGAIN_AFTER: Duration = Duration::from_secs(15);
/// Descriptors kept free of connections: the listener, stdio, the
/// runtime's own, and connections being refused with 503.
#[cfg(unix)]
const RESERVED_FDS: u64 = 128;

/// The number of OS threads in this process, from `/proc/self/status`.
fn os_threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

/// Cancels `stop` on the first SIGINT or SIGTERM and exits on the second.
#[cfg(unix)]
fn watch_signals(stop: CancelToken) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    // signal-hook's iterator blocks, so it gets a plain thread, not a task.
    std::thread::Builder::new()
        .name("ws_echo-signals".into())
        .spawn(move || {
            for (n, _) in signals.forever().enumerate() {
                if n == 0 {
                    stop.cancel();
                } else {
                    eprintln!("ws_echo: second signal: exiting without waiting");
                    std::process::exit(130);
                }
            }
        })?;
    Ok(())
}

/// Windows: signal-hook's iterator is Unix-only, so Ctrl-C keeps its default
/// (the process ends at once, without the graceful stop).
#[cfg(not(unix))]
fn watch_signals(_stop: CancelToken) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "the graceful stop on a signal is Unix-only in this example",
    ))
}

#[goro::main]
async fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprint!("ws_echo: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Options {
        addr,
        mut config,
        quiet,
    } = opts;
    config.addr = match addr.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            eprintln!("ws_echo: {addr:?} resolves to no address");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("ws_echo: bad --addr {addr:?}: {e}");
            return ExitCode::from(2);
        }
    };
    // One descriptor per connection: past the open-file limit accept fails,
    // which a client sees as a hang. Refusing with 503 below it is cleaner.
    // (Unix only: Windows has no such limit on sockets.)
    #[cfg(unix)]
    match goro::net::raise_fd_limit() {
        Ok(limit) => {
            let fit = usize::try_from(limit.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
            if config.max_connections > fit {
                eprintln!(
                    "ws_echo: the open-file limit is {limit}: --max-connections lowered from {} to {fit}",
                    config.max_connections
                );
                config.max_connections = fit;
            }
        }
        Err(e) => eprintln!("ws_echo: cannot raise the open-file limit: {e}"),
    }

    let mut server = match Server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ws_echo: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = server.config();
    println!(
        "ws_echo: listening on {} (one goro task per connection)",
        server.url()
    );
    println!(
        "  limits: messages up to {}, message budget {}, {} connections, handshake timeout {:?}, idle timeout {:?}",
        human_bytes(c.max_message_size),
        human_bytes(c.message_budget),
        HumanCount(c.max_connections as u64),
        c.handshake_timeout,
        c.idle_timeout
    );
    println!("  try it:");
    println!(
        "    cargo run --release --example ws_load -- --url {}",
        server.url()
    );
    println!(
        "    python3 -m websockets {}   (after: pip install websockets)",
        server.url()
    );
    println!("  Ctrl-C to stop");

    let stop = CancelToken::new();
    if let Err(e) = watch_signals(stop.clone()) {
        eprintln!("ws_echo: cannot watch for Ctrl-C/SIGTERM: {e}");
    }
    let started = Instant::now();
    // The first status line after one period, not at once.
    let mut ticks = goro::time::interval_at(started + STATUS_EVERY, STATUS_EVERY);
    let mut last = (Instant::now(), 0);
    let mut last_open = 0;
    let mut trim_again_at = None;
    loop {
        goro::select! {
            _ = ticks.tick() => {
                let s = server.stats();
                // Connections closed since the last tick: give what they
                // freed back to the OS (see `release_free_memory`), and
                // once more when the server has been quiet for a while.
                if s.active < last_open {
                    server::release_free_memory();
                    trim_again_at = Some(Instant::now() + TRIM_AGAIN_AFTER);
                } else if trim_again_at.is_some_and(|at| Instant::now() >= at) {
                    server::release_free_memory();
                    trim_again_at = None;
                }
                last_open = s.active;
                if quiet {
                    continue;
                }
                let now = Instant::now();
                let rate = (s.messages - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
                last = (now, s.messages);
                let heap = server::heap_in_use_kib()
                    .map_or_else(String::new, |k| format!(" | {k} KiB heap"));
                println!(
                    "ws_echo: {} connections | {} msg/s | {} buffered | {} tasks | {} threads{heap}",
                    s.active,
                    HumanCount(rate.round() as u64),
                    human_bytes(server.budget_used()),
                    goro::Handle::current().num_tasks(),
                    os_threads().map_or_else(|| "?".to_owned(), |n| n.to_string()),
                );
            },
            _ = stop.cancelled() => break,
        }
    }

    let open = server.stats().active;
    println!(
        "ws_echo: stopping: no new connections; closing {open} open with 1001 (going away), \
         waiting up to {:?}",
        server.config().grace_period
    );
    let report = server.shutdown().await;
    println!(
        "ws_echo: stopped after {:.1?} up; shutdown took {:.1?}: {}",
        started.elapsed(),
        report.took,
        if report.graceful {
            format!(
                "all {} open connections closed in time",
                report.open_at_stop
            )
        } else {
            format!(
                "the grace period ran out; {} of {} open connections dropped",
                report.stats.forced, report.open_at_stop
            )
        }
    );
    println!("{}", report.stats);
    ExitCode::SUCCESS
}
