//! `#[goro::main]`: a bad `GORO_MAXPROCS` is a message and exit status 1,
//! not a panic; `main` may return `io::Result<()>`. Each case runs this
//! test binary again as a child process, which calls a `#[goro::main]`
//! function, so the test process's environment never changes.

const CHILD: &str = "GORO_MAIN_MACRO_CHILD";

mod plain {
    #[goro::main]
    pub async fn main() {
        println!("RESULT ran on {} workers", goro::maxprocs());
    }
}

mod fixed {
    #[goro::main(maxprocs = 2)]
    pub async fn main() {
        println!("RESULT ran on {} workers", goro::maxprocs());
    }
}

mod fallible {
    use goro::io::AsyncReadExt;

    #[goro::main]
    pub async fn main() -> goro::io::Result<()> {
        let mut f = goro::fs::File::open("/nonexistent/goro-main-test").await?;
        let mut s = String::new();
        f.read_to_string(&mut s).await?;
        Ok(())
    }
}

#[test]
#[ignore = "helper: run in a child process by the tests below"]
fn child() {
    goro_testkit::child::run_role(CHILD, |mode| match mode {
        "plain" => plain::main(),
        "fixed" => fixed::main(),
        "fallible" => match fallible::main() {
            Ok(()) => println!("RESULT ok"),
            Err(e) => println!("RESULT err {e}"),
        },
        other => panic!("unknown mode {other}"),
    })
}

/// Runs `mode` with `GORO_MAXPROCS=maxprocs`: (exit code, stdout, stderr).
fn run_child(mode: &str, maxprocs: &str) -> (Option<i32>, String, String) {
    let out = goro_testkit::child::output(
        goro_testkit::child::ignored_test("child")
            .env(CHILD, mode)
            .env("GORO_MAXPROCS", maxprocs)
            .env("RUST_BACKTRACE", "1"),
    );
    (out.status.code(), out.stdout, out.stderr)
}

#[test]
fn a_bad_goro_maxprocs_exits_1_with_a_message_and_no_panic() {
    let (code, out, err) = run_child("plain", "lots");
    assert_eq!(code, Some(1), "stdout: {out}\nstderr: {err}");
    assert!(
        err.contains("GORO_MAXPROCS") && err.contains("lots"),
        "names the variable and its value: {err}"
    );
    assert!(!err.contains("panicked"), "a panic: {err}");
    assert!(!err.contains("backtrace"), "a backtrace: {err}");
    assert!(!out.contains("RESULT"), "main ran: {out}");
}

#[test]
fn a_good_goro_maxprocs_runs_main() {
    let (code, out, err) = run_child("plain", "3");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("RESULT ran on 3 workers"), "{out}");
    let (code, out, err) = run_child("fixed", "3");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("RESULT ran on 2 workers"),
        "maxprocs = 2 wins: {out}"
    );
}

#[test]
fn main_can_return_io_result_and_use_the_question_mark() {
    let (code, out, err) = run_child("fallible", "2");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("RESULT err open /nonexistent/goro-main-test"),
        "the error of the first `?` comes back: {out}"
    );
}
