//! The poller role moving between workers, `block_on` threads and the
//! monitor: no readiness and no wakeup may be lost.

use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro::net::UnixStream;

/// Runs `pairs` pairs of tasks that ping-pong `rounds` 4-byte messages over
/// Unix socket pairs, each client sleeping 1 ms every `sleep_every` rounds,
/// so the poller role changes hands constantly. Returns whether all
/// finished within 120 s: a lost wakeup leaves a pair stuck.
fn ping_pong_pairs(rt: &goro::Runtime, pairs: usize, rounds: u32, sleep_every: usize) -> bool {
    rt.block_on(async {
        let mut tasks = Vec::new();
        for p in 0..pairs {
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
                    if (i as usize + p) % sleep_every == 0 {
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
    })
}

/// Rounds per pair, scaled down under valgrind (GORO_STRESS_SCALE=50).
fn rounds() -> u32 {
    u32::try_from(goro_testkit::stress::scaled_at_least(2_000, 20)).unwrap()
}

/// Many pairs on more workers than cores, with timers mixed in.
#[test]
fn ping_pong_pairs_with_timers_all_finish() {
    let rt = goro::Runtime::builder().maxprocs(4).build().unwrap();
    let start = Instant::now();
    assert!(
        ping_pong_pairs(&rt, 64, rounds(), 500),
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
    let done = ping_pong_pairs(&rt, 32, rounds(), 100);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let resizes = resizer.join().unwrap();
    assert!(done, "some pair stalled across {resizes} resizes");
    assert!(resizes > 0);
}
