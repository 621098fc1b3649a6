//! The WebSocket echo server behind `examples/ws_echo`: one goro task per
//! connection, with the limits a public server needs and RFC 6455's answers
//! to clients that break the protocol.
//!
//! It lives apart from `main.rs` so that the example's tests (`tests.rs`,
//! run by `cargo test`: the example has `test = true`) can start the very
//! same server in-process on an ephemeral port.
//!
//! # What a connection's task does
//!
//! 1. The handshake, bounded by [`Config::handshake_timeout`]. A request
//!    that is not a WebSocket handshake gets an HTTP 4xx that says why (a
//!    wrong version gets `426` with `Sec-WebSocket-Version: 13`); past
//!    [`Config::max_connections`] a valid one gets `503`; a client that
//!    stalls gets `408` and is dropped.
//! 2. The echo loop: text and binary messages go back as they came, pings
//!    are answered (by tungstenite, on the next read), and a client's close
//!    is answered with the same code: any code a client may send (1000 to
//!    1003, 1007 to 1014, 3000 to 4999; 1014 with the help of
//!    `close_codes.rs`), while the others (1004 to 1006, 1015, the
//!    unassigned ones up to 2999) get 1002.
//! 3. The end. A protocol violation is answered with a close frame carrying
//!    the code RFC 6455 asks for (1002 protocol error, 1007 invalid UTF-8,
//!    1009 too big) before the TCP close, instead of the silent drop of the
//!    usual echo loop. Idle connections and a server shutdown get 1001.
//!
//! # Memory per idle connection
//!
//! An idle connection costs about 3.7 KB of RSS (15,000 idle connections
//! after their handshake and two echoes, release build; it was 23 KB, see
//! benches/README.md), on top of the kernel's socket memory. What it holds:
//!
//! - its task's future, about 2 KB: the handshake, error replies and the
//!   final close are boxed, so that their large states (tungstenite's
//!   handshake buffers, a discard buffer) are allocated only while they
//!   run instead of sizing every connection's future; the grace-period
//!   abort is polled by hand, as `CancelToken::run_until_cancelled` would
//!   keep two copies of the connection's future. A test keeps the future
//!   under 3 KiB;
//! - tungstenite's read buffer, [`Config::read_buffer_size`], 1 KiB by
//!   default: tungstenite fills the free part with zeros before each read,
//!   so all of it is resident. A larger frame gets a buffer of its own
//!   size once its header has arrived, so small buffers cost large
//!   messages nothing but one more read;
//! - tungstenite's write buffer, as large as the largest echo so far;
//! - its timer, the reactor's registration and the runtime's task.
//!
//! Not done yet: waiting for readability before taking a read buffer and
//! giving it back to a pool while idle, and dropping the buffers after a
//! large message (tungstenite keeps both at their high-water mark: an idle
//! connection that once echoed 4 MB holds 8 MB; the message budget counts
//! it). Both need a frame codec of our own instead of tungstenite's.
//!
//! # Memory under abuse
//!
//! Buffered message bytes are bounded server-wide by
//! [`Config::message_budget`] (see `budget.rs`): a message's bytes past its
//! first 64 KiB are charged twice (in and out) when its frame header
//! arrives, before its payload is read; a message that does not fit is
//! refused with 1013 (try again later). As tungstenite keeps its buffers
//! at their high-water mark, a connection keeps its largest charge until
//! it closes. tungstenite's write buffer is capped at one echo of the largest
//! message.
//!
//! The handshake and the WebSocket run on `&TcpStream` rather than on the
//! stream itself: the task keeps the stream, so it can still answer on it
//! after tungstenite gave up (an HTTP error reply after a failed handshake)
//! and half-close it before the final drain.

use indicatif::HumanCount;
use std::fmt;
use std::future::{Future, pending, poll_fn};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::task::Poll;
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Utf8Bytes;
use async_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use async_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use async_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use goro::CancelToken;
use goro::net::{TcpListener, TcpStream};
use goro::sync::WaitGroup;

#[path = "budget.rs"]
mod budget;
#[path = "close_codes.rs"]
mod close_codes;
pub use budget::FREE_PER_MESSAGE;
use budget::{Budget, Meter, OverBudget};
use close_codes::CloseCodes;

/// The WebSocket of a connection: tungstenite over the borrowed socket,
/// through the close code fix of [`close_codes`].
type Ws<'a> = WebSocketStream<CloseCodes<&'a TcpStream>>;

