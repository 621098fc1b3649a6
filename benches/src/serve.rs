//! The server side of the TCP server benches (`tcp_echo`, `ws_echo`): the
//! same accept loop for each runtime, differing only in what serves one
//! connection.
//!
//! Each server binds an ephemeral loopback port, prints `LISTEN <addr>` for
//! [`crate::child::ServerProc`], accepts in a loop on one task of its runtime
//! (so only the runtime's 2 workers serve), sets `TCP_NODELAY` and hands
//! every connection to a task of its own, until the parent kills it.

use std::future::Future;
use std::net::SocketAddr;

use crate::child::announce;
use crate::runtimes::{BenchRt, GoroRt, IoRt, SmolRt, Spawn, TokioRt};

/// What serves one connection, per runtime.
pub struct ConnHandlers<G, T, S> {
    /// goro: a `goro::net` stream, served by a `goro::go` task.
    pub goro: G,
    /// tokio: a `tokio::net` stream, served by a `tokio::spawn` task.
    pub tokio: T,
    /// smol: an `async-net` stream, served by a detached executor task.
    pub smol: S,
}

impl<G, T, S> std::fmt::Debug for ConnHandlers<G, T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnHandlers").finish_non_exhaustive()
    }
}

/// The server child for runtime `rt` (`goro`, `tokio` or `smol`): builds
/// it with I/O, then serves connections with `handlers` until killed.
///
/// # Panics
/// On an unknown runtime name or a failed bind.
pub fn serve_child<G, GF, T, TF, S, SF>(rt: &str, handlers: ConnHandlers<G, T, S>)
where
    G: Fn(goro::net::TcpStream) -> GF + Send + 'static,
    GF: Future<Output = ()> + Send + 'static,
    T: Fn(tokio::net::TcpStream) -> TF + Send + 'static,
    TF: Future<Output = ()> + Send + 'static,
    S: Fn(async_net::TcpStream) -> SF + Send + 'static,
    SF: Future<Output = ()> + Send + 'static,
{
    let _ = goro::net::raise_fd_limit();
    match rt {
        "goro" => serve(&GoroRt::new_io(), accept_goro(handlers.goro)),
        "tokio" => serve(&TokioRt::new_io(), accept_tokio(handlers.tokio)),
        "smol" => {
            let rt = SmolRt::new_io();
            let sp = rt.spawner();
            serve(&rt, accept_smol(sp, handlers.smol));
        }
        other => panic!("unknown runtime {other:?}"),
    }
}

/// The loopback address with an ephemeral port.
fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Runs `accept` as a task of `rt` and blocks on it until killed.
fn serve<R: IoRt, F>(rt: &R, accept: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let h = rt.spawn_remote(accept);
    rt.block_on(<R::Spawner as Spawn>::join(h));
}

async fn accept_goro<G, GF>(conn: G)
where
    G: Fn(goro::net::TcpStream) -> GF,
    GF: Future<Output = ()> + Send + 'static,
{
    let l = goro::net::TcpListener::bind(any_port())
        .await
        .expect("goro bind");
    announce(l.local_addr().expect("local_addr"));
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                let _ = s.set_nodelay(true);
                drop(goro::go(conn(s)));
            }
            Err(e) => eprintln!("goro accept: {e}"),
        }
    }
}

async fn accept_tokio<T, TF>(conn: T)
where
    T: Fn(tokio::net::TcpStream) -> TF,
    TF: Future<Output = ()> + Send + 'static,
{
    let l = tokio::net::TcpListener::bind(any_port())
        .await
        .expect("tokio bind");
    announce(l.local_addr().expect("local_addr"));
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                let _ = s.set_nodelay(true);
                drop(tokio::spawn(conn(s)));
            }
            Err(e) => eprintln!("tokio accept: {e}"),
        }
    }
}

async fn accept_smol<S, SF>(sp: <SmolRt as BenchRt>::Spawner, conn: S)
where
    S: Fn(async_net::TcpStream) -> SF,
    SF: Future<Output = ()> + Send + 'static,
{
    let l = async_net::TcpListener::bind(any_port())
        .await
        .expect("smol bind");
    announce(l.local_addr().expect("local_addr"));
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                let _ = s.set_nodelay(true);
                sp.spawn_detached(conn(s));
            }
            Err(e) => eprintln!("smol accept: {e}"),
        }
    }
}
