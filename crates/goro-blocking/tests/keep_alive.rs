//! After a burst, idle threads exit once the keep-alive has passed, and the
//! process's thread count returns to where it was.

use std::thread;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use goro_blocking::Pool;
use goro_testkit::threads::process_threads;

#[test]
fn threads_exit_after_the_keep_alive() {
    // Long enough that a loaded machine does not stretch the check below
    // past it; the wait for the exit allows ten times as much.
    let keep_alive = Duration::from_secs(1);
    let pool = Pool::builder()
        .max_threads(16)
        .keep_alive(keep_alive)
        .build();
    let baseline = process_threads();

    let handles: Vec<_> = (0..64)
        .map(|_| pool.spawn(|| thread::sleep(Duration::from_millis(10))))
        .collect();
    block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
    let grown = pool.num_threads();
    assert!(
        grown >= 4,
        "the burst should have grown the pool, got {grown}"
    );
    assert!(process_threads() > baseline);

    // Still there within the keep-alive...
    thread::sleep(keep_alive / 10);
    assert!(pool.num_threads() > 0);

    // ...gone after it (workers and monitor alike).
    let deadline = Instant::now() + keep_alive * 10;
    while (pool.num_threads() > 0 || process_threads() > baseline) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(pool.num_threads(), 0);
    assert_eq!(pool.num_idle(), 0);
    assert_eq!(process_threads(), baseline);

    // And the pool starts again on demand.
    assert_eq!(block_on(pool.spawn(|| 7)).unwrap(), 7);
    assert!(pool.num_threads() >= 1);
}
