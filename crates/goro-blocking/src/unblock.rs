//! [`Unblock`]: a blocking `Read`/`Write`/`Seek` value driven from async
//! code by handing it to the pool for each operation.
//!
//! The value lives in a boxed slot together with its buffers. An operation
//! moves the slot into a pool job, which performs one blocking call and
//! moves it back through the job's `JoinHandle`; the result waits in the
//! slot (`done`) until the caller polls again. So at most one operation is
//! in flight, operations run in the order they were issued, and a dropped
//! future never loses the value: the next operation first waits for the one
//! in flight.
//!
//! - Reads ask for at most `min(buf.len(), capacity)` bytes, so nothing is
//!   read ahead unless the caller retries a pending read with a smaller
//!   buffer; bytes left over are served first, and a seek accounts for them.
//! - Writes are write-behind, as in tokio's `File`: `poll_write` copies up to
//!   `capacity` bytes, starts `write_all` and returns at once; an error
//!   surfaces from the next write, flush or close. Flush before relying on
//!   the data, and close (or flush) before dropping.

use std::any::Any;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::panic::resume_unwind;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_lite::io::{AsyncRead, AsyncSeek, AsyncWrite};
use goro_executor::JoinHandle;

/// The default buffer size of an [`Unblock`]: bytes per read or write
/// hand-off, or items per iterator hand-off.
///
/// # Examples
///
/// ```
/// assert_eq!(goro_blocking::DEFAULT_CAPACITY, 8 * 1024);
/// ```
pub const DEFAULT_CAPACITY: usize = 8 * 1024;

/// A blocking I/O value or iterator, usable from async code.
///
/// `Unblock<T>` implements [`AsyncRead`] when `T: Read`, [`AsyncWrite`]
/// when `T: Write`, [`AsyncSeek`] when `T: Seek`, and
/// [`Stream`](futures_lite::Stream) when `T: Iterator`. Each operation runs
/// on the global blocking pool. Writes are write-behind: flush or close to
/// see their errors and to know the data reached `T`.
///
/// # Examples
///
/// ```
/// use goro::{block_on, io::{AsyncReadExt, AsyncWriteExt, AsyncSeekExt}};
/// use std::io::{Cursor, SeekFrom};
///
/// block_on(async {
///     let mut c = goro::Unblock::new(Cursor::new(Vec::new()));
///     c.write_all(b"hello pool").await?;
///     c.seek(SeekFrom::Start(6)).await?;
///     let mut s = String::new();
///     c.read_to_string(&mut s).await?;
///     assert_eq!(s, "pool");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Unblock<T> {
    /// The value and its buffers, when no operation is in flight.
    slot: Option<Box<Slot<T>>>,
    /// The operation in flight, which hands the slot back.
    task: Option<JoinHandle<Box<Slot<T>>>>,
    cap: usize,
    /// Tags [`Unblock::with_mut`] results.
    ticket: u64,
    /// The item channel of the `Stream` impl (see `stream.rs`).
    pub(crate) items: Option<Arc<dyn Any + Send + Sync>>,
}

pub(crate) struct Slot<T> {
    pub(crate) io: T,
    /// Bytes read and not yet returned: `rbuf[rpos..]`.
    rbuf: Vec<u8>,
    rpos: usize,
    wbuf: Vec<u8>,
    /// An error of a write-behind job, for the next operation.
    error: Option<io::Error>,
    /// The result of the last job, until the caller collects it.
    done: Option<Outcome>,
}

enum Outcome {
    Eof,
    ReadErr(io::Error),
    Seek(SeekFrom, io::Result<u64>),
    Flush(io::Result<()>),
    Custom(u64, Box<dyn Any + Send>),
}

impl<T> Unblock<T> {
    /// Wraps `io` with a [`DEFAULT_CAPACITY`] buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// let stdin = goro::Unblock::new(std::io::stdin());
    /// # drop(stdin);
    /// ```
    pub fn new(io: T) -> Self {
        Unblock::with_capacity(DEFAULT_CAPACITY, io)
    }

