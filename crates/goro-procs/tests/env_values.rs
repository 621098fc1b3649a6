//! GORO_MAXPROCS values, through the pure functions (no process environment).

use std::path::Path;

use goro_procs::{
    InvalidValue, MaxProcsWatcher, Source, detect_with, detect_with_cpus, parse_env_value,
};
use goro_testkit::fixture::Fixture;

#[test]
fn every_bad_value_names_the_variable_and_the_value() {
    let cases = [
        ("", InvalidValue::Empty),
        ("0", InvalidValue::Zero),
        ("000", InvalidValue::Zero),
        ("-1", InvalidValue::NotANumber),
        ("-0", InvalidValue::NotANumber),
        ("+4", InvalidValue::NotANumber),
        (" ", InvalidValue::NotANumber),
        (" 4", InvalidValue::NotANumber),
        ("4\n", InvalidValue::NotANumber),
        ("abc", InvalidValue::NotANumber),
        ("4abc", InvalidValue::NotANumber),
        ("1.5", InvalidValue::NotANumber),
        ("1e3", InvalidValue::NotANumber),
        ("0x10", InvalidValue::NotANumber),
        ("٣", InvalidValue::NotANumber), // a non-ASCII digit
        ("65537", InvalidValue::TooLarge),
        ("1000000", InvalidValue::TooLarge),
        ("18446744073709551616", InvalidValue::TooLarge), // usize::MAX + 1
    ];
    for (value, kind) in cases {
        let err = parse_env_value(value).unwrap_err();
        assert_eq!(err.kind(), kind, "{value:?}");
        assert_eq!(err.variable(), "GORO_MAXPROCS");
        assert_eq!(err.value(), value);
        assert_eq!(
            err.to_string(),
            format!(
                "GORO_MAXPROCS={value:?} is not valid: expected a whole number from 1 to 65536"
            )
        );
        // The same error comes out of detection, before any file is read.
        assert_eq!(
            detect_with(Path::new("/nonexistent"), Some(value)).unwrap_err(),
            err
        );
        assert_eq!(
            MaxProcsWatcher::with_root(Path::new("/nonexistent"), Some(value)).unwrap_err(),
            err
        );
    }
}

#[test]
fn errors_are_std_errors() {
    let err: Box<dyn std::error::Error + Send + Sync> = parse_env_value("x").unwrap_err().into();
    assert!(err.to_string().contains("GORO_MAXPROCS=\"x\""));
}

#[test]
fn valid_value_wins_over_cgroup_and_cpus() {
    let fx = Fixture::v2("env-wins", "/app").write("sys/fs/cgroup/app/cpu.max", "50000 100000\n");
    let procs = detect_with_cpus(fx.root(), Some("7"), 2).unwrap();
    assert_eq!(procs.n, 7); // above both the limit and the CPU count: explicit
    assert!(matches!(procs.source, Source::Env { value: 7, .. }));
    assert_eq!(procs.to_string(), "maxprocs=7 (GORO_MAXPROCS=7)");
    // Unset: the same tree gives the cgroup answer.
    assert_eq!(detect_with_cpus(fx.root(), None, 2).unwrap().n, 2);
}

#[test]
fn bounds_are_inclusive() {
    assert_eq!(parse_env_value("1").unwrap(), 1);
    assert_eq!(parse_env_value("65536").unwrap(), 65536);
    assert_eq!(parse_env_value("0065536").unwrap(), 65536);
}
