//! tokio-postgres on goro through `goro::compat`, against a real
//! PostgreSQL that each test starts itself (Debian's `postgresql`: `initdb`
//! and `pg_ctl`, as the `postgres` user when run as root) on a random port
//! in a temporary directory, and stops at the end.
//!
//! CRUD, prepared statements, transactions rolled back and committed, a
//! large result streamed row by row, 100 tasks × 100 queries over a pool
//! of 4 connections built on `goro::chan`, and the server stopped
//! mid-query: every waiting task gets an error, and a new connection works
//! once the server is back. Each test also checks that no tokio or
//! async-compat thread exists.
//!
//! Without PostgreSQL the tests skip loudly; under
//! `GORO_REQUIRE_SERVICES=1` (CI) or `GORO_TEST_STRICT=1` that is a
//! failure.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use futures_lite::StreamExt;
use goro::compat::postgres;
use goro_testkit::services::postgres::Postgres;
use tokio_postgres::{Client, NoTls};

fn rt() -> goro::Runtime {
    goro::Runtime::builder().maxprocs(2).build().unwrap()
}

/// The test server's config: TCP to 127.0.0.1, a generous connect timeout.
fn config(pg: &Postgres) -> tokio_postgres::Config {
    let mut c = tokio_postgres::Config::new();
    c.host(pg.host())
        .port(pg.port())
        .user(pg.user())
        .dbname(pg.dbname())
        .connect_timeout(Duration::from_secs(30));
    c
}

/// A client of the test server whose connection runs as a goro task.
async fn connect(pg: &Postgres) -> Client {
    let (client, conn) = postgres::connect(&config(pg), NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test server: {e}"));
    goro::go(async move {
        let _ = conn.await;
    });
    client
}

#[test]
fn crud_prepared_statements_and_transactions() {
    let Some(pg) = Postgres::start() else { return };
    rt().block_on(async {
        let mut client = connect(&pg).await;
        client
            .batch_execute(
                "CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL)",
            )
            .await
            .unwrap();

        // Create, with a prepared statement reused for every row.
        let insert = client
            .prepare("INSERT INTO items (name, qty) VALUES ($1, $2) RETURNING id")
            .await
            .unwrap();
        let mut ids = Vec::new();
        for (name, qty) in [("apple", 3), ("pear", 5), ("plum", 7)] {
            let row = client.query_one(&insert, &[&name, &qty]).await.unwrap();
            ids.push(row.get::<_, i32>(0));
        }
        assert_eq!(ids.len(), 3);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids {ids:?}");

        // Read.
        let by_name = client
            .prepare("SELECT qty FROM items WHERE name = $1")
            .await
            .unwrap();
        let row = client.query_one(&by_name, &[&"pear"]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), 5);

        // Update and delete, with the affected row counts.
        let n = client
            .execute(
                "UPDATE items SET qty = qty + $1 WHERE qty > $2",
                &[&10i32, &4i32],
            )
            .await
            .unwrap();
        assert_eq!(n, 2);
        let n = client
            .execute("DELETE FROM items WHERE name = $1", &[&"apple"])
            .await
            .unwrap();
        assert_eq!(n, 1);
        let rows = client
            .query("SELECT name, qty FROM items ORDER BY id", &[])
            .await
            .unwrap();
        let got: Vec<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(got, [("pear".to_owned(), 15), ("plum".to_owned(), 17)]);

        // A server-side error is an error, and the connection goes on.
        let err = client
            .query_one("SELECT * FROM no_such_table", &[])
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE),
            "{err}"
        );

        // A transaction rolled back leaves nothing behind...
        let tx = client.transaction().await.unwrap();
        tx.execute(&insert, &[&"cherry", &1i32]).await.unwrap();
        let inside = tx
            .query_one("SELECT count(*) FROM items", &[])
            .await
            .unwrap();
        assert_eq!(inside.get::<_, i64>(0), 3);
        tx.rollback().await.unwrap();
        let after = client
            .query_one("SELECT count(*) FROM items", &[])
            .await
            .unwrap();
        assert_eq!(after.get::<_, i64>(0), 2);

        // ...and one committed is seen by another connection.
        let tx = client.transaction().await.unwrap();
        tx.execute(&insert, &[&"cherry", &1i32]).await.unwrap();
        tx.commit().await.unwrap();
        let other = connect(&pg).await;
        let row = other
            .query_one("SELECT qty FROM items WHERE name = 'cherry'", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, i32>(0), 1);

        goro_testkit::threads::assert_no_hidden_runtime();
    });
}