    /// Wraps `io`, moving at most `cap` bytes (or items) per hand-off
    /// (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::{block_on, stream::StreamExt};
    ///
    /// let s = goro::Unblock::with_capacity(2, 1..=5);
    /// assert_eq!(block_on(s.collect::<Vec<_>>()), [1, 2, 3, 4, 5]);
    /// ```
    pub fn with_capacity(cap: usize, io: T) -> Self {
        Unblock {
            slot: Some(Box::new(Slot {
                io,
                rbuf: Vec::new(),
                rpos: 0,
                wbuf: Vec::new(),
                error: None,
                done: None,
            })),
            task: None,
            cap: cap.max(1),
            ticket: 0,
            items: None,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Waits for the operation in flight, if any, to hand the slot back.
    /// A panic in the blocking value resumes here.
    pub(crate) fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(task) = self.task.as_mut() {
            let res = ready!(Pin::new(task).poll(cx));
            self.task = None;
            match res {
                Ok(slot) => self.slot = Some(slot),
                Err(e) => match e.try_into_panic() {
                    Ok(payload) => resume_unwind(payload),
                    Err(e) => panic!("goro-blocking: an Unblock operation was cancelled: {e}"),
                },
            }
        }
        Poll::Ready(())
    }

    pub(crate) fn is_busy(&self) -> bool {
        self.task.is_some()
    }

    fn slot_mut(&mut self) -> &mut Slot<T> {
        self.slot
            .as_deref_mut()
            .expect("goro-blocking: Unblock used after its blocking value panicked")
    }

    /// Waits for the operation in flight, then gives the slot, or the
    /// error an earlier write left in it (taken, so it is reported once).
    fn poll_slot(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut Slot<T>>> {
        ready!(self.poll_idle(cx));
        let slot = self.slot_mut();
        Poll::Ready(match slot.error.take() {
            Some(e) => Err(e),
            None => Ok(slot),
        })
    }

    /// Waits for the operation in flight, then gives access to the value.
    /// Bytes already read ahead stay buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::{block_on, io::AsyncWriteExt};
    ///
    /// block_on(async {
    ///     let mut u = goro::Unblock::new(Vec::<u8>::new());
    ///     u.write_all(b"abc").await.unwrap();
    ///     assert_eq!(u.get_mut().await.as_slice(), b"abc");
    /// });
    /// ```
    pub async fn get_mut(&mut self) -> &mut T {
        poll_fn(|cx| self.poll_idle(cx)).await;
        &mut self.slot_mut().io
    }

    /// Waits for the operation in flight and returns the value. Bytes read
    /// ahead and not yet returned are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::{block_on, io::AsyncWriteExt};
    ///
    /// let v = block_on(async {
    ///     let mut u = goro::Unblock::new(Vec::<u8>::new());
    ///     u.write_all(b"xyz").await.unwrap();
    ///     u.into_inner().await
    /// });
    /// assert_eq!(v, b"xyz");
    /// ```
    pub async fn into_inner(mut self) -> T {
        poll_fn(|cx| self.poll_idle(cx)).await;
        match self.slot.take() {
            Some(slot) => slot.io,
            None => panic!("goro-blocking: Unblock used after its blocking value panicked"),
        }
    }
}

impl<T: Send + 'static> Unblock<T> {
    /// Moves the slot into a pool job running `f`.
    pub(crate) fn spawn_job(&mut self, f: impl FnOnce(&mut Slot<T>) + Send + 'static) {
        let mut slot = self
            .slot
            .take()
            .expect("goro-blocking: Unblock used after its blocking value panicked");
        self.task = Some(crate::unblock(move || {
            slot.done = None;
            f(&mut slot);
            slot
        }));
    }

    /// Runs `f` on the value, on the pool, after the operation in flight.
    /// Dropping the future before it completes does not lose the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::block_on;
    ///
    /// let mut u = goro::Unblock::new(vec![3, 1, 2]);
    /// let len = block_on(u.with_mut(|v| {
    ///     v.sort();
    ///     v.len()
    /// }));
    /// assert_eq!(len, 3);
    /// assert_eq!(block_on(u.into_inner()), [1, 2, 3]);
    /// ```
    pub async fn with_mut<R, F>(&mut self, f: F) -> R
    where
        F: FnOnce(&mut T) -> R + Send + 'static,
        R: Send + 'static,
    {
        self.ticket += 1;
        let ticket = self.ticket;
        let mut f = Some(f);
        poll_fn(move |cx| {
            loop {
                ready!(self.poll_idle(cx));
                let slot = self.slot_mut();
                if matches!(slot.done, Some(Outcome::Custom(t, _)) if t == ticket) {
                    if let Some(Outcome::Custom(_, r)) = slot.done.take() {
                        match r.downcast::<R>() {
                            Ok(r) => return Poll::Ready(*r),
                            Err(_) => unreachable!("with_mut result of another type"),
                        }
                    }
                }
                let Some(f) = f.take() else {
                    unreachable!("goro-blocking: with_mut's result went missing");
                };
                self.spawn_job(move |s| {
                    let r = f(&mut s.io);
                    s.done = Some(Outcome::Custom(ticket, Box::new(r)));
                });
            }
        })
        .await
    }
}

impl<T: Seek + Send + 'static> Unblock<T> {
    /// Before a write: moves `T`'s position back over bytes read ahead and
    /// not returned, so the write lands where the reader stopped. Errors go
    /// to the next operation.
    pub(crate) fn poll_rewind(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        ready!(self.poll_idle(cx));
        let slot = self.slot_mut();
        let unread = slot.rbuf.len() - slot.rpos;
        if unread > 0 {
            slot.rbuf.clear();
            slot.rpos = 0;
            let back = -i64::try_from(unread).unwrap_or(i64::MAX);
            self.spawn_job(move |s| {
                if let Err(e) = s.io.seek(SeekFrom::Current(back)) {
                    s.error = Some(e);
                }
            });
        }
        Poll::Ready(())
    }
}

