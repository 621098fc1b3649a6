//! The redis crate on goro through `goro::compat`, against a real
//! `redis-server` that each test starts itself (`--port N --save ''`, in a
//! temporary directory) and kills at the end.
//!
//! `SET`/`GET`, a pipeline of 1,000 commands, commands from many tasks
//! multiplexed on one connection, pub/sub (RESP3 pushes) with a subscriber
//! task, and a restarted server: a command on the old connection fails,
//! and a new connection works. Each test also checks that no tokio or
//! async-compat thread exists.
//!
//! Without `redis-server` the tests skip loudly; under
//! `GORO_REQUIRE_SERVICES=1` (CI) or `GORO_TEST_STRICT=1` that is a
//! failure.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ::redis::aio::MultiplexedConnection;
use ::redis::{
    AsyncCommands, AsyncConnectionConfig, IntoConnectionInfo, PushInfo, PushKind, Value,
};
use goro::compat::redis;

fn rt() -> goro::Runtime {
    goro::Runtime::builder().maxprocs(2).build().unwrap()
}

/// A `redis-server` of our own on a random port; killed when dropped.
struct Redis {
    child: Option<Child>,
    port: u16,
    dir: goro_testkit::dir::TempDir,
}

impl Redis {
    /// Starts a server, or says (loudly) why it cannot and returns `None`.
    #[track_caller]
    fn start() -> Option<Redis> {
        if goro_testkit::tools::tool("redis-server").is_none() {
            goro_testkit::skip_service(
                "`redis-server` is not installed (apt-get install redis-server)",
            );
            return None;
        }
        let mut r = Redis {
            child: None,
            port: goro_testkit::dir::free_port(),
            dir: goro_testkit::dir::TempDir::new("redis"),
        };
        if let Err(e) = r.launch() {
            goro_testkit::skip_service(&format!("redis-server did not start: {e}"));
            return None;
        }
        Some(r)
    }

