//! A minimal io_uring TCP echo server (Linux only), the `uring` server of
//! `tcp_echo`: step 1 of issue 23, measuring what an io_uring path costs on
//! this kernel before any backend is built. Not a runtime: no tasks, no
//! futures, one hand-written completion loop per thread.
//!
//! [`WORKERS`] threads, each with its own ring and its own listener: the
//! listeners share one loopback port through `SO_REUSEPORT`, so the kernel
//! spreads connections over the threads (the peers' 2 workers share one
//! listener instead; with 200 long-lived connections the split is even
//! either way). Per ring:
//!
//! * one multishot accept on the listener; every accepted socket gets
//!   `TCP_NODELAY` (one `setsockopt` per connection, outside the measured
//!   window) and one multishot recv;
//! * the multishot recvs pick their buffers from a provided-buffer ring of
//!   [`BUFS`] × `buf_len` bytes; a filled buffer is sent back as is (no
//!   copy) and returned to the buffer ring when its send completes;
//! * one send in flight per connection, later chunks queue behind it (with
//!   one request in flight per connection there is at most one);
//! * every SQE of a loop turn goes in with one `submit_and_wait(1)`;
//! * `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN`, falling
//!   back to a plain ring (said on stderr) if the kernel refuses;
//! * the ring fd registered (`IORING_REGISTER_RING_FDS`), also optional.
//!
//! No SQPOLL: its kernel thread would spin on one of only 2 cores.
//! `GORO_URING_PLAIN=1` turns the last two off, to measure what they add.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

use io_uring::{IoUring, cqueue, opcode, squeue, types};

use crate::WORKERS;
use crate::child::announce;

/// Provided buffers per ring (a power of two, at most 32768).
const BUFS: u16 = 1024;
/// The provided-buffer group id.
const BGID: u16 = 0;
/// SQ entries per ring (the CQ gets twice as many).
const ENTRIES: u32 = 1024;

/// `user_data` kinds, in the top bits; the low 32 bits hold the fd.
const ACCEPT: u64 = 1 << 32;
const RECV: u64 = 2 << 32;
const SEND: u64 = 3 << 32;
const KIND: u64 = 0xff << 32;

/// Runs the server until killed: binds, prints `LISTEN <addr>`, and serves
/// on [`WORKERS`] threads, echoing up to `buf_len` bytes per recv.
///
/// # Panics
/// If a socket, a ring or a buffer ring cannot be set up (the message says
/// which, with the OS error).
pub fn serve_echo(buf_len: usize) {
    let _ = goro::net::raise_fd_limit();
    let plain = std::env::var("GORO_URING_PLAIN").is_ok_and(|v| v == "1");
    let first = reuseport_listener(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("uring: bind the first listener");
    let addr = first.local_addr().expect("uring: local_addr");
    let mut listeners = vec![first];
    for _ in 1..WORKERS {
        listeners.push(reuseport_listener(addr).expect("uring: bind a SO_REUSEPORT listener"));
    }
    let threads: Vec<_> = listeners
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            std::thread::Builder::new()
                .name(format!("uring-{i}"))
                .spawn(move || {
                    if let Err(e) = Worker::new(buf_len, plain).and_then(|w| w.run(&l)) {
                        panic!("uring worker {i}: {e}");
                    }
                })
                .expect("spawn uring worker")
        })
        .collect();
    announce(addr);
    for t in threads {
        t.join().expect("uring worker panicked");
    }
}

