//! The poller role moving between workers, `block_on` threads and the
//! monitor: no readiness and no wakeup may be lost.

use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro::net::UnixStream;

/// Many pairs of tasks ping-pong over sockets on more workers than cores,
/// with timers mixed in, so the poller role changes hands constantly. A lost
/// wakeup shows up as a pair that never finishes (caught by the timeout).
#[test]
fn ping_pong_pairs_with_timers_all_finish() {
    const PAIRS: usize = 64;
    // Scaled down under valgrind (GORO_STRESS_SCALE=50).
    let scale: u32 = std::env::var("GORO_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let rounds: u32 = (2_000 / scale.max(1)).max(20);
    let rt = goro::Runtime::builder().maxprocs(4).build().unwrap();
    let start = Instant::now();
    let done = rt.block_on(async {
        let mut tasks = Vec::new();
        for p in 0..PAIRS {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            tasks.push(goro::go(async move {
                let mut buf = [0; 4];
                for _ in 0..rounds {
                    b.read_exact(&mut buf).await.unwrap();
                    b.write_all(&buf).await.unwrap();
                }
            }));
            tasks.push(goro::go(async move {
                let mut buf = [0; 4];
                for i in 0..rounds {
                    a.write_all(&i.to_le_bytes()).await.unwrap();
                    a.read_exact(&mut buf).await.unwrap();
                    assert_eq!(u32::from_le_bytes(buf), i);
                    if (i as usize + p) % 500 == 0 {
                        goro::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }));
        }
        let all = async {
            for t in tasks {
                t.await.unwrap();
            }
        };
        goro::time::timeout(Duration::from_secs(120), all)
            .await
            .is_ok()
    });
    assert!(
        done,
        "some pair stalled: a wakeup was lost ({:?})",
        start.elapsed()
    );
}

/// Rounds of: every worker goes idle (one sleeps in the reactor), then I/O
/// arrives from a plain thread. Each round must be noticed.
#[test]
fn io_from_outside_wakes_idle_workers_every_time() {
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    for round in 0..100u32 {
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut a = UnixStream::from_std(a).unwrap();
        let reader = rt.spawn(async move {
            let mut buf = [0; 4];
            a.read_exact(&mut buf).await.unwrap();
            u32::from_le_bytes(buf)
        });
        // Let the workers go idle first on some rounds.
        if round % 2 == 0 {
            std::thread::sleep(Duration::from_micros(200));
        }
        std::io::Write::write_all(&mut b, &round.to_le_bytes()).unwrap();
        let got = rt.block_on(async { goro::time::timeout(Duration::from_secs(10), reader).await });
        assert_eq!(got.expect("wakeup lost").unwrap(), round);
    }
}

/// The same pairs while another thread changes maxprocs between 1 and 5
/// every millisecond: workers asleep in the reactor, or holding the poller
/// role, retire and come back without losing a readiness event, a timer or
/// a task.
#[test]
fn ping_pong_pairs_survive_live_resizes() {
    const PAIRS: usize = 32;
    let scale: u32 = std::env::var("GORO_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let rounds: u32 = (2_000 / scale.max(1)).max(20);
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let resizer = {
        let (h, stop) = (rt.handle().clone(), stop.clone());
        std::thread::spawn(move || {
            let mut resizes = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                h.set_maxprocs(1 + resizes % 5);
                resizes += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            resizes
        })
    };
    let done = rt.block_on(async {
        let mut tasks = Vec::new();
        for p in 0..PAIRS {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            tasks.push(goro::go(async move {
                let mut buf = [0; 4];
                for _ in 0..rounds {
                    b.read_exact(&mut buf).await.unwrap();
                    b.write_all(&buf).await.unwrap();
                }
            }));
            tasks.push(goro::go(async move {
                let mut buf = [0; 4];
                for i in 0..rounds {
                    a.write_all(&i.to_le_bytes()).await.unwrap();
                    a.read_exact(&mut buf).await.unwrap();
                    assert_eq!(u32::from_le_bytes(buf), i);
                    if (i as usize + p) % 100 == 0 {
                        goro::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }));
        }
        let all = async {
            for t in tasks {
                t.await.unwrap();
            }
        };
        goro::time::timeout(Duration::from_secs(120), all)
            .await
            .is_ok()
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let resizes = resizer.join().unwrap();
    assert!(done, "some pair stalled across {resizes} resizes");
    assert!(resizes > 0);
    assert!(rt.maxprocs() >= 1);
}
