//! The first-day example programs (`examples/chat.rs`,
//! `examples/fan_out.rs`, `examples/file_pipeline.rs`), run as a user
//! would run them: real TCP
//! clients on 127.0.0.1, real files. The examples are compiled in here
//! as modules, so their `main`s go unused.

#[allow(dead_code)]
#[path = "../examples/chat.rs"]
mod chat;

#[allow(dead_code)]
#[path = "../examples/file_pipeline.rs"]
mod file_pipeline;

#[allow(dead_code)]
#[path = "../examples/fan_out.rs"]
mod fan_out;

use std::time::Duration;

use goro::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use goro::net::{OwnedReadHalf, TcpListener, TcpStream};

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
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = goro::CancelToken::new();
    let server = goro::go({
        let stop = stop.clone();
        async move { chat::serve(listener, async move { stop.cancelled().await }).await }
    });

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

    // Graceful stop: every client gets the goodbye, then EOF.
    stop.cancel();
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
    timeout(PATIENCE, server)
        .await
        .expect("serve did not return after the stop")
        .unwrap()
        .unwrap();
}

#[goro::test(maxprocs = 2)]
async fn file_pipeline_counts_a_tree_like_wc() -> goro::io::Result<()> {
    let root = std::env::temp_dir().join(format!("goro-pipeline-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    goro::fs::create_dir_all(root.join("a/b")).await?;
    goro::fs::write(root.join("one.txt"), "hello world\n").await?;
    goro::fs::write(
        root.join("a/two.txt"),
        "x y z\n\n  spaced   out\nno newline",
    )
    .await?;
    goro::fs::write(root.join("a/b/empty"), "").await?;
    for i in 0..50 {
        goro::fs::write(root.join(format!("a/b/n{i:02}")), "w\n".repeat(i)).await?;
    }

    let counts = file_pipeline::run(&root, 3).await?;
    assert_eq!(counts.len(), 53, "every file once");
    let find = |p: &str| counts.iter().find(|c| c.path == root.join(p)).unwrap();
    assert_eq!(
        (
            find("one.txt").lines,
            find("one.txt").words,
            find("one.txt").bytes
        ),
        (1, 2, 12)
    );
    // As `wc`: 3 newlines, 7 words, 32 bytes.
    assert_eq!(
        (
            find("a/two.txt").lines,
            find("a/two.txt").words,
            find("a/two.txt").bytes
        ),
        (3, 7, 32)
    );
    assert_eq!(find("a/b/empty").bytes, 0);
    assert_eq!(find("a/b/n49").lines, 49);
    let mut sorted = counts.clone();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(counts, sorted, "sorted by path");

    let report = root.join("report.tsv");
    file_pipeline::write_report(&report, &counts).await?;
    let text = goro::fs::read_to_string(&report).await?;
    assert_eq!(text.lines().count(), 54);
    let lines: u64 = 1 + 3 + (0..50).sum::<u64>();
    assert!(
        text.ends_with(&format!(
            "total\t{lines}\t{}\t{}\n",
            2 + 7 + (lines - 4),
            12 + 32 + 2 * (lines - 4)
        )),
        "{text}"
    );

    let err = file_pipeline::run(&root.join("missing"), 2)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    goro::fs::remove_dir_all(&root).await
}

#[goro::test(maxprocs = 2)]
async fn fan_out_runs_its_three_parts() {
    // Each part asserts its own result (the sum, and that the error
    // cancelled jobs).
    fan_out::worker_pool().await;
    fan_out::task_per_job().await;
    fan_out::first_error_cancels().await;
}