/// A non-blocking loopback listener with `SO_REUSEPORT` on, bound to `addr`.
fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let SocketAddr::V4(v4) = addr else {
        return Err(io::Error::other("uring: IPv4 only"));
    };
    // SAFETY: plain socket(2); the result is checked before use.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh socket that nothing else owns; the listener
    // closes it on every error path below.
    let l = unsafe { TcpListener::from_raw_fd(fd) };
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*v4.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `sin` is a valid sockaddr_in and the length is its size.
    let r = unsafe {
        libc::bind(
            fd,
            (&raw const sin).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: listen(2) on the socket this function owns.
    if unsafe { libc::listen(fd, 1024) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(l)
}

/// `setsockopt(fd, level, name, &value)` for an `int` option.
fn setsockopt_int(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: the option value points to a live local `c_int` and the length
    // is its size; a bad fd is reported as an error, not UB.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// One connection's state, indexed by its fd.
#[derive(Debug, Default)]
struct Conn {
    open: bool,
    /// A send is in flight: (buffer id, offset sent so far, length).
    sending: Option<(u16, u32, u32)>,
    /// Received chunks waiting for the send in flight: (buffer id, length).
    queued: VecDeque<(u16, u32)>,
    /// The peer closed or recv failed: close once the send in flight is done.
    closing: bool,
}

/// A provided-buffer ring: the ring of entries the kernel picks from (its
/// own page-aligned mapping) and the buffers they point to.
#[derive(Debug)]
struct BufRing {
    entries: *mut types::BufRingEntry,
    map_len: usize,
    bufs: Vec<u8>,
    buf_len: usize,
    /// The tail as this thread last published it.
    tail: u16,
}

impl BufRing {
    /// Maps the entry ring, fills it with all [`BUFS`] buffers and registers
    /// it with `ring` as group [`BGID`].
    fn new(ring: &IoUring, buf_len: usize) -> io::Result<Self> {
        let map_len = usize::from(BUFS) * size_of::<types::BufRingEntry>();
        // SAFETY: an anonymous private mapping; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut br = Self {
            entries: p.cast(),
            map_len,
            bufs: vec![0; usize::from(BUFS) * buf_len],
            buf_len,
            tail: 0,
        };
        for bid in 0..BUFS {
            br.push(bid);
        }
        br.publish();
        // SAFETY: the entry ring is a page-aligned mapping of `BUFS` entries
        // that lives (with `bufs`) until `Drop`, after the ring is gone: the
        // worker drops its `IoUring` before its `BufRing` (field order in
        // `Worker`).
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(p as u64, BUFS, BGID, 0)?;
        }
        Ok(br)
    }

    /// Buffer `bid`'s memory.
    fn buf(&self, bid: u16) -> &[u8] {
        let at = usize::from(bid) * self.buf_len;
        &self.bufs[at..at + self.buf_len]
    }

    /// Writes buffer `bid` at the local tail (not yet visible to the kernel).
    fn push(&mut self, bid: u16) {
        let at = usize::from(self.tail & (BUFS - 1));
        let addr = self.buf(bid).as_ptr() as u64;
        // SAFETY: `at < BUFS`, inside the mapping; the kernel does not read
        // this slot until the tail is published past it.
        let e = unsafe { &mut *self.entries.add(at) };
        e.set_addr(addr);
        e.set_len(self.buf_len as u32);
        e.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes every pushed buffer visible to the kernel (release store).
    fn publish(&self) {
        // SAFETY: `entries` is the ring base, so `tail` is the shared tail
        // field inside the mapping, a `u16` the kernel reads atomically.
        let tail = unsafe { types::BufRingEntry::tail(self.entries) }
            as *const std::sync::atomic::AtomicU16;
        // SAFETY: see above; AtomicU16 has the layout of u16.
        unsafe { &*tail }.store(self.tail, std::sync::atomic::Ordering::Release);
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe {
            libc::munmap(self.entries.cast(), self.map_len);
        }
    }
}

/// One thread's ring, buffers and connections.
struct Worker {
    // Field order matters: the ring is dropped (and with it every pending
    // operation) before the buffers it may write into.
    ring: IoUring,
    bufs: BufRing,
    conns: Vec<Conn>,
    plain: bool,
}

impl Worker {
    fn new(buf_len: usize, plain: bool) -> io::Result<Self> {
        let ring = if plain {
            None
        } else {
            match IoUring::builder()
                .setup_cqsize(ENTRIES * 2)
                .setup_single_issuer()
                .setup_defer_taskrun()
                .build(ENTRIES)
            {
                Ok(r) => Some(r),
                Err(e) => {
                    eprintln!("uring: SINGLE_ISSUER | DEFER_TASKRUN refused ({e}), plain ring");
                    None
                }
            }
        };
        let ring = match ring {
            Some(r) => r,
            None => IoUring::builder()
                .setup_cqsize(ENTRIES * 2)
                .build(ENTRIES)?,
        };
        let bufs = BufRing::new(&ring, buf_len)?;
        Ok(Self {
            ring,
            bufs,
            conns: Vec::new(),
            plain,
        })
    }

    /// Serves `l` until the process is killed (or a ring call fails).
    fn run(mut self, l: &TcpListener) -> io::Result<()> {
        let lfd = l.as_raw_fd();
        let Self {
            ring,
            bufs,
            conns,
            plain,
        } = &mut self;
        let (mut submitter, mut sq, mut cq) = ring.split();
        if !*plain && let Err(e) = submitter.register_ring_fd() {
            eprintln!("uring: cannot register the ring fd ({e}), using the plain fd");
        }
        let mut pending: Vec<squeue::Entry> = Vec::with_capacity(64);
        pending.push(
            opcode::AcceptMulti::new(types::Fd(lfd))
                .build()
                .user_data(ACCEPT | lfd as u64),
        );
        loop {
            for e in pending.drain(..) {
                // SAFETY: every entry refers to fds this worker owns and to
                // buffers in `bufs` that stay put until their CQE arrives.
                while unsafe { sq.push(&e) }.is_err() {
                    sq.sync();
                    submitter.submit()?;
                    sq.sync();
                }
            }
            sq.sync();
            match submitter.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(e),
            }
            cq.sync();
            let mut returned = false;
            for cqe in &mut cq {
                returned |= handle(cqe, lfd, bufs, conns, &mut pending);
            }
            cq.sync();
            if returned {
                bufs.publish();
            }
        }
    }
}

/// Handles one completion, queueing follow-up SQEs in `pending`; true if a
/// buffer went back to the buffer ring.
fn handle(
    cqe: cqueue::Entry,
    lfd: RawFd,
    bufs: &mut BufRing,
    conns: &mut Vec<Conn>,
    pending: &mut Vec<squeue::Entry>,
) -> bool {
    let ud = cqe.user_data();
    let fd = (ud & 0xffff_ffff) as RawFd;
    let res = cqe.result();
    let flags = cqe.flags();
    match ud & KIND {
        ACCEPT => {
            if res >= 0 {
                let _ = setsockopt_int(res, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
                let i = res as usize;
                if conns.len() <= i {
                    conns.resize_with(i + 1, Conn::default);
                }
                conns[i] = Conn {
                    open: true,
                    ..Conn::default()
                };
                pending.push(recv_multi(res));
            } else {
                eprintln!("uring accept: {}", io::Error::from_raw_os_error(-res));
            }
            if !cqueue::more(flags) {
                pending.push(
                    opcode::AcceptMulti::new(types::Fd(lfd))
                        .build()
                        .user_data(ACCEPT | lfd as u64),
                );
            }
            false
        }
        RECV => {
            let c = &mut conns[fd as usize];
            if res > 0 {
                let bid = cqueue::buffer_select(flags).expect("recv without a buffer");
                if c.sending.is_none() {
                    c.sending = Some((bid, 0, res as u32));
                    pending.push(send(fd, bufs, bid, 0, res as u32));
                } else {
                    c.queued.push_back((bid, res as u32));
                }
                if !cqueue::more(flags) {
                    pending.push(recv_multi(fd));
                }
            } else if res == -libc::ENOBUFS {
                pending.push(recv_multi(fd));
            } else {
                // EOF or an error: the multishot recv has ended.
                c.closing = true;
                if c.sending.is_none() {
                    close(c, fd);
                }
            }
            false
        }
        SEND => {
            let c = &mut conns[fd as usize];
            let Some((bid, off, len)) = c.sending else {
                return false;
            };
            if res > 0 && off + (res as u32) < len {
                let off = off + res as u32;
                c.sending = Some((bid, off, len));
                pending.push(send(fd, bufs, bid, off, len));
                return false;
            }
            bufs.push(bid);
            c.sending = None;
            if res < 0 {
                c.closing = true;
                for (bid, _) in c.queued.drain(..) {
                    bufs.push(bid);
                }
            } else if let Some((bid, len)) = c.queued.pop_front() {
                c.sending = Some((bid, 0, len));
                pending.push(send(fd, bufs, bid, 0, len));
            }
            if c.closing && c.sending.is_none() {
                close(c, fd);
            }
            true
        }
        _ => false,
    }
}

/// A multishot recv on `fd` from buffer group [`BGID`].
fn recv_multi(fd: RawFd) -> squeue::Entry {
    opcode::RecvMulti::new(types::Fd(fd), BGID)
        .build()
        .user_data(RECV | fd as u64)
}

/// A send of buffer `bid`'s bytes `off..len` on `fd`.
fn send(fd: RawFd, bufs: &BufRing, bid: u16, off: u32, len: u32) -> squeue::Entry {
    let b = &bufs.buf(bid)[off as usize..len as usize];
    opcode::Send::new(types::Fd(fd), b.as_ptr(), b.len() as u32)
        .flags(libc::MSG_NOSIGNAL)
        .build()
        .user_data(SEND | fd as u64)
}

/// Closes connection `fd` (no operation of it is in flight any more).
fn close(c: &mut Conn, fd: RawFd) {
    if c.open {
        c.open = false;
        c.closing = false;
        // SAFETY: `fd` came from this worker's accept and is closed once.
        unsafe {
            libc::close(fd);
        }
    }
}
