//! goro's I/O reactor: Go's netpoller design, on `epoll` directly on Linux
//! and on the `polling` crate elsewhere.
//!
//! One [`Reactor`] per process holds the poller (edge-triggered `epoll` on
//! Linux, `kqueue` on macOS and the BSDs; one-shot IOCP on Windows, which
//! takes sockets only), every registered descriptor, and the timers. It has no thread: goro's
//! workers poll it when they run out of work, one of them sleeps in it
//! while idle, and the runtime's monitor polls it if nobody has for 10 ms.
//!
//! - [`Async<T>`]: any descriptor-backed I/O object, non-blocking.
//! - [`net`]: TCP, UDP and (on Unix) Unix-domain sockets with `futures-io`
//!   traits.
//! - [`time`]: `sleep`, `timeout`, `interval`, stored per worker.
//! - [`coop`]: the cooperative budget that makes a hot socket yield.
//!
//! Most users want the `goro` crate, which re-exports these and runs them on
//! its scheduler. [`block_on`] runs a future here without any runtime.

mod async_io;
mod block_on;
pub mod coop;
mod forward;
pub mod net;
mod poller;
mod reactor;
mod source;
mod sys;
pub mod time;
pub mod wait;

pub use async_io::Async;
pub use block_on::{__block_on_for_docs, block_on};
pub use reactor::Reactor;