    /// Runs `redis-server` on our port and waits until it answers `PING`.
    fn launch(&mut self) -> Result<(), String> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run redis-server: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut line = String::new();
                if s.write_all(b"PING\r\n").is_ok()
                    && BufReader::new(&s).read_line(&mut line).is_ok()
                    && line.starts_with("+PONG")
                {
                    return Ok(());
                }
            }
            if let Some(st) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!("redis-server exited with {st}"));
            }
            if Instant::now() > deadline {
                return Err("no PONG within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server and waits for it to exit.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self, query: &str) -> String {
        format!("redis://127.0.0.1:{}/{query}", self.port)
    }

    async fn connect_with(
        &self,
        query: &str,
        config: AsyncConnectionConfig,
    ) -> MultiplexedConnection {
        let info = self.url(query).into_connection_info().unwrap();
        let (con, driver) = redis::connect(&info, config)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test server: {e}"));
        goro::go(driver);
        con
    }

    async fn connect(&self) -> MultiplexedConnection {
        self.connect_with("", AsyncConnectionConfig::new()).await
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn set_get_and_a_pipeline_of_1000_commands() {
    let Some(server) = Redis::start() else { return };
    rt().block_on(async {
        let mut con = server.connect().await;
        let () = con.set("greeting", "hello from goro").await.unwrap();
        let got: String = con.get("greeting").await.unwrap();
        assert_eq!(got, "hello from goro");
        let missing: Option<String> = con.get("nothing here").await.unwrap();
        assert_eq!(missing, None);

        // One pipeline, 1,000 commands: 500 SETs and 500 INCRs, one round
        // trip.
        let mut pipe = ::redis::pipe();
        for i in 0..500 {
            pipe.set(format!("k{i}"), i).ignore();
            pipe.incr("counter", i);
        }
        let counters: Vec<i64> = pipe.query_async(&mut con).await.unwrap();
        assert_eq!(counters.len(), 500);
        let mut want = 0;
        for (i, c) in counters.iter().enumerate() {
            want += i as i64;
            assert_eq!(*c, want, "INCR #{i}");
        }
        let keys: Vec<String> = (0..500).map(|i| format!("k{i}")).collect();
        let values: Vec<i64> = con.mget(&keys).await.unwrap();
        assert_eq!(values, (0..500).collect::<Vec<i64>>());

        // 50 tasks share the one multiplexed connection (clones), 20
        // commands each.
        let tasks: Vec<_> = (0..50)
            .map(|t| {
                let mut con = con.clone();
                goro::go(async move {
                    for q in 0..20 {
                        let key = format!("t{t}");
                        let n: i64 = con.incr(&key, 1).await.unwrap();
                        assert_eq!(n, q + 1);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let keys: Vec<String> = (0..50).map(|t| format!("t{t}")).collect();
        let counts: Vec<i64> = con.mget(&keys).await.unwrap();
        assert_eq!(counts, vec![20; 50]);
        goro_testkit::threads::assert_no_hidden_runtime();
    });
}

#[test]
fn pubsub_with_a_subscriber_task() {
    let Some(server) = Redis::start() else { return };
    const N: usize = 200;
    rt().block_on(async {
        // The subscriber: a RESP3 connection whose pushes go into a goro
        // channel, read by its own task.
        let (push_tx, push_rx) = goro::chan::unbounded::<PushInfo>();
        let config = AsyncConnectionConfig::new()
            .set_push_sender(move |info: PushInfo| push_tx.try_send(info).map_err(|_| ()));
        let mut sub = server.connect_with("?protocol=resp3", config).await;
        sub.subscribe("news").await.unwrap();
        let subscriber = goro::go(async move {
            let mut got = Vec::new();
            while got.len() < N {
                let push = push_rx.recv().await.expect("the push channel closed early");
                if push.kind == PushKind::Message {
                    assert_eq!(push.data.len(), 2, "{push:?}");
                    assert_eq!(push.data[0], Value::BulkString(b"news".to_vec()));
                    let Value::BulkString(payload) = &push.data[1] else {
                        panic!("payload {push:?}")
                    };
                    got.push(String::from_utf8(payload.clone()).unwrap());
                }
            }
            got
        });

        let mut publisher = server.connect().await;
        for i in 0..N {
            let receivers: i64 = publisher
                .publish("news", format!("item {i}"))
                .await
                .unwrap();
            assert_eq!(receivers, 1, "PUBLISH #{i} reached {receivers} subscribers");
        }
        let got = goro::time::timeout(Duration::from_secs(60), subscriber)
            .await
            .expect("the subscriber did not get every message within 60 s")
            .unwrap();
        let want: Vec<String> = (0..N).map(|i| format!("item {i}")).collect();
        assert_eq!(got, want);
        goro_testkit::threads::assert_no_hidden_runtime();
        drop(sub);
    });
}

#[test]
fn restarted_server_gives_an_error_then_a_reconnect() {
    let Some(mut server) = Redis::start() else {
        return;
    };
    rt().block_on(async {
        let mut con = server.connect().await;
        let () = con.set("before", 1).await.unwrap();

        server.kill();
        // The old connection fails, promptly (no response timeout is set:
        // the driver sees the socket close).
        let err = goro::time::timeout(Duration::from_secs(60), con.get::<_, Option<i64>>("before"))
            .await
            .expect("a command on a dead server hung for 60 s")
            .unwrap_err();
        assert!(
            err.is_io_error() || err.is_connection_dropped() || err.is_unrecoverable_error(),
            "unexpected error kind: {err:?}"
        );
        // Connecting while it is down says where.
        let info = server.url("").into_connection_info().unwrap();
        let down = match redis::connect(&info, AsyncConnectionConfig::new()).await {
            Ok(_) => panic!("connected to a dead server"),
            Err(e) => e,
        };
        assert!(
            down.to_string()
                .contains(&format!("127.0.0.1:{}", server.port)),
            "{down}"
        );

        // Restarted on the same port (empty: `--save ''`): reconnect.
        server.launch().expect("restarting redis-server");
        let mut con = server.connect().await;
        let before: Option<i64> = con.get("before").await.unwrap();
        assert_eq!(before, None);
        let () = con.set("after", 2).await.unwrap();
        assert_eq!(con.get::<_, i64>("after").await.unwrap(), 2);
        goro_testkit::threads::assert_no_hidden_runtime();
    });
}
