//! sqlx with `runtime-smol` inside goro, against a real PostgreSQL the test
//! starts itself (goro_testkit::services::postgres). docs/tokio-crates.md
//! says it is not recommended because it starts a second executor and
//! reactor: this test shows that its queries work from goro tasks, and
//! that async-io's reactor thread (`async-io`, from the first connection)
//! and smol's executor thread (`smol-1`, from the first pool) appear and
//! stay after everything is closed.
//!
//! One test in this binary, so that no other test starts threads while it
//! compares the process's threads before and after. Without PostgreSQL it
//! skips loudly; under `GORO_REQUIRE_SERVICES=1` or `GORO_TEST_STRICT=1`
//! that is a failure.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use goro_ecosystem_tests::new_threads;
use goro_testkit::services::postgres::Postgres;
use goro_testkit::threads::{hidden_runtime_threads, thread_names};
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgPoolOptions};

#[test]
fn sqlx_runtime_smol_works_from_goro_on_a_second_executor_and_reactor() {
    let Some(pg) = Postgres::start() else { return };
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    rt.block_on(async {
        assert_eq!(hidden_runtime_threads(), Vec::<String>::new());
        let before = thread_names();

        let mut conn = PgConnection::connect(&pg.url()).await.expect("connect");
        // One connection: async-io's reactor thread polls its socket, so
        // every wakeup of the goro task waiting on it comes from that thread.
        let wakes = WakeLog::default();
        for i in 0..10 {
            let (n, user): (i32, String) = wakes
                .record(
                    sqlx::query_as("SELECT $1::int4 + 1, current_user::text")
                        .bind(i)
                        .fetch_one(&mut conn),
                )
                .await
                .expect("query");
            assert_eq!((n, user.as_str()), (i + 1, "postgres"));
        }
        let wakes = wakes.0.lock().unwrap().clone();
        assert!(!wakes.is_empty(), "the queries never waited");
        assert!(
            wakes.iter().all(|t| t == "async-io"),
            "threads that woke the goro task: {wakes:?}"
        );
        assert_eq!(new_threads(&before), ["async-io"], "after one connection");
        assert_eq!(hidden_runtime_threads(), ["async-io"]);

        // A pool shared by 8 goro tasks.
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&pg.url())
            .await
            .expect("pool");
        let tasks: Vec<_> = (0..8i64)
            .map(|t| {
                let pool = pool.clone();
                goro::go(async move {
                    let mut sum = 0;
                    for i in 0..20i64 {
                        let (v,): (i64,) = sqlx::query_as("SELECT $1::int8 * $2::int8")
                            .bind(t)
                            .bind(i)
                            .fetch_one(&pool)
                            .await
                            .expect("pool query");
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        for (t, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), t as i64 * (0..20).sum::<i64>());
        }
        // The pool spawns its tasks with `smol::spawn`: smol's global
        // executor starts its thread (`smol-1`; one unless SMOL_THREADS says
        // otherwise).
        assert_eq!(new_threads(&before), ["async-io", "smol-1"], "with a pool");

        // Closing everything stops neither: both are global to the process.
        pool.close().await;
        conn.close().await.expect("close");
        assert_eq!(new_threads(&before), ["async-io", "smol-1"], "after close");
        assert_eq!(hidden_runtime_threads(), ["async-io", "smol-1"]);
    });
}

/// The names of the threads that woke the futures run by
/// [`WakeLog::record`], in order.
#[derive(Default, Clone)]
struct WakeLog(Arc<Mutex<Vec<String>>>);

impl WakeLog {
    /// `fut`, polled with a waker that logs the waking thread's name.
    async fn record<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx: &mut Context<'_>| {
            let waker = Waker::from(Arc::new(Logging {
                inner: cx.waker().clone(),
                log: self.clone(),
            }));
            fut.as_mut().poll(&mut Context::from_waker(&waker))
        })
        .await
    }
}

struct Logging {
    inner: Waker,
    log: WakeLog,
}

impl Wake for Logging {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let name = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned();
        self.log.0.lock().unwrap().push(name);
        self.inner.wake_by_ref();
    }
}
