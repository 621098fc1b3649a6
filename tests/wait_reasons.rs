//! The task dump says why each task waits, as Go's goroutine dump does
//! (`[chan receive]`, `[sleep]`, `[IO wait]`, ...): one task per kind of
//! wait, then a dump.

use std::time::Duration;

use goro::WaitReason;
use goro::io::AsyncReadExt;

/// A dump of the current runtime once every task of `ids` is listed as
/// waiting (a loaded machine may take a while to run them all once).
async fn dump_once_waiting(ids: &[goro::TaskId]) -> goro::TaskDump {
    let start = std::time::Instant::now();
    loop {
        let dump = goro::dump_tasks();
        let all = ids.iter().all(|id| {
            dump.tasks()
                .any(|t| t.id == *id && t.state == goro::TaskState::Waiting)
        });
        if all {
            return dump;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "tasks {ids:?} not all waiting:\n{dump}"
        );
        goro::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn each_wait_has_its_reason_in_the_dump() {
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    let mut expect: Vec<(goro::TaskId, Option<WaitReason>)> = Vec::new();
    let dump = rt.block_on(async {
        let (_tx_keep, rx) = goro::chan::bounded::<u8>(1);
        let (full_tx, _full_rx) = goro::chan::bounded::<u8>(1);
        full_tx.try_send(0).unwrap();
        let listener = goro::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = goro::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let token = goro::CancelToken::new();
        let wg = goro::sync::WaitGroup::new();
        wg.add(1);
        let pending = goro::go(std::future::pending::<()>());

        let rx2 = rx.clone();
        let h = goro::go(async move { rx2.recv().await.ok() });
        expect.push((h.id(), Some(WaitReason::ChanReceive)));
        let tx2 = full_tx.clone();
        let h2 = goro::go(async move { tx2.send(1).await.ok() });
        expect.push((h2.id(), Some(WaitReason::ChanSend)));
        let h3 = goro::go(goro::time::sleep(Duration::from_secs(3600)));
        expect.push((h3.id(), Some(WaitReason::Sleep)));
        let h4 = goro::go(async move {
            let mut server = server;
            let mut b = [0u8; 1];
            server.read(&mut b).await.ok()
        });
        expect.push((h4.id(), Some(WaitReason::Io)));
        let h5 = goro::go(async move { pending.await.ok() });
        expect.push((h5.id(), Some(WaitReason::Join)));
        let wg2 = wg.clone();
        let h6 = goro::go(async move { wg2.wait().await });
        expect.push((h6.id(), Some(WaitReason::WaitGroup)));
        let t2 = token.clone();
        let h7 = goro::go(async move { t2.cancelled().await });
        expect.push((h7.id(), Some(WaitReason::Cancel)));
        // Under a timeout, the future's reason shows, not the timer's.
        let rx3 = rx.clone();
        let h8 = goro::go(async move {
            goro::time::timeout(Duration::from_secs(3600), rx3.recv())
                .await
                .ok()
        });
        expect.push((h8.id(), Some(WaitReason::ChanReceive)));
        // A stream over a channel.
        let rx4 = rx.clone();
        let h9 = goro::go(async move {
            let mut s = std::pin::pin!(rx4);
            goro::stream::StreamExt::next(&mut s).await
        });
        expect.push((h9.id(), Some(WaitReason::ChanReceive)));
        let h10 = goro::go(async {
            let mut set = goro::JoinSet::new();
            set.spawn(std::future::pending::<()>());
            set.join_next().await.map(|r| r.is_ok())
        });
        expect.push((h10.id(), Some(WaitReason::Join)));
        // A select over two waits: `[select]`, as Go's.
        let (rx5, t3) = (rx.clone(), token.clone());
        let h12 = goro::go(async move {
            goro::select! {
                v = rx5.recv() => v.ok(),
                _ = t3.cancelled() => None,
            }
        });
        expect.push((h12.id(), Some(WaitReason::Select)));
        // A future that notes nothing: no reason.
        let h11 = goro::go(std::future::pending::<()>());
        expect.push((h11.id(), None));

        // Everything above (sockets, senders, token, group) is alive here.
        let ids: Vec<_> = expect.iter().map(|(id, _)| *id).collect();
        let dump = dump_once_waiting(&ids).await;
        drop((client, token, wg, full_tx, _tx_keep, _full_rx));
        dump
    });
    for (id, want) in &expect {
        let t = dump
            .tasks()
            .find(|t| t.id == *id)
            .unwrap_or_else(|| panic!("task {id} not in the dump:\n{dump}"));
        assert_eq!(t.state, goro::TaskState::Waiting, "task {id}:\n{dump}");
        assert_eq!(t.wait, *want, "task {id}:\n{dump}");
    }
    let text = dump.to_string();
    for label in [
        "[chan receive,",
        "[chan send,",
        "[sleep,",
        "[IO wait,",
        "[join,",
        "[WaitGroup.wait,",
        "[cancelled,",
        "[select,",
        "[waiting,",
    ] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
    eprintln!("{text}");
    drop(rt);
}

#[test]
fn a_site_header_counts_its_waits_by_reason() {
    let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    let (tx, rx) = goro::chan::bounded::<()>(1);
    let dump = rt.block_on(async {
        let mut hs = Vec::new();
        for i in 0..6 {
            let rx = rx.clone();
            // One spawn site, two kinds of wait.
            hs.push(goro::go(async move {
                if i % 3 == 0 {
                    goro::time::sleep(Duration::from_secs(3600)).await;
                } else {
                    let _ = rx.recv().await;
                }
            }));
        }
        let ids: Vec<_> = hs.iter().map(|h| h.id()).collect();
        let dump = dump_once_waiting(&ids).await;
        drop(hs);
        dump
    });
    let site = dump
        .sites
        .iter()
        .find(|s| s.tasks.len() == 6)
        .unwrap_or_else(|| panic!("no site of 6:\n{dump}"));
    assert_eq!(
        site.wait_counts(),
        [
            (Some(WaitReason::ChanReceive), 4),
            (Some(WaitReason::Sleep), 2)
        ]
    );
    let text = dump.to_string();
    assert!(
        text.contains("6 waiting (4 chan receive, 2 sleep)"),
        "{text}"
    );
    // Grouped: the four channel waits are listed together.
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("    task ")).collect();
    let first_sleep = lines.iter().position(|l| l.contains("[sleep")).unwrap();
    assert!(
        lines[first_sleep..].iter().all(|l| l.contains("[sleep")),
        "reasons interleaved:\n{text}"
    );
    drop(tx);
}

#[test]
fn lock_waits_show_as_lock() {
    use std::sync::Arc;
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    rt.block_on(async {
        let m = Arc::new(goro::sync::Mutex::new(0));
        let l = Arc::new(goro::sync::RwLock::new(0));
        let s = Arc::new(goro::sync::Semaphore::new(1));
        let (held_m, held_l, held_s) = (
            m.lock_arc().await,
            l.write_arc().await,
            s.acquire_arc().await,
        );
        let waiters = [
            goro::go({
                let m = m.clone();
                async move { *m.lock().await += 1 }
            }),
            goro::go({
                let m = m.clone();
                async move { *m.lock_arc().await += 1 }
            }),
            goro::go({
                let l = l.clone();
                async move { *l.write().await += 1 }
            }),
            goro::go({
                let l = l.clone();
                async move { drop(l.read_arc().await) }
            }),
            goro::go({
                let s = s.clone();
                async move { drop(s.acquire().await) }
            }),
        ];
        let ids: Vec<_> = waiters.iter().map(|w| w.id()).collect();
        let dump = dump_once_waiting(&ids).await;
        for w in &waiters {
            let t = dump
                .tasks()
                .find(|t| t.id == w.id())
                .unwrap_or_else(|| panic!("task {} missing:\n{dump}", w.id()));
            assert_eq!(t.wait, Some(WaitReason::Lock), "{dump}");
        }
        drop((held_m, held_l, held_s));
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*m.lock().await, 2);
        assert_eq!(*l.read().await, 1);
        // The Arc guards gave their references back.
        assert_eq!(
            (
                Arc::strong_count(&m),
                Arc::strong_count(&l),
                Arc::strong_count(&s)
            ),
            (1, 1, 1)
        );
    });
}