/// How long a connection we are closing gets to answer our close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// How long we read and discard a failed client's input before closing,
/// so that our close frame or HTTP error reply is not destroyed by an RST.
const LINGER: Duration = Duration::from_secs(2);
/// How long an HTTP error reply may take to write.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections being refused (`503`) at once; past this, refuse by closing.
/// Bounds the tasks and descriptors a connection flood can make us hold.
const MAX_REFUSING: usize = 64;
/// The longest close reason a close frame can carry (125 - 2 code bytes).
const MAX_CLOSE_REASON: usize = 123;

/// What the server accepts and how long it waits.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free one (see [`Server::local_addr`]).
    pub addr: SocketAddr,
    /// The largest message accepted, in bytes, after reassembling its
    /// fragments; bigger ones are closed with 1009.
    pub max_message_size: usize,
    /// The largest single frame accepted, in bytes; bigger ones are closed
    /// with 1009 as soon as their header arrives, before their payload.
    pub max_frame_size: usize,
    /// How long a client has from its TCP connect to a finished handshake.
    pub handshake_timeout: Duration,
    /// How long a connection may stay silent before it is closed with 1001.
    pub idle_timeout: Duration,
    /// Open connections (including ones still in their handshake) past
    /// which a new client is refused with HTTP 503.
    pub max_connections: usize,
    /// On [`Server::shutdown`], how long open connections get to finish
    /// their close handshake before they are dropped.
    pub grace_period: Duration,
    /// The size of each connection's read buffer (default 1 KiB). Small
    /// buffers save memory at 10,000s of connections, and tungstenite zeroes
    /// the free part before every read, so they also save CPU on small
    /// messages; large messages still arrive in one allocation of their own
    /// size.
    pub read_buffer_size: usize,
    /// Buffered message bytes all connections together may hold (see
    /// `budget.rs`): a message's bytes past the first 64 KiB count twice
    /// (received and echoed) from its first frame header; a connection
    /// keeps the charge of its largest message until it closes, as
    /// tungstenite keeps its buffers that large. A message that does not
    /// fit is refused with close code 1013 (try again later). At least
    /// twice [`max_message_size`].
    ///
    /// [`max_message_size`]: Config::max_message_size
    pub message_budget: usize,
    /// Bind with `SO_REUSEPORT`, so that several server processes can
    /// listen on the same port and the kernel spreads new connections over
    /// them.
    pub reuseport: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 9001)),
            max_message_size: 16 << 20,
            max_frame_size: 16 << 20,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_connections: 10_000,
            grace_period: Duration::from_secs(5),
            read_buffer_size: 1 << 10,
            message_budget: 512 << 20,
            reuseport: false,
        }
    }
}

/// The server's counters, updated by the connection tasks.
#[derive(Debug, Default)]
struct Stats {
    accepted: AtomicU64,
    accept_errors: AtomicU64,
    upgraded: AtomicU64,
    refused: AtomicU64,
    bad_handshakes: AtomicU64,
    handshake_timeouts: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
    closed_protocol_error: AtomicU64,
    closed_invalid_data: AtomicU64,
    closed_too_big: AtomicU64,
    closed_busy: AtomicU64,
    closed_idle: AtomicU64,
    closed_shutdown: AtomicU64,
    vanished: AtomicU64,
    forced: AtomicU64,
    active: AtomicUsize,
    peak: AtomicUsize,
}

/// A copy of the server's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// TCP connections accepted.
    pub accepted: u64,
    /// `accept` calls that failed (out of descriptors, for example).
    pub accept_errors: u64,
    /// Connections that completed the WebSocket handshake.
    pub upgraded: u64,
    /// Connections refused past [`Config::max_connections`].
    pub refused: u64,
    /// Handshakes that failed (answered with an HTTP 4xx when the client was
    /// still there to read it).
    pub bad_handshakes: u64,
    /// Handshakes that did not finish within [`Config::handshake_timeout`].
    pub handshake_timeouts: u64,
    /// Text and binary messages echoed.
    pub messages: u64,
    /// Payload bytes echoed.
    pub bytes: u64,
    /// Connections closed with 1002 (protocol error).
    pub closed_protocol_error: u64,
    /// Connections closed with 1007 (invalid UTF-8 in a text message).
    pub closed_invalid_data: u64,
    /// Connections closed with 1009 (message or frame too big).
    pub closed_too_big: u64,
    /// Connections closed with 1013 (try again later): their message did
    /// not fit in [`Config::message_budget`].
    pub closed_busy: u64,
    /// Connections closed with 1001 after [`Config::idle_timeout`].
    pub closed_idle: u64,
    /// Connections closed with 1001 because the server shut down.
    pub closed_shutdown: u64,
    /// Connections whose client vanished without a close handshake (TCP
    /// closed or reset, possibly mid-frame).
    pub vanished: u64,
    /// Connections dropped when the grace period ran out.
    pub forced: u64,
    /// Connections open now (handshaking or upgraded).
    pub active: usize,
    /// The most connections open at once.
    pub peak: usize,
}

