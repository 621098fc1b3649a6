//! A thread-affine worker pool: each worker owns a `!Send` resource that
//! must stay on the thread that made it (think of a C library handle with
//! thread-local state), like Go goroutines that call
//! `runtime.LockOSThread`.
//!
//! ```text
//! cargo run --example pinned
//! ```
//!
//! Prints which locked thread served each job and checks that every
//! resource was only ever touched by its own thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::thread::{self, ThreadId};

use goro::LockedThread;
use goro::chan;

const WORKERS: usize = 3;
const JOBS: usize = 12;

/// Stands for a thread-bound library handle: `!Send` because of the `Rc`,
/// and it records the thread that created it.
struct Context {
    owner: ThreadId,
    calls: Rc<RefCell<usize>>,
}

impl Context {
    fn new() -> Context {
        Context {
            owner: thread::current().id(),
            calls: Rc::new(RefCell::new(0)),
        }
    }

    fn call(&self, job: usize) -> usize {
        assert_eq!(thread::current().id(), self.owner, "used off its thread");
        *self.calls.borrow_mut() += 1;
        job * 10
    }
}

#[goro::main]
async fn main() {
    let (jobs_tx, jobs) = chan::bounded::<usize>(4);
    let (done_tx, done) = chan::unbounded::<(String, usize, usize)>();

    // One locked thread per worker; each builds its Context on that thread.
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let thread = LockedThread::new().expect("start a locked thread");
        let (jobs, done_tx) = (jobs.clone(), done_tx.clone());
        workers.push(thread.spawn(move || async move {
            let ctx = Context::new(); // never leaves this thread
            let name = thread::current().name().unwrap_or("?").to_owned();
            while let Ok(job) = jobs.recv().await {
                let out = ctx.call(job);
                let _ = done_tx.send((name.clone(), job, out)).await;
            }
            let calls = *ctx.calls.borrow();
            (name, calls)
        }));
        // Dropping `thread` here is fine: it lives until its task ends.
    }
    drop(done_tx);

    // Ordinary goro tasks feed the pool.
    goro::go(async move {
        for j in 0..JOBS {
            jobs_tx.send(j).await.expect("pool alive");
        }
    });

    while let Ok((name, job, out)) = done.recv().await {
        println!("job {job:2} -> {out:3} on {name}");
    }
    let mut total = 0;
    for w in workers {
        let (name, calls) = w.await.expect("worker ok");
        println!("{name} served {calls} jobs");
        total += calls;
    }
    assert_eq!(total, JOBS);
    // No `LockedThread` handle is kept, so each worker's thread has ended
    // with its task, as Go destroys a locked thread when its goroutine exits.
    println!("{total} jobs on {WORKERS} locked threads; none ran on a goro worker");
}
