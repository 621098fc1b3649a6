//! Unix signals as futures: [`ctrl_c`] for SIGINT, [`shutdown`] for "Ctrl-C
//! or SIGTERM", and [`signal`] for any catchable signal as a stream.
//!
//! A graceful stop in a server:
//!
//! ```no_run
//! #[goro::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let stop = goro::signal::shutdown(); // catches SIGINT and SIGTERM from here on
//!     let accept_loop = async {
//!         loop {
//!             let (conn, _) = listener.accept().await?;
//!             goro::go(async move { drop(conn) });
//!         }
//!     };
//!     let stopped = goro::select::race(accept_loop, async {
//!         let kind = stop.await?;
//!         eprintln!("got {kind}, stopping");
//!         Ok(())
//!     });
//!     stopped.await
//! }
//! ```
//!
//! # How it works
//!
//! Each listener is a Unix socket pair: `signal-hook`'s handler writes a
//! byte into one end (async-signal-safe), and the other end is registered
//! with goro's reactor like any socket, so a waiting task is woken by the
//! worker that polls the reactor. There is no thread per signal, nor any
//! signal thread at all.
//!
//! Like Go's `signal.Notify` (and tokio's `signal`):
//! - a signal that arrives while nobody is waiting is kept, and several of
//!   them before the next [`Signal::recv`] count as one;
//! - every listener of a signal is woken, not just one;
//! - once a signal has had a listener, its default action (for SIGINT and
//!   SIGTERM: ending the process) does not come back, even after every
//!   listener is dropped: the signal is then ignored. Go differs here:
//!   `signal.Stop` restores the default. Dropping listeners is fine for
//!   short-lived waits, but a program that wants Ctrl-C to kill it again
//!   should exit instead.
//!
//! The module is Unix-only. Elsewhere there is no `goro::signal`; on
//! Windows, use the `ctrlc` crate for console events.

use std::fmt;
use std::future::Future;
use std::io::{self, Read as _};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::task::{Context, Poll};

use goro_reactor::Async;
use signal_hook::SigId;
use signal_hook::consts as sig;

/// A Unix signal number, with constructors for the common ones, like
/// tokio's `SignalKind`.
///
/// # Examples
///
/// ```
/// use goro::signal::SignalKind;
/// assert_eq!(SignalKind::terminate().as_raw(), 15);
/// assert_eq!(SignalKind::from_raw(2), SignalKind::interrupt());
/// assert_eq!(SignalKind::interrupt().to_string(), "SIGINT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// Any signal by number (a `libc::SIG*` constant). Whether it can be
    /// caught is checked by [`signal`].
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// SIGINT: Ctrl-C in a terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(sig::SIGINT)
    }

    /// SIGTERM: the polite "stop" of `kill`, systemd, Docker and Kubernetes.
    pub const fn terminate() -> SignalKind {
        SignalKind(sig::SIGTERM)
    }

    /// SIGHUP: the terminal went away; daemons use it for "reload".
    pub const fn hangup() -> SignalKind {
        SignalKind(sig::SIGHUP)
    }

    /// SIGQUIT: Ctrl-\ in a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(sig::SIGQUIT)
    }

    /// SIGUSR1.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(sig::SIGUSR1)
    }

    /// SIGUSR2.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(sig::SIGUSR2)
    }

    /// SIGCHLD: a child process changed state.
    pub const fn child() -> SignalKind {
        SignalKind(sig::SIGCHLD)
    }

    /// SIGALRM.
    pub const fn alarm() -> SignalKind {
        SignalKind(sig::SIGALRM)
    }

    /// SIGPIPE: a write to a pipe with no reader (Rust programs ignore it
    /// by default).
    pub const fn pipe() -> SignalKind {
        SignalKind(sig::SIGPIPE)
    }

    /// SIGWINCH: the terminal changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(sig::SIGWINCH)
    }
}

