//! tokio-trait crates on goro, with no tokio runtime. The `goro` crate
//! re-exports this as `goro::compat` (feature `tokio-io`; `postgres` and
//! `redis` add the connect helpers).
//!
//! Many crates written for tokio only need tokio's I/O *traits* once they
//! are handed a stream. This crate gives them goro's sockets, so their I/O
//! runs on goro's reactor and their tasks on goro's workers:
//!
//! - [`TokioIo`]: tokio's `AsyncRead`/`AsyncWrite` over goro's
//!   `TcpStream`, `UnixStream` (reading into tokio's `ReadBuf` without
//!   zero-filling it) and, with [`TokioIo::from_futures_io`], any
//!   futures-io stream.
//! - [`FromTokio`]: the reverse, futures-io over a tokio-trait stream.
//! - [`Socket`]: a goro TCP or Unix stream, whichever an address names.
//! - `postgres::connect` (feature `postgres`): tokio-postgres's
//!   `connect_raw` on goro sockets.
//! - `redis::connect` (feature `redis`): redis's
//!   `MultiplexedConnection::new_with_config` on a goro socket.
//! - tokio-rustls needs no helper: `TlsConnector::connect(name,
//!   TokioIo::new(tcp))`.
//!
//! # Why not async-compat
//!
//! async-compat's `Compat` enters a tokio runtime on every poll; with none
//! around, it starts one on a hidden thread (`async-compat/tokio-1`), and
//! every wakeup then crosses to that thread. Here there is no second
//! runtime: the tests check that no thread named like tokio's or
//! async-compat's exists.
//!
//! # tokio in the dependency graph
//!
//! tokio is a dependency with its default features off. With `postgres`
//! it gets `io-util` (from tokio-postgres) and `sync` (from tokio-util):
//! traits, buffers and channels; no `rt`, `net` or `time`, so no tokio
//! runtime, reactor or timer exists to be reached. (tokio's `default`
//! feature is empty.)
//!
//! ```text
//! $ cargo tree -p goro-compat --features postgres -e normal,features -i tokio
//! tokio v1.54.1
//! └── goro-compat v0.1.0 (crates/goro-compat)
//!     ├── goro-compat feature "default" (command-line)
//!     └── goro-compat feature "postgres" (command-line)
//! ├── tokio feature "bytes"
//! │   └── tokio feature "io-util"
//! │       └── tokio-postgres v0.7.18
//! │           └── goro-compat v0.1.0 (crates/goro-compat) (*)
//! ├── tokio feature "default"
//! │   ├── tokio-postgres v0.7.18 (*)
//! │   └── tokio-util v0.7.20
//! │       ├── tokio-util feature "codec"
//! │       │   └── tokio-postgres v0.7.18 (*)
//! │       ├── tokio-util feature "default"
//! │       │   └── tokio-postgres v0.7.18 (*)
//! │       └── tokio-util feature "libc"
//! │           └── tokio-util feature "codec" (*)
//! ├── tokio feature "io-util" (*)
//! └── tokio feature "sync"
//!     └── tokio-util v0.7.20 (*)
//! ```
//!
//! The redis crate does not compile its async code without a runtime
//! feature, so `redis` turns on its `tokio-comp`, which compiles tokio's
//! `rt`, `net` and `time` modules. Nothing starts them: `redis::connect`
//! uses none of redis's tokio paths (see its module docs), and a stray
//! `tokio::spawn` would panic ("there is no reactor running") rather than
//! start a runtime.
//!
//! ```text
//! $ cargo tree -p goro-compat --features redis -e normal,features -i tokio --depth 1
//! tokio v1.54.1
//! ├── combine v4.6.9
//! └── goro-compat v0.1.0 (crates/goro-compat)
//! ├── tokio feature "default"
//! ├── tokio feature "libc"
//! ├── tokio feature "mio"
//! ├── tokio feature "net"
//! ├── tokio feature "rt"
//! ├── tokio feature "socket2"
//! ├── tokio feature "sync"
//! └── tokio feature "time"
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod from_tokio;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
mod socket;
mod tokio_io;

pub use from_tokio::FromTokio;
pub use goro_reactor::net::{ReadUninit, ZeroFill};
pub use socket::Socket;
pub use tokio_io::TokioIo;