#[test]
fn large_result_set_streamed_row_by_row() {
    let Some(pg) = Postgres::start() else { return };
    rt().block_on(async {
        let client = connect(&pg).await;
        const N: i64 = 200_000;
        let rows = client
            .query_raw(
                "SELECT g, repeat('x', 100) FROM generate_series(1::int8, $1) g",
                [N],
            )
            .await
            .unwrap();
        let mut rows = std::pin::pin!(rows);
        let mut expect = 1i64;
        while let Some(row) = rows.next().await {
            let row = row.unwrap();
            assert_eq!(row.get::<_, i64>(0), expect);
            assert_eq!(row.get::<_, &str>(1).len(), 100);
            expect += 1;
        }
        assert_eq!(expect - 1, N, "rows received");
        assert_eq!(rows.rows_affected(), Some(N as u64));
        goro_testkit::threads::assert_no_hidden_runtime();
    });
}

#[test]
fn hundred_tasks_share_a_pool_of_four_connections() {
    let Some(pg) = Postgres::start() else { return };
    const TASKS: i32 = 100;
    const QUERIES: i32 = 100;
    const CONNS: usize = 4;
    rt().block_on(async {
        // The pool: a channel holding the idle connections. Take one,
        // query, put it back.
        let (put, take) = goro::chan::bounded::<Client>(CONNS);
        for _ in 0..CONNS {
            put.send(connect(&pg).await).await.unwrap();
        }
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let (put, take) = (put.clone(), take.clone());
            tasks.push(goro::go(async move {
                let mut sum = 0i64;
                for q in 0..QUERIES {
                    let client = take.recv().await.unwrap();
                    let row = client
                        .query_one(
                            "SELECT $1::int4 * 1000 + $2::int4, $3::text",
                            &[&t, &q, &format!("t{t}q{q}")],
                        )
                        .await;
                    put.send(client).await.unwrap();
                    let row = row.unwrap();
                    assert_eq!(row.get::<_, i32>(0), t * 1000 + q);
                    assert_eq!(row.get::<_, String>(1), format!("t{t}q{q}"));
                    sum += i64::from(row.get::<_, i32>(0));
                }
                sum
            }));
        }
        let mut total = 0i64;
        for (t, h) in tasks.into_iter().enumerate() {
            let sum = h.await.unwrap();
            let t = t as i64;
            let want: i64 = (0..i64::from(QUERIES)).map(|q| t * 1000 + q).sum();
            assert_eq!(sum, want, "task {t}");
            total += sum;
        }
        assert!(total > 0);
        // Every connection came back, still working, and the server counted
        // 4 client backends.
        let mut clients = Vec::new();
        for _ in 0..CONNS {
            clients.push(take.try_recv().expect("a connection missing from the pool"));
        }
        let row = clients[0]
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), CONNS as i64);
        goro_testkit::threads::assert_no_hidden_runtime();
    });
}

