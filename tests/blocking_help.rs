//! The `goro` facade's runtimes let idle workers run short jobs of the
//! global blocking pool (`Builder::help_blocking_pool`, on by default):
//! real file reads through `goro::fs` and `goro::unblock`, counted in the
//! stats, with `block_on` still working inside a job wherever it runs.

use std::sync::Arc;

use goro::Runtime;
use goro_testkit::dir::TempDir;

/// Reads `file` `reads` times from each of `tasks` tasks at once, each read
/// a job of the global pool; returns the bytes read.
fn read_many(rt: &Runtime, file: &Arc<std::path::PathBuf>, tasks: usize, reads: usize) -> usize {
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let file = file.clone();
                goro::go(async move {
                    let mut n = 0;
                    for _ in 0..reads {
                        n += goro::fs::read(&*file).await.unwrap().len();
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    })
}

fn file(dir: &TempDir) -> Arc<std::path::PathBuf> {
    let path = dir.path().join("4k");
    std::fs::write(&path, [7u8; 4096]).unwrap();
    Arc::new(path)
}

#[test]
fn idle_workers_run_queued_file_reads() {
    let dir = TempDir::new("blocking_help");
    let file = file(&dir);
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    // A backlog forms whenever the tasks queue reads faster than the pool's
    // threads run them, and the workers, with nothing else to do, take
    // some. Rounds until they have: the backlog's timing is the OS's.
    for round in 1.. {
        assert_eq!(read_many(&rt, &file, 200, 20), 200 * 20 * 4096);
        if rt.handle().stats().blocking_jobs_helped > 0 {
            break;
        }
        assert!(round < 50, "no worker ran a job in {round} rounds");
    }
}

#[test]
fn with_help_off_every_job_stays_on_the_pool() {
    let dir = TempDir::new("blocking_help_off");
    let file = file(&dir);
    let rt = Runtime::builder()
        .maxprocs(2)
        .help_blocking_pool(false)
        .build()
        .unwrap();
    for _ in 0..5 {
        assert_eq!(read_many(&rt, &file, 200, 20), 200 * 20 * 4096);
    }
    assert_eq!(rt.handle().stats().blocking_jobs_helped, 0);
}

#[test]
fn block_on_works_inside_jobs_wherever_they_run() {
    let rt = Runtime::builder().maxprocs(2).build().unwrap();
    let sum: u64 = rt.block_on(async {
        let handles: Vec<_> = (0..2_000u64)
            .map(|i| {
                goro::unblock(move || {
                    // Sync code calling back into async code, as a pool
                    // thread may: on a worker that would panic.
                    goro::block_on(async move {
                        goro::yield_now().await;
                        i
                    })
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..2_000).sum::<u64>());
}
