//! `goro::signal` with real signals sent to this process with kill(2).
//!
//! A signal goes to the whole process, so every test holds `SERIAL`: a
//! signal one test sends must not reach another test's listener. Each test
//! sets its listener up before it sends anything, so SIGINT and SIGTERM
//! never meet their default action (ending the test binary).
#![cfg(unix)]

use std::sync::Mutex;
use std::time::Duration;

use futures_lite::StreamExt;
use goro::signal::{self, SignalKind};
use goro::time::timeout;

static SERIAL: Mutex<()> = Mutex::new(());

/// Long enough that a delivery is never late by it, even under valgrind.
const PATIENCE: Duration = Duration::from_secs(20);
/// How long "nothing arrives" is watched for.
const QUIET: Duration = Duration::from_millis(100);

fn serial() -> std::sync::MutexGuard<'static, ()> {
    goro_testkit::lock(&SERIAL)
}

/// Sends `kind` to this process (not to one thread), as `kill` does.
fn kill_self(kind: SignalKind) {
    // SAFETY: kill(2) with our own pid; every caller listens for `kind`.
    let r = unsafe { libc::kill(libc::getpid(), kind.as_raw()) };
    assert_eq!(r, 0, "kill: {}", std::io::Error::last_os_error());
}

/// Sends `kind` from a plain thread after `delay`.
fn kill_self_later(kind: SignalKind, delay: Duration) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        kill_self(kind);
    })
}

fn count_dir(path: &str) -> usize {
    std::fs::read_dir(path).unwrap().count()
}

#[test]
fn ctrl_c_waits_for_sigint_and_resolves_on_it() {
    let _g = serial();
    goro::block_on(async {
        let mut ctrl_c = std::pin::pin!(signal::ctrl_c());
        assert!(
            timeout(QUIET, ctrl_c.as_mut()).await.is_err(),
            "ctrl_c resolved with no SIGINT sent"
        );
        let sender = kill_self_later(SignalKind::interrupt(), Duration::from_millis(20));
        timeout(PATIENCE, ctrl_c)
            .await
            .expect("no wake-up on SIGINT")
            .unwrap();
        sender.join().unwrap();
    });
}

#[test]
fn ctrl_c_listens_from_the_call_not_the_first_poll() {
    let _g = serial();
    let ctrl_c = signal::ctrl_c();
    kill_self(SignalKind::interrupt()); // before anyone polls: kept
    goro::block_on(async {
        timeout(PATIENCE, ctrl_c)
            .await
            .expect("SIGINT lost")
            .unwrap();
    });
}

#[test]
fn shutdown_says_which_signal_came() {
    let _g = serial();
    for kind in [SignalKind::terminate(), SignalKind::interrupt()] {
        let stop = signal::shutdown();
        let sender = kill_self_later(kind, Duration::from_millis(20));
        let got = goro::block_on(timeout(PATIENCE, stop))
            .expect("no wake-up")
            .unwrap();
        assert_eq!(got, kind);
        sender.join().unwrap();
    }
}

#[test]
fn a_listener_sees_every_delivery_one_recv_each() {
    let _g = serial();
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    rt.block_on(async {
        let mut usr2 = signal::signal(SignalKind::user_defined2()).unwrap();
        assert_eq!(usr2.kind(), SignalKind::user_defined2());
        assert!(
            timeout(QUIET, usr2.recv()).await.is_err(),
            "recv returned with no signal sent"
        );
        // In a task on a worker, woken by a signal sent from a plain thread;
        // each receipt is acknowledged before the next signal goes out, so
        // two signals never merge into one delivery.
        let (ack_tx, ack_rx) = goro::chan::bounded::<()>(1);
        let waiter = goro::go(async move {
            for _ in 0..20 {
                usr2.next().await.expect("the stream ended");
                ack_tx.send(()).await.unwrap();
            }
        });
        for i in 0..20 {
            kill_self_later(SignalKind::user_defined2(), Duration::ZERO)
                .join()
                .unwrap();
            timeout(PATIENCE, ack_rx.recv())
                .await
                .unwrap_or_else(|_| panic!("delivery {i} was lost"))
                .unwrap();
        }
        waiter.await.unwrap();
    });
}