#[test]
fn server_stopped_mid_query_fails_every_waiter_then_reconnects() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    rt().block_on(async {
        let clients = [connect(&pg).await, connect(&pg).await];
        let clients: Vec<_> = clients.into_iter().map(std::sync::Arc::new).collect();
        // 8 tasks wait on queries that would take a minute: 4 pipelined on
        // each connection, one running on the server, three queued.
        let (started, ready) = goro::chan::bounded::<()>(8);
        let mut waiters = Vec::new();
        for i in 0..8 {
            let client = clients[i % 2].clone();
            let started = started.clone();
            waiters.push(goro::go(async move {
                let q = client.query_one("SELECT pg_sleep(60), 1", &[]);
                let _ = started.send(()).await;
                // Generous: separates "got an error" from "hung".
                goro::time::timeout(Duration::from_secs(60), q).await
            }));
        }
        for _ in 0..8 {
            ready.recv().await.unwrap();
        }
        // Both backends are sleeping before we stop the server.
        let probe = connect(&pg).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let row = probe
                .query_one("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'", &[])
                .await
                .unwrap();
            if row.get::<_, i64>(0) == 2 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the sleeps never started");
            goro::time::sleep(Duration::from_millis(20)).await;
        }

        // pg_ctl blocks this (block_on) thread only; the connections'
        // tasks run on the workers.
        pg.stop("fast");

        let mut shutdown_errors = 0;
        for (i, w) in waiters.into_iter().enumerate() {
            let result = w.await.unwrap();
            let err = match result {
                Err(_) => panic!("waiter {i} hung for 60 s after the server stopped"),
                Ok(Ok(_)) => panic!("waiter {i}'s query succeeded on a stopped server"),
                Ok(Err(e)) => e,
            };
            // The running query gets the server's "terminating connection
            // due to administrator command" (57P01); the queued ones "connection
            // closed".
            let admin = err.code() == Some(&tokio_postgres::error::SqlState::ADMIN_SHUTDOWN);
            assert!(admin || err.is_closed(), "waiter {i}: unexpected error: {err:?}");
            if admin {
                shutdown_errors += 1;
            }
        }
        assert!(shutdown_errors >= 1, "no waiter saw the server's shutdown error");
        for c in &clients {
            assert!(c.is_closed(), "a connection still open on a stopped server");
        }
        let err = match postgres::connect(&config(&pg), NoTls).await {
            Ok(_) => panic!("connected to a stopped server"),
            Err(e) => e,
        };
        assert!(err.to_string().contains("127.0.0.1"), "{err}");

        // Back up on the same port: a new connection works.
        pg.restart().expect("restarting the server");
        let fresh = connect(&pg).await;
        let row = fresh.query_one("SELECT 41 + 1", &[]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), 42);
        goro_testkit::threads::assert_no_hidden_runtime();
    });
}

/// `target/<profile>/examples/postgres`, or a loud skip if `cargo test`
/// did not build it (as with `cargo test --test compat_postgres`).
fn example_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .join("examples/postgres");
    if !bin.is_file() {
        goro_testkit::skip(&format!(
            "{} is not built (run `cargo test`, which builds the examples, or `cargo build --example postgres`)",
            bin.display()
        ));
        return None;
    }
    Some(bin)
}

#[test]
fn example_postgres_queries_from_eight_tasks() {
    let Some(pg) = Postgres::start() else { return };
    let Some(bin) = example_binary() else { return };
    let out = Command::new(&bin)
        .env("DATABASE_URL", pg.url())
        .output()
        .expect("running examples/postgres");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "examples/postgres failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("connected 4 times to: PostgreSQL"),
        "{stdout}"
    );
    for t in 0..8 {
        assert!(
            stdout.contains(&format!("task {t}: sum of squares")),
            "{stdout}"
        );
    }
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
}

#[test]
fn example_postgres_says_how_to_start_a_server() {
    let Some(bin) = example_binary() else { return };
    let port = goro_testkit::dir::free_port();
    let out = Command::new(&bin)
        .env(
            "DATABASE_URL",
            format!("postgresql://postgres@127.0.0.1:{port}/postgres"),
        )
        .output()
        .expect("running examples/postgres");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("Start one"), "{stderr}");
    assert!(stderr.contains("apt-get install postgresql"), "{stderr}");
}