impl fmt::Display for SignalKind {
    /// The signal's name (`SIGTERM`), or `signal 42` for one without.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match signal_hook::low_level::signal_name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl From<i32> for SignalKind {
    fn from(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
}

/// A listener for one signal, made by [`signal`]: each [`recv`](Signal::recv)
/// waits for the next delivery. Also a [`Stream`](futures_lite::Stream) of
/// `()`. Dropping it stops listening (but see the module docs on the
/// default action).
///
/// # Examples
///
/// ```
/// use goro::signal::{self, SignalKind};
///
/// goro::block_on(async {
///     let mut hup = signal::signal(SignalKind::hangup())?;
///     // Another program would send it (`kill -HUP <pid>`); here we send
///     // it to ourselves.
///     // SAFETY: kill(2) on our own pid with a signal we now catch.
///     unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
///     hup.recv().await;
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Signal {
    kind: SignalKind,
    read: Async<UnixStream>,
    id: SigId,
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Starts listening for `kind`: from this call on, every delivery of the
/// signal to the process is seen by the returned [`Signal`].
///
/// Works inside any goro runtime, the global one, or none (the reactor is
/// the process's).
///
/// # Errors
/// `InvalidInput` for a signal that cannot be caught or that the process
/// needs for itself (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGILL`,
/// `SIGFPE`), naming it; an OS error when the socket pair or the handler
/// cannot be set up (out of descriptors, say).
///
/// # Examples
///
/// ```
/// use goro::signal::{signal, SignalKind};
/// let err = signal(SignalKind::from_raw(9)).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// assert!(err.to_string().contains("SIGKILL"), "{err}");
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.as_raw();
    if signal_hook::consts::FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("goro::signal: {kind} cannot be caught by a program"),
        ));
    }
    let named = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("goro::signal: cannot listen for {kind}: {e}"),
        )
    };
    let (read, write) = UnixStream::pair().map_err(named)?;
    let read = Async::new(read).map_err(named)?;
    // The handler `send`s one byte with MSG_DONTWAIT on `write`, which it
    // owns from now on and closes on `unregister`. An invalid number fails
    // here, in `sigaction`, with EINVAL.
    let id = signal_hook::low_level::pipe::register(signum, write).map_err(named)?;
    Ok(Signal { kind, read, id })
}

impl Signal {
    /// The signal this listens for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// Waits for the next delivery of the signal since the last `recv`
    /// (or since [`signal`]). Several deliveries in between count as one.
    /// Returns `Some(())`; `None` is never returned today, and is there for
    /// tokio's signature.
    ///
    /// Cancel-safe: dropping the future loses no delivery.
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery; see [`recv`](Signal::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let mut buf = [0u8; 64];
        let first = self.read.poll_read_with(cx, |mut s| s.read(&mut buf));
        match first {
            Poll::Pending => {
                crate::note_wait(crate::WaitReason::Signal);
                Poll::Pending
            }
            // The write end is the handler's until unregistered: EOF or an
            // error cannot happen while `self` lives; report the end anyway.
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Ready(Ok(_)) => {
                // Drain what else came, so that a burst is one delivery.
                while let Ok(n) = (&mut self.read.get_ref()).read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                }
                Poll::Ready(Some(()))
            }
        }
    }
}

impl futures_lite::Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // Removes our action (and closes the write end); the process-wide
        // handler stays, so the default action does not come back.
        signal_hook::low_level::unregister(self.id);
    }
}

/// A future that resolves at the next SIGINT (Ctrl-C) after this call.
///
/// The listener is set up when `ctrl_c` is called, not at the first poll:
/// a Ctrl-C between the call and the first `.await` is not lost. From the
/// call on, Ctrl-C no longer kills the process (see the module docs).
///
/// # Errors
/// The future returns an error if the listener could not be set up (out of
/// descriptors).
///
/// # Examples
///
/// ```no_run
/// #[goro::main]
/// async fn main() -> std::io::Result<()> {
///     goro::go(async { /* serve */ });
///     goro::signal::ctrl_c().await?;
///     println!("bye");
///     Ok(())
/// }
/// ```
pub fn ctrl_c() -> impl Future<Output = io::Result<()>> + Send + 'static {
    let listener = signal(SignalKind::interrupt());
    async move {
        listener?.recv().await;
        Ok(())
    }
}

/// A future that resolves at the next SIGINT (Ctrl-C) or SIGTERM (`kill`,
/// systemd, Docker, Kubernetes) after this call, with the one that came:
/// the usual trigger for a graceful stop.
///
/// Both listeners are set up when `shutdown` is called, as for [`ctrl_c`].
///
/// # Errors
/// The future returns an error if a listener could not be set up.
///
/// # Examples
///
/// ```no_run
/// #[goro::main]
/// async fn main() -> std::io::Result<()> {
///     let stop = goro::signal::shutdown();
///     goro::go(async { /* serve */ });
///     let kind = stop.await?;
///     eprintln!("{kind}: draining connections");
///     Ok(())
/// }
/// ```
pub fn shutdown() -> impl Future<Output = io::Result<SignalKind>> + Send + 'static {
    let int = signal(SignalKind::interrupt());
    let term = signal(SignalKind::terminate());
    async move {
        let (mut int, mut term) = (int?, term?);
        std::future::poll_fn(|cx| {
            if int.poll_recv(cx).is_ready() {
                return Poll::Ready(Ok(SignalKind::interrupt()));
            }
            if term.poll_recv(cx).is_ready() {
                return Poll::Ready(Ok(SignalKind::terminate()));
            }
            Poll::Pending
        })
        .await
    }
}
