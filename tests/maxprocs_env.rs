//! `GORO_MAXPROCS` reaches the runtime: a valid value sets the worker count,
//! a bad one is a clear error from `Builder::build` and a panic naming the
//! variable from the global runtime. Each case runs this test binary again
//! as a child process, so the test process's environment never changes.

const CHILD: &str = "GORO_MAXPROCS_ENV_CHILD";

#[test]
#[ignore = "helper: run in a child process by the tests below"]
fn child_reports() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    match std::env::var(CHILD).unwrap().as_str() {
        "build" => match goro::Runtime::builder().build() {
            Ok(rt) => println!("\nRESULT OK {}", rt.maxprocs()),
            Err(e) => println!("\nRESULT ERR {e}"),
        },
        "global" => {
            let n = goro::block_on(async { goro::Handle::current().maxprocs() });
            println!("\nRESULT OK {n}");
        }
        "automatic" => {
            let h = goro::Runtime::builder().build().unwrap();
            println!("\nRESULT OK {}", h.handle().maxprocs_is_automatic());
        }
        other => panic!("unknown mode {other}"),
    }
}

fn run_child(mode: &str, value: &str) -> (bool, String) {
    let out = goro_testkit::child::ignored_test("child_reports")
        .env(CHILD, mode)
        .env("GORO_MAXPROCS", value)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_valid_value_sets_the_worker_count() {
    let (ok, out) = run_child("build", "3");
    assert!(ok, "{out}");
    assert!(out.contains("RESULT OK 3"), "{out}");
    let (ok, out) = run_child("global", "5");
    assert!(ok, "{out}");
    assert!(out.contains("RESULT OK 5"), "{out}");
}

#[test]
fn a_bad_value_is_a_clear_build_error() {
    for value in ["0", "-2", "", "two", "99999999999"] {
        let (ok, out) = run_child("build", value);
        assert!(ok, "{out}");
        let line = out
            .lines()
            .find(|l| l.starts_with("RESULT"))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(line.starts_with("RESULT ERR"), "{value:?}: {line}");
        assert!(line.contains("GORO_MAXPROCS"), "names the variable: {line}");
        assert!(
            line.contains(&format!("\"{value}\"")),
            "names the value: {line}"
        );
    }
}

#[test]
fn a_bad_value_makes_the_global_runtime_panic_at_start() {
    let (ok, out) = run_child("global", "lots");
    assert!(!ok, "the child must fail: {out}");
    assert!(out.contains("cannot start the global runtime"), "{out}");
    assert!(
        out.contains("GORO_MAXPROCS") && out.contains("lots"),
        "{out}"
    );
}

#[test]
fn an_explicit_value_turns_automatic_updates_off() {
    let (ok, out) = run_child("automatic", "3");
    assert!(ok, "{out}");
    assert!(out.contains("RESULT OK false"), "{out}");
}

#[test]
fn without_the_variable_updates_are_automatic() {
    let out = goro_testkit::child::ignored_test("child_reports")
        .env(CHILD, "automatic")
        .env_remove("GORO_MAXPROCS")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("RESULT OK true"), "{text}");
}