/// `Read::read`, retried on `Interrupted`.
fn read_retry(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            res => return res,
        }
    }
}

impl<T: Read + Send + 'static> AsyncRead for Unblock<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        loop {
            ready!(this.poll_idle(cx));
            let cap = this.cap;
            let slot = this.slot_mut();
            if slot.rpos < slot.rbuf.len() {
                let avail = &slot.rbuf[slot.rpos..];
                let n = avail.len().min(out.len());
                out[..n].copy_from_slice(&avail[..n]);
                slot.rpos += n;
                return Poll::Ready(Ok(n));
            }
            match slot.done.take() {
                Some(Outcome::Eof) => return Poll::Ready(Ok(0)),
                Some(Outcome::ReadErr(e)) => return Poll::Ready(Err(e)),
                _ => {} // nothing, or the stale result of an abandoned operation
            }
            if let Some(e) = slot.error.take() {
                return Poll::Ready(Err(e));
            }
            if out.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let want = out.len().min(cap);
            this.spawn_job(move |s| {
                s.rbuf.clear();
                s.rbuf.resize(want, 0);
                s.rpos = 0;
                match read_retry(&mut s.io, &mut s.rbuf) {
                    Ok(0) => {
                        s.rbuf.clear();
                        s.done = Some(Outcome::Eof);
                    }
                    Ok(n) => s.rbuf.truncate(n),
                    Err(e) => {
                        s.rbuf.clear();
                        s.done = Some(Outcome::ReadErr(e));
                    }
                }
            });
        }
    }
}

impl<T: Write + Send + 'static> AsyncWrite for Unblock<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let cap = this.cap;
        let slot = ready!(this.poll_slot(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = data.len().min(cap);
        slot.wbuf.clear();
        slot.wbuf.extend_from_slice(&data[..n]);
        this.spawn_job(|s| {
            if let Err(e) = s.io.write_all(&s.wbuf) {
                s.error = Some(e);
            }
        });
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            let slot = ready!(this.poll_slot(cx))?;
            // A flush result is fresh: any later write would have replaced it.
            if let Some(Outcome::Flush(r)) = slot.done.take() {
                return Poll::Ready(r);
            }
            this.spawn_job(|s| s.done = Some(Outcome::Flush(s.io.flush())));
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: Seek + Send + 'static> AsyncSeek for Unblock<T> {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = &mut *self;
        loop {
            let slot = ready!(this.poll_slot(cx))?;
            if let Some(Outcome::Seek(p, r)) = slot.done.take() {
                if p == pos {
                    return Poll::Ready(r);
                }
            }
            // `T` is ahead of the reader by the bytes not yet returned.
            let unread = i64::try_from(slot.rbuf.len() - slot.rpos).unwrap_or(i64::MAX);
            let target = match pos {
                SeekFrom::Current(off) => match off.checked_sub(unread) {
                    Some(off) => SeekFrom::Current(off),
                    None => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "seek offset overflows",
                        )));
                    }
                },
                other => other,
            };
            slot.rbuf.clear();
            slot.rpos = 0;
            this.spawn_job(move |s| s.done = Some(Outcome::Seek(pos, s.io.seek(target))));
        }
    }
}

impl<T> fmt::Debug for Unblock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unblock")
            .field("capacity", &self.cap)
            .field("busy", &self.task.is_some())
            .finish_non_exhaustive()
    }
}
