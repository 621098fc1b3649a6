//! `postgres`: tokio-postgres on goro, with no tokio runtime. Connects to
//! the server in `DATABASE_URL` through `goro::compat::postgres::connect`,
//! runs each connection's I/O as a goro task, and runs queries from 8 goro
//! tasks sharing a pool of 4 connections.
//!
//! ```text
//! DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres cargo run --example postgres
//! ```
//!
//! `DATABASE_URL` takes a URL or a key=value string, as tokio-postgres
//! parses them; it defaults to `postgresql://postgres@127.0.0.1:5432/postgres`.
//! With no server there, it says how to start one and exits with status 2.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use goro::compat::postgres;
use tokio_postgres::{Client, Config, NoTls};

const DEFAULT_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";

const HOW_TO_START: &str = "\
No PostgreSQL server is reachable. Start one, then set DATABASE_URL:

  # with Docker
  docker run --rm -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17
  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres cargo run --example postgres

  # on Debian or Ubuntu (the packaged server listens on 127.0.0.1:5432)
  sudo apt-get install postgresql
  sudo service postgresql start
  sudo -u postgres psql -c \"ALTER USER postgres PASSWORD 'secret'\"
  DATABASE_URL=postgresql://postgres:secret@127.0.0.1:5432/postgres cargo run --example postgres
";

fn main() -> ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let mut config: Config = match url.parse() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("DATABASE_URL={url:?} is not a PostgreSQL connection string: {e}");
            return ExitCode::from(2);
        }
    };
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    goro::block_on(async move {
        match run(&config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure::Connect(e)) => {
                eprintln!("cannot connect (DATABASE_URL={url}): {e}\n\n{HOW_TO_START}");
                ExitCode::from(2)
            }
            Err(Failure::Query(e)) => {
                eprintln!("query failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

enum Failure {
    Connect(postgres::ConnectError),
    Query(tokio_postgres::Error),
}

/// Connects, with the connection's I/O running as its own goro task.
async fn connect(config: &Config) -> Result<Client, postgres::ConnectError> {
    let (client, connection) = postgres::connect(config, NoTls).await?;
    goro::go(async move {
        if let Err(e) = connection.await {
            eprintln!("postgres connection ended: {e}");
        }
    });
    Ok(client)
}

async fn run(config: &Config) -> Result<(), Failure> {
    const CONNS: usize = 4;
    const TASKS: i32 = 8;
    let mut pool = Vec::new();
    for _ in 0..CONNS {
        pool.push(Arc::new(connect(config).await.map_err(Failure::Connect)?));
    }
    let version: String = pool[0]
        .query_one("SELECT version()", &[])
        .await
        .map_err(Failure::Query)?
        .get(0);
    println!("connected {CONNS} times to: {version}");

    // Each task uses one pooled connection; tokio-postgres pipelines the
    // queries of the tasks that share it.
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let client = pool[t as usize % CONNS].clone();
            goro::go(async move {
                let squares = client
                    .prepare("SELECT g * g FROM generate_series(1, $1::int4) g")
                    .await?;
                let rows = client.query(&squares, &[&(t + 1)]).await?;
                let sum: i32 = rows.iter().map(|r| r.get::<_, i32>(0)).sum();
                let pid: i32 = client
                    .query_one("SELECT pg_backend_pid()", &[])
                    .await?
                    .get(0);
                Ok::<_, tokio_postgres::Error>((t, sum, pid))
            })
        })
        .collect();
    for task in tasks {
        let (t, sum, pid) = task
            .await
            .expect("a query task panicked")
            .map_err(Failure::Query)?;
        let n = t + 1;
        assert_eq!(sum, n * (n + 1) * (2 * n + 1) / 6);
        println!("task {t}: sum of squares 1..={n} is {sum} (server backend {pid})");
    }
    println!("ok");
    Ok(())
}
