//! The traits most programs need, for a glob import:
//! `use goro::prelude::*;` brings the I/O extension traits
//! (`read`, `write_all`, `read_line`, `lines`, ...) and [`StreamExt`]
//! (`next`, `map`, `collect`, ...) into scope, as `smol::prelude` does.
//!
//! # Examples
//!
//! ```
//! use goro::prelude::*;
//!
//! goro::block_on(async {
//!     let mut out = Vec::new();
//!     let mut r = goro::io::Cursor::new(b"one\ntwo\n".to_vec());
//!     r.read_to_end(&mut out).await?;
//!     let lines: Vec<String> = goro::io::BufReader::new(&out[..])
//!         .lines()
//!         .map(|l| l.unwrap())
//!         .collect()
//!         .await;
//!     assert_eq!(lines, ["one", "two"]);
//!     goro::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

pub use crate::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite,
    AsyncWriteExt,
};
pub use crate::stream::{Stream, StreamExt};
pub use std::future::Future;
