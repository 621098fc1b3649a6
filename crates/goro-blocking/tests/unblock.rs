//! `Unblock<T>` over cursors, real files, writers that fail, and iterators.

use std::io::{self, Cursor, Read, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use futures_lite::future::{block_on, poll_once};
use futures_lite::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, StreamExt};
use goro_blocking::Unblock;

#[test]
fn cursor_read_write_seek() {
    block_on(async {
        let mut c = Unblock::with_capacity(3, Cursor::new(Vec::new()));
        c.write_all(b"0123456789").await.unwrap();
        c.flush().await.unwrap();
        assert_eq!(c.seek(SeekFrom::Start(2)).await.unwrap(), 2);
        let mut two = [0u8; 2];
        c.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"23");
        assert_eq!(c.seek(SeekFrom::Current(3)).await.unwrap(), 7);
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"789");
        assert_eq!(c.read(&mut two).await.unwrap(), 0, "EOF stays EOF");
        assert_eq!(c.into_inner().await.into_inner(), b"0123456789");
    });
}

#[test]
fn read_ahead_is_accounted_for_by_seek() {
    block_on(async {
        let mut c = Unblock::new(Cursor::new(b"abcdefgh".to_vec()));
        let mut big = [0u8; 8];
        // Start a read of 8 and abandon it; a 3-byte read then leaves 5 ahead.
        if poll_once(c.read(&mut big)).await.is_none() {
            let mut three = [0u8; 3];
            c.read_exact(&mut three).await.unwrap();
            assert_eq!(&three, b"abc");
            assert_eq!(c.seek(SeekFrom::Current(0)).await.unwrap(), 3);
            assert_eq!(c.seek(SeekFrom::Current(-1)).await.unwrap(), 2);
            let mut s = String::new();
            c.read_to_string(&mut s).await.unwrap();
            assert_eq!(s, "cdefgh");
        }
    });
}

#[test]
fn real_file_in_small_chunks() {
    let p = std::env::temp_dir().join(format!("goro-unblock-{}", std::process::id()));
    let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    block_on(async {
        let mut w = Unblock::with_capacity(1000, std::fs::File::create(&p).unwrap());
        w.write_all(&data).await.unwrap();
        w.close().await.unwrap();
        let mut r = Unblock::with_capacity(777, std::fs::File::open(&p).unwrap());
        let mut back = Vec::new();
        r.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, data);
    });
    std::fs::remove_file(&p).unwrap();
}

/// A writer that accepts `ok` bytes, then fails.
struct Failing {
    ok: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("disk full"));
        }
        let n = buf.len().min(self.ok);
        self.ok -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_write_behind_error_surfaces_at_flush() {
    block_on(async {
        let mut w = Unblock::new(Failing { ok: 4 });
        // Accepted: the write happens behind.
        assert_eq!(w.write(b"0123456789").await.unwrap(), 10);
        let e = w.flush().await.unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        // Reported once; the writer's own flush then succeeds.
        w.flush().await.unwrap();
    });
}

/// A reader that fails.
struct Broken;

impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"))
    }
}

#[test]
fn a_read_error_is_returned() {
    let mut r = Unblock::new(Broken);
    let mut buf = [0u8; 4];
    let e = block_on(r.read(&mut buf)).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
}

#[test]
fn iterator_as_stream_keeps_order() {
    let v: Vec<u32> = block_on(Unblock::with_capacity(100, 0..10_000u32).collect());
    assert_eq!(v, (0..10_000).collect::<Vec<_>>());
}

#[test]
fn a_slow_iterators_items_arrive_one_by_one() {
    let (tx, rx) = mpsc::channel::<u32>();
    // The iterator blocks in `recv` between items: a batch design would
    // never hand over the first item.
    let mut s = Unblock::new(rx.into_iter());
    block_on(async {
        tx.send(1).unwrap();
        assert_eq!(s.next().await, Some(1));
        tx.send(2).unwrap();
        assert_eq!(s.next().await, Some(2));
        drop(tx);
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    });
}

#[test]
fn a_panic_in_the_iterator_reaches_the_consumer() {
    let it = (0..3).inspect(|&i| {
        std::thread::sleep(Duration::from_millis(1));
        if i == 2 {
            panic!("iterator broke");
        }
    });
    let s = Unblock::new(it);
    let res = catch_unwind(AssertUnwindSafe(move || block_on(s.collect::<Vec<_>>())));
    let payload = res.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"iterator broke"));
}

#[test]
fn with_mut_and_get_mut() {
    block_on(async {
        let mut u = Unblock::new(Cursor::new(vec![1u8, 2, 3]));
        let len = u.with_mut(|c| c.get_ref().len()).await;
        assert_eq!(len, 3);
        u.get_mut().await.get_mut().push(4);
        let mut all = Vec::new();
        u.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, [1, 2, 3, 4]);
    });
}