impl Stats {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            accepted: self.accepted.load(Relaxed),
            accept_errors: self.accept_errors.load(Relaxed),
            upgraded: self.upgraded.load(Relaxed),
            refused: self.refused.load(Relaxed),
            bad_handshakes: self.bad_handshakes.load(Relaxed),
            handshake_timeouts: self.handshake_timeouts.load(Relaxed),
            messages: self.messages.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            closed_protocol_error: self.closed_protocol_error.load(Relaxed),
            closed_invalid_data: self.closed_invalid_data.load(Relaxed),
            closed_too_big: self.closed_too_big.load(Relaxed),
            closed_busy: self.closed_busy.load(Relaxed),
            closed_idle: self.closed_idle.load(Relaxed),
            closed_shutdown: self.closed_shutdown.load(Relaxed),
            vanished: self.vanished.load(Relaxed),
            forced: self.forced.load(Relaxed),
            active: self.active.load(Relaxed),
            peak: self.peak.load(Relaxed),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Relaxed);
}

/// A byte count in the largest binary unit that divides it: `16 MiB`,
/// `1500 bytes`.
pub fn human_bytes(n: usize) -> String {
    match n {
        0 => "0 bytes".to_owned(),
        n if n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

impl fmt::Display for Snapshot {
    /// The multi-line summary `ws_echo` prints when it stops.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "connections: {} accepted, {} upgraded, {} refused (limit), peak {} open",
            self.accepted, self.upgraded, self.refused, self.peak
        )?;
        writeln!(
            f,
            "handshakes:  {} bad (HTTP 4xx), {} timed out",
            self.bad_handshakes, self.handshake_timeouts
        )?;
        writeln!(
            f,
            "echoed:      {} messages, {} bytes",
            HumanCount(self.messages),
            HumanCount(self.bytes)
        )?;
        writeln!(
            f,
            "closed by us: {} protocol error (1002), {} invalid UTF-8 (1007), {} too big (1009), {} over the message budget (1013), {} idle (1001), {} shutdown (1001)",
            self.closed_protocol_error,
            self.closed_invalid_data,
            self.closed_too_big,
            self.closed_busy,
            self.closed_idle,
            self.closed_shutdown
        )?;
        write!(
            f,
            "without a close handshake: {} vanished clients, {} dropped after the grace period, {} accept errors",
            self.vanished, self.forced, self.accept_errors
        )
    }
}

/// What [`Server::shutdown`] found and did.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownReport {
    /// Connections open when the shutdown began.
    pub open_at_stop: usize,
    /// Whether every connection closed within the grace period.
    pub graceful: bool,
    /// How long the shutdown took.
    pub took: Duration,
    /// The counters once every connection task had ended.
    pub stats: Snapshot,
}

/// State shared by the accept loop and the connection tasks.
struct Shared {
    config: Config,
    ws_config: WebSocketConfig,
    /// Buffered message bytes, shared by all connections.
    budget: Arc<Budget>,
    stats: Stats,
    /// Stop accepting; open connections close with 1001.
    stop: CancelToken,
    /// The grace period is over: connection tasks end where they are.
    abort: CancelToken,
    /// One count per live connection task (refusals included).
    conns: WaitGroup,
    /// Connections being refused right now.
    refusing: AtomicUsize,
}

