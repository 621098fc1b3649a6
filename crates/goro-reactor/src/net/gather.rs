//! Small vectored writes sent as one buffer.
//!
//! hyper writes a response as a head and a body slice (`writev(2)` with
//! two iovecs). For a small response the kernel's vectored path costs more
//! than copying the slices together in user space and sending one buffer.
//! `benches/benches/gather_write.rs` (loopback TCP, the sending thread's CPU
//! time per call, which includes the receiver's side of loopback), four
//! runs on the project's 2-core VM, Linux 6.18, copied ÷ `writev`: 113
//! bytes 0.96-0.99x, 900 bytes 0.94-0.95x, 3,900 bytes 0.95-0.97x, 16,100
//! bytes 1.01-1.03x. So up to [`COPY_MAX`] bytes goro copies; above it,
//! `writev` as before.
//!
//! `std`'s `write` on a socket is `send` with `MSG_NOSIGNAL`, so the copied
//! path also never raises `SIGPIPE`, where `writev` can.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;

/// The largest vectored write copied into one buffer.
pub(crate) const COPY_MAX: usize = 4096;

/// Writes `bufs` as one byte stream: a single non-empty slice with
/// `write`, a few small ones copied together and sent with `write`, larger
/// ones with `writev` (`write_vectored`). Returns what the chosen call
/// returns; a partial write counts bytes from the start of the stream, as
/// `writev`'s does.
pub(crate) fn write_gathered(
    bufs: &[IoSlice<'_>],
    len: usize,
    write: impl FnOnce(&[u8]) -> io::Result<usize>,
    write_vectored: impl FnOnce(&[IoSlice<'_>]) -> io::Result<usize>,
) -> io::Result<usize> {
    let mut non_empty = bufs.iter().filter(|b| !b.is_empty());
    let first = non_empty.next();
    if non_empty.next().is_none() {
        return write(first.map_or(&[][..], |b| &b[..]));
    }
    if len > COPY_MAX {
        return write_vectored(bufs);
    }
    let mut tmp = [MaybeUninit::<u8>::uninit(); COPY_MAX];
    let mut at = 0;
    for b in bufs {
        // SAFETY: the slices total `len` <= COPY_MAX bytes, so each copy
        // stays inside `tmp`; a `&[u8]` cannot overlap the local array.
        unsafe {
            std::ptr::copy_nonoverlapping(
                b.as_ptr(),
                tmp.as_mut_ptr().add(at).cast::<u8>(),
                b.len(),
            )
        };
        at += b.len();
    }
    // SAFETY: the first `at` bytes of `tmp` were written just above.
    let data = unsafe { std::slice::from_raw_parts(tmp.as_ptr().cast::<u8>(), at) };
    write(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which call `write_gathered` made, and with what bytes.
    fn gathered(bufs: &[&[u8]]) -> (&'static str, Vec<u8>) {
        let slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
        let len = bufs.iter().map(|b| b.len()).sum();
        let seen = std::cell::RefCell::new(("", Vec::new()));
        let n = write_gathered(
            &slices,
            len,
            |b| {
                *seen.borrow_mut() = ("write", b.to_vec());
                Ok(b.len())
            },
            |bs| {
                *seen.borrow_mut() = ("writev", bs.iter().flat_map(|b| b.to_vec()).collect());
                Ok(len)
            },
        )
        .unwrap();
        assert_eq!(n, len);
        seen.into_inner()
    }

    #[test]
    fn small_slices_are_sent_as_one_buffer() {
        let (call, bytes) = gathered(&[b"HTTP/1.1 200 OK\r\n\r\n", b"", b"Hello, World!"]);
        assert_eq!(call, "write");
        assert_eq!(bytes, b"HTTP/1.1 200 OK\r\n\r\nHello, World!");
    }

    #[test]
    fn one_non_empty_slice_is_written_without_a_copy() {
        assert_eq!(gathered(&[b"", b"abc", b""]), ("write", b"abc".to_vec()));
        assert_eq!(gathered(&[]), ("write", Vec::new()));
    }

    #[test]
    fn up_to_copy_max_is_copied_and_beyond_it_goes_to_writev() {
        let half = vec![7u8; COPY_MAX / 2];
        let (call, bytes) = gathered(&[&half, &half]);
        assert_eq!((call, bytes.len()), ("write", COPY_MAX));
        let (call, bytes) = gathered(&[&half, &half, b"x"]);
        assert_eq!((call, bytes.len()), ("writev", COPY_MAX + 1));
    }
}
