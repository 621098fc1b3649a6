//! A goroutine leak, and how to see it: worker tasks blocked on a channel
//! that is never closed never end, and `Handle::num_tasks` (Go's
//! `runtime.NumGoroutine`) stays up.
//!
//! ```text
//! cargo run --example leak
//! ```
//!
//! In Go the same leak is a goroutine ranging over a channel nobody closes.
//! In goro, dropping every sender closes a channel, so the leak needs a
//! sender kept alive somewhere, here in a long-lived struct, which is how
//! it happens in real programs.

use std::time::{Duration, Instant};

use goro::chan;

/// Starts `n` workers that square numbers until `jobs` is closed.
fn start_workers(n: usize, results: chan::Sender<u64>) -> chan::Sender<u64> {
    let (jobs_tx, jobs) = chan::unbounded::<u64>();
    for _ in 0..n {
        let (jobs, results) = (jobs.clone(), results.clone());
        goro::go(async move {
            while let Ok(j) = jobs.recv().await {
                let _ = results.send(j * j).await;
            }
        });
    }
    jobs_tx
}

/// A long-lived owner that keeps the job queue "in case it is needed".
struct Service {
    jobs: chan::Sender<u64>,
}

/// The live task count once it stops changing toward `want` (or after 2 s).
async fn live_tasks(want: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let n = goro::Handle::current().num_tasks();
        if n == want || Instant::now() > deadline {
            return n;
        }
        goro::yield_now().await;
    }
}

#[goro::main]
async fn main() {
    // `main`'s own future runs on this thread, not as a task: 0.
    println!("live tasks at start:            {}", live_tasks(0).await);

    let (results_tx, results) = chan::unbounded();
    let service = Service {
        jobs: start_workers(4, results_tx),
    };
    for j in 1..=100 {
        service.jobs.send(j).await.expect("workers alive");
    }
    let mut sum = 0;
    for _ in 0..100 {
        sum += results.recv().await.expect("a result per job");
    }
    println!("all 100 jobs done, sum {sum}");

    // The work is over, but nothing closed `jobs`: the workers wait forever.
    let leaked = live_tasks(0).await;
    println!("live tasks after the work:      {leaked}   <- leaked: blocked on recv");
    assert_eq!(leaked, 4);

    // The fix: close the channel when no more work will come (Go's
    // `close(jobs)`); dropping the last sender does the same.
    service.jobs.close();
    let after = live_tasks(0).await;
    println!("live tasks after close(jobs):   {after}");
    assert_eq!(after, 0);
}