/// A running echo server: an accept loop and one task per connection.
///
/// Dropping it without [`shutdown`](Server::shutdown) stops it abruptly:
/// the listener closes and every connection task ends at its next `.await`.
pub struct Server {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<goro::JoinHandle<()>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("config", &self.shared.config)
            .field("stats", &self.shared.stats.snapshot())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `config.addr` and starts accepting in a task of the current
    /// runtime (the global one outside a runtime).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(config: Config) -> io::Result<Server> {
        let listener = if config.reuseport {
            bind_reuseport(config.addr)?
        } else {
            TcpListener::bind(config.addr).await?
        };
        let local_addr = listener.local_addr()?;
        let ws_config = ws_config(&config);
        let shared = Arc::new(Shared {
            budget: Arc::new(Budget::new(config.message_budget)),
            config,
            ws_config,
            stats: Stats::default(),
            stop: CancelToken::new(),
            abort: CancelToken::new(),
            conns: WaitGroup::new(),
            refusing: AtomicUsize::new(0),
        });
        let acceptor = goro::go(accept_loop(listener, shared.clone()));
        Ok(Server {
            local_addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL a client connects to, `ws://ADDR`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.local_addr())
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The bytes charged to [`Config::message_budget`] now.
    pub fn budget_used(&self) -> usize {
        self.shared.budget.used()
    }

    /// The counters now.
    pub fn stats(&self) -> Snapshot {
        self.shared.stats.snapshot()
    }

    /// Stops accepting, closes every open connection with 1001 (going
    /// away), waits for them up to [`Config::grace_period`], drops the
    /// rest, and returns what happened. Calling it again returns at once.
    pub async fn shutdown(&mut self) -> ShutdownReport {
        let started = Instant::now();
        let open_at_stop = self.shared.stats.active.load(Relaxed);
        self.shared.stop.cancel();
        if let Some(acceptor) = self.acceptor.take() {
            // The accept loop ends at once and drops the listener, so new
            // clients are refused by the kernel from here on.
            let _ = acceptor.await;
        }
        let graceful =
            goro::time::timeout(self.shared.config.grace_period, self.shared.conns.wait())
                .await
                .is_ok();
        if !graceful {
            self.shared.abort.cancel();
            self.shared.conns.wait().await;
        }
        ShutdownReport {
            open_at_stop,
            graceful,
            took: started.elapsed(),
            stats: self.stats(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Without this, a server dropped in a test would leave its tasks
        // running (and counted) in the runtime.
        self.shared.stop.cancel();
        self.shared.abort.cancel();
    }
}

/// What ended a [`wait`].
enum Wake<T> {
    /// The awaited future finished with this output.
    Done(T),
    /// The stop signal fired first.
    Stop,
    /// The timer fired first.
    Timer,
}

/// Waits for `fut` unless `stop` or `timer` fires first. `stop` is polled
/// first, so a shutdown is never starved by a chatty client; `fut` before
/// `timer`, so data that is already there is never lost to a timeout.
///
/// `stop` and `timer` are borrowed rather than made per call: each
/// connection keeps one of each for its whole life, instead of registering
/// a fresh listener and timer for every message.
async fn wait<F, S, T>(fut: F, mut stop: Pin<&mut S>, mut timer: Pin<&mut T>) -> Wake<F::Output>
where
    F: Future,
    S: Future,
    T: Future,
{
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        if stop.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Stop);
        }
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Wake::Done(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Timer);
        }
        Poll::Pending
    })
    .await
}

/// The first pause after a failed accept; it doubles with each failure in
/// a row up to [`MAX_ACCEPT_BACKOFF`] (Go's `net/http` server: 5 ms to 1 s).
const FIRST_ACCEPT_BACKOFF: Duration = Duration::from_millis(5);
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut stop = pin!(shared.stop.cancelled());
    let mut never = pin!(pending::<()>());
    let mut backoff = Duration::ZERO;
    loop {
        match wait(listener.accept(), stop.as_mut(), never.as_mut()).await {
            Wake::Stop | Wake::Timer => break,
            Wake::Done(Ok((stream, _peer))) => {
                backoff = Duration::ZERO;
                admit(stream, &shared);
            }
            Wake::Done(Err(_)) => {
                bump(&shared.stats.accept_errors);
                // Whatever the error, back off before the next accept: out
                // of descriptors or memory, or with a listener that broke,
                // accept fails again at once (the connection stays in the
                // backlog), and retrying at once would spin. A one-off
                // error (a client that reset before we accepted) costs 5 ms.
                backoff = if backoff.is_zero() {
                    FIRST_ACCEPT_BACKOFF
                } else {
                    (backoff * 2).min(MAX_ACCEPT_BACKOFF)
                };
                let mut pause = pin!(goro::time::sleep(backoff));
                if let Wake::Stop = wait(pause.as_mut(), stop.as_mut(), never.as_mut()).await {
                    break;
                }
            }
        }
    }
}

