//! Shared setup for the side-by-side benchmarks of goro, tokio and smol.
//!
//! Every runtime is built with exactly [`WORKERS`] worker threads and is
//! driven through the same small [`BenchRt`] / [`Spawn`] traits, so each bench
//! shape is written once, generically, and monomorphised per runtime: the
//! shapes cannot drift apart between runtimes.
//!
//! | module | what |
//! |---|---|
//! | [`runtimes`] | goro, tokio and smol behind [`BenchRt`], [`IoRt`] and [`Offload`] |
//! | [`shapes`] | the scheduler shapes of `rt_multi_threaded`, [`Countdown`](shapes::Countdown), [`stall`](shapes::stall) |
//! | [`procfs`] | `/proc` readers: CPU time, status fields, threads, RSS |
//! | [`child`] | this bench run again as a child, and server children |
//! | [`go`] | the Go reference programs under `benches/go/` |
//! | [`load`] | the load client of the TCP server benches, its runs and tables |
//! | [`serve`] | the server side of the TCP server benches |
//! | [`stats`] | mean and median |
//! | [`lines`] | `key=value` result lines and pass/fail words |
//! | [`cli`] | flags and the runtime filter |
//! | `uring` | (Linux) the minimal io_uring echo server of `tcp_echo` (issue 23) |

pub mod child;
pub mod cli;
pub mod go;
pub mod lines;
pub mod load;
pub mod procfs;
pub mod runtimes;
pub mod serve;
pub mod shapes;
pub mod stats;
#[cfg(target_os = "linux")]
pub mod uring;
pub mod vs_goro;

/// With the `mimalloc` feature, every bench binary (and every child it runs
/// of itself) allocates with mimalloc; [`ALLOCATOR`] names the allocator in
/// use. Declared here, once, rather than in each bench.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use runtimes::{
    ALLOCATOR, BenchRt, GoroRt, IoRt, Offload, SmolRt, SmolStaticRt, Spawn, TokioRt, WORKERS,
};
