//! `goro::io`, `goro::stream` and `goro::prelude`: a program imports its
//! I/O traits and helpers from goro alone. Real TCP sockets on 127.0.0.1.
//! (No `futures_lite` import in this file, on purpose.)

use goro::io::{
    self, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter, Cursor,
    SeekFrom,
};
use goro::net::{TcpListener, TcpStream};
use goro::stream::StreamExt;

/// A connected pair of TCP sockets.
async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accept = goro::go(async move { listener.accept().await.map(|(s, _)| s) });
    let client = TcpStream::connect(addr).await?;
    Ok((client, accept.await.unwrap()?))
}

#[goro::test]
async fn lines_over_a_tcp_socket_with_buf_reader() -> io::Result<()> {
    let (mut client, server) = tcp_pair().await?;
    goro::go(async move {
        client.write_all(b"one\ntwo\r\nthree").await?;
        client.close().await
    });
    let mut lines = BufReader::new(server).lines();
    let mut got = Vec::new();
    while let Some(line) = lines.next().await {
        got.push(line?);
    }
    assert_eq!(got, ["one", "two", "three"]);
    Ok(())
}

#[goro::test]
async fn read_line_and_read_until() -> io::Result<()> {
    let mut r = BufReader::new(Cursor::new(b"name: goro\nrest;tail".to_vec()));
    let mut line = String::new();
    assert_eq!(r.read_line(&mut line).await?, 11);
    assert_eq!(line, "name: goro\n");
    let mut part = Vec::new();
    r.read_until(b';', &mut part).await?;
    assert_eq!(part, b"rest;");
    let mut tail = String::new();
    r.read_to_string(&mut tail).await?;
    assert_eq!(tail, "tail");
    Ok(())
}

#[goro::test]
async fn copy_moves_a_megabyte_between_sockets() -> io::Result<()> {
    let (mut a, b) = tcp_pair().await?;
    let (c, mut d) = tcp_pair().await?;
    let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let writer = goro::go(async move {
        a.write_all(&data).await?;
        a.close().await
    });
    // b -> c: copy takes its reader by value; `&b` reads through a shared
    // reference, as a socket allows.
    let relay = goro::go(async move {
        let mut c = c;
        let n = io::copy(&b, &mut c).await?;
        c.close().await?;
        io::Result::Ok(n)
    });
    let mut got = Vec::new();
    d.read_to_end(&mut got).await?;
    writer.await.unwrap()?;
    assert_eq!(relay.await.unwrap()?, 1 << 20);
    assert!(got == expected, "copy changed the bytes");
    Ok(())
}

#[goro::test]
async fn split_halves_read_and_write_from_two_tasks() -> io::Result<()> {
    let (client, server) = tcp_pair().await?;
    // An echo server on split halves.
    let echo = goro::go(async move {
        let (r, mut w) = io::split(server);
        let n = io::copy(r, &mut w).await?;
        w.close().await?;
        io::Result::Ok(n)
    });
    let (mut r, mut w) = io::split(client);
    let reader = goro::go(async move {
        let mut buf = String::new();
        r.read_to_string(&mut buf).await?;
        io::Result::Ok(buf)
    });
    let mut bw = BufWriter::new(&mut w);
    for i in 0..100 {
        bw.write_all(format!("{i}\n").as_bytes()).await?;
    }
    bw.flush().await?;
    drop(bw);
    w.close().await?;
    let text = reader.await.unwrap()?;
    assert_eq!(text.lines().count(), 100);
    assert_eq!(text.lines().last(), Some("99"));
    assert_eq!(echo.await.unwrap()?, text.len() as u64);
    Ok(())
}

#[goro::test]
async fn cursor_seeks_and_buf_writer_holds_until_flush() -> io::Result<()> {
    let mut c = Cursor::new(Vec::new());
    c.write_all(b"0123456789").await?;
    c.seek(SeekFrom::Start(4)).await?;
    let mut four = [0; 4];
    c.read_exact(&mut four).await?;
    assert_eq!(&four, b"4567");

    let mut sink = Vec::new();
    let mut w = BufWriter::new(&mut sink);
    w.write_all(b"held").await?;
    assert!(w.get_ref().is_empty(), "BufWriter wrote before a flush");
    w.flush().await?;
    assert_eq!(sink, b"held");
    Ok(())
}

#[goro::test]
async fn the_prelude_brings_every_extension_trait() {
    // Methods of AsyncReadExt, AsyncBufReadExt, AsyncWriteExt and
    // StreamExt with nothing imported but the prelude.
    mod user {
        use goro::prelude::*;
        pub async fn run() -> goro::io::Result<Vec<String>> {
            let mut out = Vec::new();
            out.write_all(b"a\nb\n").await?;
            let mut s = String::new();
            (&out[..]).read_to_string(&mut s).await?;
            assert_eq!(s, "a\nb\n");
            goro::io::BufReader::new(&out[..])
                .lines()
                .try_collect()
                .await
        }
    }
    assert_eq!(user::run().await.unwrap(), ["a", "b"]);
}