/// Starts the task for a new connection, or refuses it past the limit.
fn admit(stream: TcpStream, shared: &Arc<Shared>) {
    let stats = &shared.stats;
    bump(&stats.accepted);
    // Only this loop raises `active`, so checking and then raising it is
    // not a race: other tasks can only lower it in between.
    let refuse = stats.active.load(Relaxed) >= shared.config.max_connections;
    if refuse {
        if shared.refusing.fetch_add(1, Relaxed) >= MAX_REFUSING {
            // Too many refusals in flight already: refuse by closing.
            shared.refusing.fetch_sub(1, Relaxed);
            bump(&stats.refused);
            return;
        }
    } else {
        let open = stats.active.fetch_add(1, Relaxed) + 1;
        stats.peak.fetch_max(open, Relaxed);
    }
    shared.conns.add(1);
    goro::go(connection_task(stream, refuse, shared.clone()));
}

/// The task of one connection: [`serve`], ended early when the grace
/// period runs out. Its size is what every connection holds for its whole
/// life (see "Memory per idle connection" above); a test keeps it small.
async fn connection_task(stream: TcpStream, refuse: bool, shared: Arc<Shared>) {
    let _slot = Slot {
        shared: &shared,
        refuse,
    };
    // By hand rather than with `CancelToken::run_until_cancelled`: that
    // async fn keeps its argument and its own copy of it, which doubled
    // this task's future.
    let mut serve = pin!(serve(stream, refuse, &shared));
    let mut abort = pin!(shared.abort.cancelled());
    let forced = poll_fn(|cx| {
        if abort.as_mut().poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        serve.as_mut().poll(cx).map(|()| false)
    })
    .await;
    if forced {
        bump(&shared.stats.forced);
    }
}

/// Gives a connection's place back when its task ends, however it ends
/// (returned, dropped at the end of the grace period, or panicked).
struct Slot<'a> {
    shared: &'a Shared,
    refuse: bool,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if self.refuse {
            self.shared.refusing.fetch_sub(1, Relaxed);
        } else {
            self.shared.stats.active.fetch_sub(1, Relaxed);
        }
        self.shared.conns.done();
    }
}

/// One connection, from its handshake to its close.
async fn serve(stream: TcpStream, refuse: bool, shared: &Shared) {
    let stats = &shared.stats;
    // Echo replies are small and latency-bound: Nagle would hold them back
    // waiting for the client's ACK.
    let _ = stream.set_nodelay(true);
    let limit = shared.config.max_connections;
    // Refusing in tungstenite's callback, after it has read and checked the
    // request, means the client reads a complete HTTP exchange.
    #[allow(
        clippy::result_large_err,
        reason = "tungstenite's `Callback` trait fixes this closure's type"
    )]
    let callback = move |_: &Request, response: Response| {
        if refuse {
            Err(over_limit(limit))
        } else {
            Ok(response)
        }
    };
    let mut stop = pin!(shared.stop.cancelled());
    let ws = {
        // Scoped so that the handshake's timer goes away with it.
        let mut deadline = pin!(goro::time::sleep(shared.config.handshake_timeout));
        let meter = Meter::new(
            shared.budget.clone(),
            shared.config.max_frame_size,
            shared.config.max_message_size,
        );
        // Boxed, as are the other one-off steps below: a task's future is
        // as large as its largest state, and the handshake's (tungstenite's
        // buffers inline) would otherwise stay with the connection for its
        // whole life (see "Memory per idle connection" above).
        let handshake = Box::pin(async_tungstenite::accept_hdr_async_with_config(
            CloseCodes::new(&stream).with_meter(meter),
            callback,
            Some(shared.ws_config),
        ));
        match wait(handshake, stop.as_mut(), deadline.as_mut()).await {
            // Shutting down: no WebSocket yet, so no close frame to send.
            Wake::Stop => return,
            Wake::Timer => {
                bump(&stats.handshake_timeouts);
                let why = format!(
                    "no complete WebSocket handshake within {:?}\n",
                    shared.config.handshake_timeout
                );
                Box::pin(async {
                    reply_http(&stream, 408, "Request Timeout", "", &why).await;
                    linger_close(&stream).await;
                })
                .await;
                return;
            }
            Wake::Done(Err(e)) => return Box::pin(reject(&stream, e, stats)).await,
            Wake::Done(Ok(ws)) => ws,
        }
    };
    bump(&stats.upgraded);
    echo(ws, &stream, shared, stop).await;
}

