//! A TCP chat server: every line a client sends goes to every other
//! client. Written against goro and std only, as a first goro program.
//!
//! ```text
//! cargo run --example chat [-- ADDR]      # default 127.0.0.1:7878
//! nc 127.0.0.1 7878                        # in two or more terminals
//! ```
//!
//! Ctrl-C or SIGTERM stops it gracefully: no new clients, everyone gets a
//! goodbye line, and the connections close.
//!
//! The shape is Go's: one task per connection reading lines, one writer
//! task per connection draining its outbox channel, and a hub task that
//! owns the client list and fans each line out. A client too slow to keep
//! up (64 lines behind) is disconnected rather than slowing everyone.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use goro::chan::{self, Receiver, Sender};
use goro::io::{self, AsyncBufReadExt, AsyncWriteExt, BufReader};
use goro::net::{TcpListener, TcpStream};
use goro::stream::StreamExt;
use goro::{CancelToken, JoinSet};

/// Lines a client may be behind before it is dropped.
const OUTBOX: usize = 64;

/// What connections tell the hub.
enum Event {
    Join(SocketAddr, Sender<Arc<str>>),
    Line(SocketAddr, String),
    Leave(SocketAddr),
}

#[goro::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7878".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat: listening on {}", listener.local_addr()?);
    // Caught from here on: Ctrl-C no longer kills the process abruptly.
    // (goro::signal is Unix-only; elsewhere the server runs until killed.)
    #[cfg(unix)]
    let stop = goro::signal::shutdown();
    serve(listener, async {
        #[cfg(unix)]
        match stop.await {
            Ok(kind) => println!("chat: {kind}, stopping"),
            Err(e) => eprintln!("chat: cannot listen for signals ({e}); Ctrl-C kills"),
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    })
    .await
}

/// Serves chat clients on `listener` until `stop` completes, then says
/// goodbye to every client and returns once all connections are closed.
pub async fn serve(listener: TcpListener, stop: impl Future<Output = ()>) -> io::Result<()> {
    let (events_tx, events_rx) = chan::unbounded();
    let shutdown = CancelToken::new();
    let hub = goro::go(hub(events_rx));
    let mut connections = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = goro::select! {
            r = listener.accept() => Some(r),
            _ = stop.as_mut() => None,
        };
        let Some(accepted) = accepted else { break };
        match accepted {
            Ok((stream, peer)) => {
                let (events, token) = (events_tx.clone(), shutdown.clone());
                connections.spawn(client(stream, peer, events, token));
            }
            // Out of descriptors, say: the listener keeps working.
            Err(e) => eprintln!("chat: accept: {e}"),
        }
        // Reap finished connections as we go.
        while let Some(r) = connections.try_join_next() {
            report(r);
        }
    }
    drop(listener);
    // Each client says goodbye and closes; the hub ends with the last one.
    shutdown.cancel();
    while let Some(r) = connections.join_next().await {
        report(r);
    }
    drop(events_tx);
    hub.await.expect("the hub does not panic");
    Ok(())
}

fn report(r: Result<io::Result<()>, goro::JoinError>) {
    match r {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("chat: a connection failed: {e}"),
        Err(e) => eprintln!("chat: {e}"),
    }
}

/// Owns the client list: Go's "one goroutine owns the map" instead of a
/// lock.
async fn hub(events: Receiver<Event>) {
    let mut clients: HashMap<SocketAddr, Sender<Arc<str>>> = HashMap::new();
    while let Ok(event) = events.recv().await {
        let (from, text): (SocketAddr, Arc<str>) = match event {
            Event::Join(peer, outbox) => {
                clients.insert(peer, outbox);
                (peer, format!("* {peer} joined\n").into())
            }
            Event::Leave(peer) => {
                clients.remove(&peer);
                (peer, format!("* {peer} left\n").into())
            }
            Event::Line(peer, line) => (peer, format!("{peer}: {line}\n").into()),
        };
        // A full outbox means a stuck client: drop it (its writer ends,
        // and its connection with it) instead of waiting for it.
        clients.retain(|peer, outbox| *peer == from || outbox.try_send(text.clone()).is_ok());
    }
}

/// One connection: reads lines into the hub while a writer task sends the
/// client its outbox.
async fn client(
    stream: TcpStream,
    peer: SocketAddr,
    events: Sender<Event>,
    shutdown: CancelToken,
) -> io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let (outbox_tx, outbox) = chan::bounded::<Arc<str>>(OUTBOX);
    let _ = events.send(Event::Join(peer, outbox_tx)).await;
    // Cancelled by the server's shutdown, or by the writer when it ends
    // (the hub dropped a slow client): either way the reader stops too.
    let done = shutdown.child();
    let writer_task = goro::go({
        let (shutdown, done) = (shutdown.clone(), done.clone());
        async move {
            let _stop_reader = done.drop_guard();
            writer.write_all(b"* welcome\n").await?;
            loop {
                let line = goro::select! {
                    line = outbox.recv() => line.ok(),
                    _ = shutdown.cancelled() => None,
                };
                match line {
                    Some(line) => writer.write_all(line.as_bytes()).await?,
                    None => break,
                }
            }
            if shutdown.is_cancelled() {
                writer
                    .write_all(b"* server shutting down, goodbye\n")
                    .await?;
            }
            writer.close().await
        }
    });
    let mut lines = BufReader::new(reader).lines();
    loop {
        let line = goro::select! {
            line = lines.next() => line,
            _ = done.cancelled() => None,
        };
        match line {
            Some(Ok(line)) => {
                let _ = events.send(Event::Line(peer, line)).await;
            }
            // EOF, a read error, or shutdown: leave.
            Some(Err(_)) | None => break,
        }
    }
    let _ = events.send(Event::Leave(peer)).await;
    // The hub drops our outbox sender on Leave, which ends the writer.
    writer_task.await.expect("the writer does not panic")
}
