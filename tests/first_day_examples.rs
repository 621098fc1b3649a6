//! The first-day example programs (`examples/chat.rs`,
//! `examples/fan_out.rs`, `examples/file_pipeline.rs`), run as a user
//! would run them: the binaries `cargo test` builds, started as child
//! processes, with real TCP clients on 127.0.0.1 and real files. Where the
//! examples are not built (`cargo test --test first_day_examples` alone),
//! the tests skip loudly, and fail under `GORO_TEST_STRICT=1`.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use goro_testkit::dir::TempDir;
use goro_testkit::example;

use goro::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use goro::net::{OwnedReadHalf, TcpStream};

use goro::stream::StreamExt;
use goro::time::timeout;

const PATIENCE: Duration = Duration::from_secs(20);

async fn next_line(lines: &mut Lines<BufReader<OwnedReadHalf>>) -> String {
    timeout(PATIENCE, lines.next())
        .await
        .expect("no line from the server")
        .expect("the server closed the connection")
        .unwrap()
}

#[goro::test(maxprocs = 2)]
async fn chat_relays_lines_to_the_others_and_says_goodbye() {
    let Some(chat) = example::binary("chat") else {
        return;
    };
    let mut server = Command::new(chat)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let first = said.next().unwrap().unwrap();
    let addr: std::net::SocketAddr = first
        .strip_prefix("chat: listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("chat did not say where it listens: {first:?}"));

    let mut clients = Vec::new();
    for _ in 0..3 {
        let s = TcpStream::connect(addr).await.unwrap();
        let me = s.local_addr().unwrap();
        let (r, w) = s.into_split();
        let mut lines = BufReader::new(r).lines();
        assert_eq!(next_line(&mut lines).await, "* welcome");
        clients.push((me, lines, w));
    }
    // The first client sees the two others join.
    for other in [clients[1].0, clients[2].0] {
        assert_eq!(
            next_line(&mut clients[0].1).await,
            format!("* {other} joined")
        );
    }
    assert_eq!(
        next_line(&mut clients[1].1).await,
        format!("* {} joined", clients[2].0)
    );

    let from = clients[0].0;
    clients[0].2.write_all(b"hello, world\n").await.unwrap();
    for c in &mut clients[1..] {
        assert_eq!(next_line(&mut c.1).await, format!("{from}: hello, world"));
    }

    // A client leaves; the others are told.
    let (gone, _, _) = clients.remove(2);
    assert_eq!(next_line(&mut clients[0].1).await, format!("* {gone} left"));

    // Graceful stop on SIGTERM: every client gets the goodbye, then EOF.
    example::terminate(&mut server);
    for (_, lines, _) in &mut clients {
        loop {
            let line = next_line(lines).await;
            if line == "* server shutting down, goodbye" {
                break;
            }
        }
        let eof = timeout(PATIENCE, lines.next()).await.expect("not closed");
        assert!(eof.is_none(), "more after goodbye: {eof:?}");
    }
    let status = goro::unblock(move || server.wait()).await.unwrap().unwrap();
    assert!(status.success(), "chat exited with {status}");
    let rest: Vec<String> = said.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.ends_with(", stopping")),
        "chat did not say it stops: {rest:?}"
    );
}

/// Runs `file_pipeline ARGS...` with its report under `tmp`; returns
/// whether it succeeded, its stdout and its stderr.
fn file_pipeline(tmp: &TempDir, args: &[&std::path::Path]) -> Option<(bool, String, String)> {
    let out = goro_testkit::child::output(
        Command::new(example::binary("file_pipeline")?)
            .args(args)
            .env("TMPDIR", tmp.path()),
    );
    Some((out.status.success(), out.stdout, out.stderr))
}

#[test]
fn file_pipeline_counts_a_tree_like_wc() {
    let tmp = TempDir::new("pipeline-test");
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::write(root.join("one.txt"), "hello world\n").unwrap();
    std::fs::write(
        root.join("a/two.txt"),
        "x y z\n\n  spaced   out\nno newline",
    )
    .unwrap();
    std::fs::write(root.join("a/b/empty"), "").unwrap();
    for i in 0..50 {
        std::fs::write(root.join(format!("a/b/n{i:02}")), "w\n".repeat(i)).unwrap();
    }

    let Some((ok, out, err)) = file_pipeline(&tmp, &[&root, "3".as_ref()]) else {
        return;
    };
    assert!(ok, "{out}\n{err}");
    assert!(out.starts_with("53 files, "), "every file once: {out}");
    let report = std::fs::read_to_string(tmp.path().join("file_pipeline-report.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = report.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 54, "a row per file and the total: {report}");
    let find = |p: &str| {
        let path = root.join(p).display().to_string();
        let row = rows
            .iter()
            .find(|r| r[0] == path)
            .unwrap_or_else(|| panic!("no {path}"));
        (row[1].to_owned(), row[2].to_owned(), row[3].to_owned())
    };
    assert_eq!(find("one.txt"), ("1".into(), "2".into(), "12".into()));
    // As `wc`: 3 newlines, 7 words, 32 bytes.
    assert_eq!(find("a/two.txt"), ("3".into(), "7".into(), "32".into()));
    assert_eq!(find("a/b/empty").2, "0");
    assert_eq!(find("a/b/n49").0, "49");
    let paths: Vec<&str> = rows[..53].iter().map(|r| r[0]).collect();
    let mut sorted = paths.clone();
    sorted.sort_by(|a, b| std::path::Path::new(a).cmp(std::path::Path::new(b)));
    assert_eq!(paths, sorted, "sorted by path");
    let lines: u64 = 1 + 3 + (0..50).sum::<u64>();
    assert!(
        report.ends_with(&format!(
            "total\t{lines}\t{}\t{}\n",
            2 + 7 + (lines - 4),
            12 + 32 + 2 * (lines - 4)
        )),
        "{report}"
    );

    let missing = root.join("missing");
    let (ok, out, err) = file_pipeline(&tmp, &[&missing]).unwrap();
    assert!(!ok, "a missing directory fails the run: {out}");
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn fan_out_runs_its_three_parts() {
    let Some(fan_out) = example::binary("fan_out") else {
        return;
    };
    // Each part asserts its own result (the sum, and that the error
    // cancelled jobs): a failed part is a panic, and a failed exit.
    let out = goro_testkit::child::output(&mut Command::new(fan_out));
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
}