/// Gives the memory the allocator holds free back to the OS.
///
/// glibc keeps what closed connections freed in its arenas: after 15,000
/// connections closed, the RSS stays near its peak (about 340 MiB) until
/// `malloc_trim` returns the free pages. `ws_echo` calls this when the
/// number of open connections has fallen, and once more 15 s later, when
/// the runtime's spare threads have exited; it does nothing with other
/// allocators. What it cannot return (glibc's per-thread caches, the top of
/// each thread's arena) is measured in benches/README.md ("Soak").
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free pages of glibc's own arenas to
    // the OS, under the arenas' locks; it is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The bytes this process holds allocated from malloc now, rounded up to
/// KiB: glibc's `mallinfo2`, summed over its arenas (chunks in use plus
/// chunks mapped on their own). `None` with other allocators.
///
/// Unlike the RSS, this leaves out what malloc keeps free for reuse, so it
/// tells a leak (it grows) from the allocator's retention (the RSS stays
/// up while this returns): benches/soak.sh checks it returns to where it
/// was before the load. Chunks in glibc's per-thread caches count as in
/// use, so it moves by some KiB as threads come and go.
pub fn heap_in_use_kib() -> Option<usize> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallinfo2` only reads glibc's arena statistics, under
        // each arena's lock; it is safe to call from any thread.
        let m = unsafe { libc::mallinfo2() };
        Some((m.uordblks + m.hblkhd).div_ceil(1024))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// A listener with `SO_REUSEPORT` (Unix only) (and `SO_REUSEADDR`, as
/// [`TcpListener::bind`] sets it). The backlog is larger than `bind`'s
/// 1024, for the connection bursts of a scale test (the kernel caps it at
/// `net.core.somaxconn`).
fn bind_reuseport(addr: SocketAddr) -> io::Result<TcpListener> {
    #[cfg(not(unix))]
    {
        let _ = addr;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "--reuseport needs SO_REUSEPORT, which this platform does not have",
        ))
    }
    #[cfg(unix)]
    {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.bind(&addr.into())?;
        socket.listen(4096)?;
        TcpListener::from_std(socket.into())
    }
}

/// tungstenite's settings for the server's limits.
fn ws_config(config: &Config) -> WebSocketConfig {
    // Frames are flushed once this much is queued (and on every echo).
    const WRITE_BUFFER: usize = 128 << 10;
    WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_size)
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_frame_size))
        .write_buffer_size(WRITE_BUFFER)
        // The write buffer holds at most one echo (the largest message and
        // its frame header) and the control frames queued before it: a
        // bigger one is a fault, not something to buffer.
        .max_write_buffer_size(config.max_message_size.saturating_add(WRITE_BUFFER + 1024))
}

/// The 503 a client past [`Config::max_connections`] gets.
fn over_limit(limit: usize) -> ErrorResponse {
    let body = format!("the server is at its limit of {limit} open connections; try again later\n");
    let mut response = ErrorResponse::new(None);
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    *response.body_mut() = Some(body);
    response
}

/// Answers a failed handshake with the HTTP error that says why, when the
/// client is still there to read one.
async fn reject(stream: &TcpStream, error: WsError, stats: &Stats) {
    if let WsError::Http(_) = error {
        // Our own 503 (see `over_limit`), already written by tungstenite.
        bump(&stats.refused);
        linger_close(stream).await;
        return;
    }
    bump(&stats.bad_handshakes);
    let Some((status, reason, headers, why)) = handshake_rejection(&error) else {
        return; // the client hung up or the connection broke
    };
    reply_http(stream, status, reason, headers, &format!("{why}\n")).await;
    linger_close(stream).await;
}

/// The HTTP status, reason phrase, extra header lines and explanation for
/// a failed handshake, or `None` when there is nobody left to answer.
fn handshake_rejection(error: &WsError) -> Option<(u16, &'static str, &'static str, String)> {
    const BAD: (u16, &str) = (400, "Bad Request");
    const UPGRADE: (u16, &str) = (426, "Upgrade Required");
    let ((status, reason), headers, why) = match error {
        WsError::Io(_) | WsError::ConnectionClosed | WsError::AlreadyClosed => return None,
        WsError::Protocol(ProtocolError::WrongHttpMethod) => (
            (405, "Method Not Allowed"),
            "Allow: GET\r\n",
            "a WebSocket handshake is a GET request".to_owned(),
        ),
        WsError::Protocol(ProtocolError::WrongHttpVersion) => {
            (BAD, "", "a WebSocket handshake needs HTTP/1.1".to_owned())
        }
        WsError::Protocol(
            ProtocolError::MissingConnectionUpgradeHeader
            | ProtocolError::MissingUpgradeWebSocketHeader,
        ) => (
            UPGRADE,
            "Upgrade: websocket\r\n",
            "this is a WebSocket server: the request needs `Connection: Upgrade` and \
             `Upgrade: websocket`"
                .to_owned(),
        ),
        WsError::Protocol(ProtocolError::MissingSecWebSocketVersionHeader) => (
            UPGRADE,
            "Sec-WebSocket-Version: 13\r\n",
            "missing or unsupported Sec-WebSocket-Version: this server speaks version 13"
                .to_owned(),
        ),
        WsError::Protocol(
            ProtocolError::MissingSecWebSocketKey | ProtocolError::InvalidSecWebSocketKey,
        ) => (
            BAD,
            "",
            "missing or invalid Sec-WebSocket-Key (16 random bytes in base64)".to_owned(),
        ),
        WsError::Protocol(ProtocolError::JunkAfterRequest) => (
            BAD,
            "",
            "data after the handshake request, before the server's answer".to_owned(),
        ),
        WsError::Capacity(CapacityError::TooManyHeaders) => (
            (431, "Request Header Fields Too Large"),
            "",
            "too many header fields".to_owned(),
        ),
        WsError::AttackAttempt => (
            (431, "Request Header Fields Too Large"),
            "",
            "the handshake request is too large or came in too many pieces".to_owned(),
        ),
        other => (BAD, "", format!("malformed WebSocket handshake: {other}")),
    };
    Some((status, reason, headers, why))
}

/// Writes a complete HTTP/1.1 response with a plain-text body.
async fn reply_http(stream: &TcpStream, status: u16, reason: &str, headers: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nConnection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    let mut writer = stream;
    let _ = goro::time::timeout(REPLY_TIMEOUT, async {
        writer.write_all(response.as_bytes()).await?;
        writer.flush().await
    })
    .await;
}

/// Half-closes the connection, then reads and discards what the client
/// still sends until it closes too, for at most [`LINGER`].
///
/// Closing a socket with unread input makes the kernel answer with an RST,
/// and an RST can destroy what we sent last (the close frame or the HTTP
/// error reply) before the client reads it.
async fn linger_close(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let mut reader = stream;
    let mut sink = [0u8; 1024];
    let _ = goro::time::timeout(LINGER, async {
        while let Ok(1..) = reader.read(&mut sink).await {}
    })
    .await;
}

/// The echo loop of an upgraded connection, and its close.
async fn echo<S: Future>(
    mut ws: Ws<'_>,
    stream: &TcpStream,
    shared: &Shared,
    mut stop: Pin<&mut S>,
) {
    let stats = &shared.stats;
    let idle = shared.config.idle_timeout;
    // One timer per connection, re-armed lazily: when it fires early (the
    // connection was active since) it is set to the new deadline, so a busy
    // connection costs one timer per idle period, not one per message.
    let mut last_active = Instant::now();
    let mut timer = pin!(goro::time::sleep_until(last_active + idle));
    let mut never = pin!(pending::<()>());
    let close = 'echo: loop {
        let message = match wait(ws.next(), stop.as_mut(), timer.as_mut()).await {
            Wake::Stop => {
                bump(&stats.closed_shutdown);
                break close_frame(CloseCode::Away, "server shutting down");
            }
            Wake::Timer => {
                let deadline = last_active + idle;
                if Instant::now() < deadline {
                    timer.set(goro::time::sleep_until(deadline));
                    continue;
                }
                bump(&stats.closed_idle);
                break close_frame(CloseCode::Away, "idle timeout");
            }
            // The stream ends after a completed close handshake (tungstenite
            // answered the client's close on this read), or when the client
            // vanished, which tungstenite reports as an error first.
            Wake::Done(None) => return,
            Wake::Done(Some(Err(e))) => {
                match failure_close(&e, stats) {
                    Some(frame) => Box::pin(fail(ws, stream, frame)).await,
                    None => bump(&stats.vanished),
                }
                return;
            }
            Wake::Done(Some(Ok(message))) => message,
        };
        last_active = Instant::now();
        if !(message.is_text() || message.is_binary()) {
            // Ping: tungstenite queued the pong and sends it on the next
            // read. Close: likewise the reply, then the stream ends. Pong:
            // nothing to do.
            continue;
        }
        let len = message.len() as u64;
        // A client that never reads fills the socket's send buffer and
        // stalls the send: give up on it at the idle deadline.
        {
            let mut send = pin!(ws.send(message));
            loop {
                match wait(send.as_mut(), never.as_mut(), timer.as_mut()).await {
                    Wake::Done(Ok(())) => break,
                    Wake::Done(Err(_)) | Wake::Stop => {
                        bump(&stats.vanished);
                        return;
                    }
                    Wake::Timer => {
                        let deadline = last_active + idle;
                        if Instant::now() >= deadline {
                            bump(&stats.closed_idle);
                            break 'echo close_frame(
                                CloseCode::Away,
                                "idle timeout: echo not read",
                            );
                        }
                        timer.set(goro::time::sleep_until(deadline));
                    }
                }
            }
        }
        // The echo is written: the message no longer counts as queued.
        if let Some(meter) = ws.get_mut().meter() {
            meter.echoed();
        }
        stats.messages.fetch_add(1, Relaxed);
        stats.bytes.fetch_add(len, Relaxed);
    };
    // We start the close handshake: send our close, read until the
    // client's answer (dropping data it sent before it saw ours), then close
    // the TCP connection first, as RFC 6455 asks of servers.
    let _ = Box::pin(goro::time::timeout(CLOSE_WAIT, async {
        if ws.close(Some(close)).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    }))
    .await;
}

fn close_frame(code: CloseCode, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }
}

/// The close frame that answers a failed read, as RFC 6455 section 7.4.1
/// asks, or `None` when the client is gone and there is nobody to tell.
fn failure_close(error: &WsError, stats: &Stats) -> Option<CloseFrame> {
    let (code, counter) = match error {
        WsError::Io(e) if e.get_ref().is_some_and(|e| e.is::<OverBudget>()) => {
            (CloseCode::Again, &stats.closed_busy)
        }
        WsError::Io(_)
        | WsError::ConnectionClosed
        | WsError::AlreadyClosed
        | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => return None,
        WsError::Protocol(_) => (CloseCode::Protocol, &stats.closed_protocol_error),
        WsError::Utf8(_) => (CloseCode::Invalid, &stats.closed_invalid_data),
        WsError::Capacity(_) => (CloseCode::Size, &stats.closed_too_big),
        // Nothing else comes out of a read once the handshake is done; if it
        // did, it would be a fault on our side.
        _ => (CloseCode::Error, &stats.closed_protocol_error),
    };
    bump(counter);
    let mut reason = error.to_string();
    if reason.len() > MAX_CLOSE_REASON {
        let mut end = MAX_CLOSE_REASON;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    Some(CloseFrame {
        code,
        reason: reason.into(),
    })
}

/// Fails the WebSocket connection (RFC 6455 section 7.1.7): sends the close
/// frame, then closes the TCP connection without waiting for an answer.
async fn fail(mut ws: Ws<'_>, stream: &TcpStream, frame: CloseFrame) {
    // A read error leaves tungstenite's connection state "active" (only a
    // vanished peer ends it, and those get no frame), so it still sends a
    // close frame now, after the error; no need to write one by hand.
    let _ = goro::time::timeout(REPLY_TIMEOUT, ws.close(Some(frame))).await;
    drop(ws);
    linger_close(stream).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every connection holds its task's future for its whole life: one
    /// large state in it (tungstenite's handshake, a read buffer on the
    /// stack) would cost that much per idle connection.
    #[goro::test]
    async fn a_connection_task_future_stays_small() {
        const MAX: usize = 3 << 10;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let config = Config::default();
        let shared = Arc::new(Shared {
            ws_config: ws_config(&config),
            budget: Arc::new(Budget::new(config.message_budget)),
            config,
            stats: Stats::default(),
            stop: CancelToken::new(),
            abort: CancelToken::new(),
            conns: WaitGroup::new(),
            refusing: AtomicUsize::new(0),
        });
        shared.conns.add(1);
        shared.stats.active.fetch_add(1, Relaxed);
        let task = connection_task(stream, false, shared);
        let size = std::mem::size_of_val(&task);
        println!("a connection task's future: {size} bytes");
        assert!(size <= MAX, "a connection task's future is {size} bytes");
        drop((task, client));
    }
}