#[test]
fn a_burst_before_recv_is_one_delivery() {
    let _g = serial();
    goro::block_on(async {
        let mut usr2 = signal::signal(SignalKind::user_defined2()).unwrap();
        for _ in 0..5 {
            kill_self(SignalKind::user_defined2());
        }
        // kill(2) to our own process delivers before it returns when the
        // calling thread has the signal unblocked; wait out the rest.
        std::thread::sleep(Duration::from_millis(50));
        timeout(PATIENCE, usr2.recv()).await.expect("burst lost");
        assert!(
            timeout(QUIET, usr2.recv()).await.is_err(),
            "a burst of 5 gave more than one recv"
        );
    });
}

#[test]
fn every_listener_of_a_signal_is_woken() {
    let _g = serial();
    goro::block_on(async {
        let listeners: Vec<_> = (0..4)
            .map(|_| signal::signal(SignalKind::hangup()).unwrap())
            .collect();
        let tasks: Vec<_> = listeners
            .into_iter()
            .map(|mut s| goro::go(async move { timeout(PATIENCE, s.recv()).await.is_ok() }))
            .collect();
        kill_self_later(SignalKind::hangup(), Duration::from_millis(20))
            .join()
            .unwrap();
        for t in tasks {
            assert!(t.await.unwrap(), "a listener was not woken");
        }
    });
}

#[test]
fn dropping_a_listener_closes_its_descriptors() {
    let _g = serial();
    let before = count_dir("/proc/self/fd");
    let listeners: Vec<_> = (0..50)
        .map(|_| signal::signal(SignalKind::user_defined1()).unwrap())
        .collect();
    let during = count_dir("/proc/self/fd");
    assert!(
        during >= before + 100,
        "50 listeners hold a socket pair each: {before} -> {during} descriptors"
    );
    drop(listeners);
    let after = count_dir("/proc/self/fd");
    assert!(
        after <= before + 2,
        "descriptors leaked: {before} before, {after} after dropping 50 listeners"
    );
}

/// Run alone in a child process by `listening_starts_no_thread`: the test
/// harness's own threads come and go, so threads are counted where no other
/// test runs.
#[test]
#[ignore = "helper: run in a child process by listening_starts_no_thread"]
fn no_thread_child() {
    if std::env::var_os("GORO_SIGNAL_CHILD").is_none() {
        return;
    }
    let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    rt.block_on(async {
        goro::yield_now().await;
        let before = count_dir("/proc/self/task");
        let kinds = [
            SignalKind::hangup(),
            SignalKind::user_defined1(),
            SignalKind::user_defined2(),
            SignalKind::window_change(),
            SignalKind::alarm(),
            SignalKind::child(),
            SignalKind::interrupt(),
            SignalKind::terminate(),
        ];
        let mut listeners: Vec<_> = kinds.iter().map(|&k| signal::signal(k).unwrap()).collect();
        for (i, &kind) in kinds.iter().enumerate() {
            kill_self(kind);
            timeout(PATIENCE, listeners[i].recv())
                .await
                .unwrap_or_else(|_| panic!("{kind} lost"));
        }
        let after = count_dir("/proc/self/task");
        println!("threads: {before} before, {after} after");
        assert!(
            after <= before,
            "threads went from {before} to {after} with {} listeners",
            listeners.len()
        );
    });
}

#[test]
fn listening_starts_no_thread() {
    let _g = serial();
    let out = goro_testkit::child::ignored_test("no_thread_child")
        .env("GORO_SIGNAL_CHILD", "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("threads: "),
        "the child did not run: {stdout}"
    );
}

#[test]
fn uncatchable_and_unknown_signals_are_refused_by_name() {
    let _g = serial();
    let err = signal::signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("SIGKILL"), "{err}");
    let err = signal::signal(SignalKind::from_raw(1000)).unwrap_err();
    assert!(err.to_string().contains("signal 1000"), "{err}");
}
