//! A panicking closure reaches its handle; the pool carries on.

use futures_lite::future::block_on;
use goro_blocking::Pool;

#[test]
fn panic_reaches_the_handle() {
    let pool = Pool::builder().max_threads(2).build();
    let h = pool.spawn(|| -> u32 { panic!("blocking boom") });
    assert!(
        h.location().file().ends_with("panic.rs"),
        "{}",
        h.location()
    );
    let err = block_on(h).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("blocking boom"));

    // The thread that ran it survived and still works.
    for i in 0..100 {
        assert_eq!(block_on(pool.spawn(move || i)).unwrap(), i);
    }
    assert!(pool.peak_threads() <= 2);
}

#[test]
fn unblock_records_the_callers_location() {
    let line = line!() + 1;
    let h = goro_blocking::unblock(|| ());
    assert_eq!(h.location().line(), line);
    assert!(h.location().file().ends_with("panic.rs"));
    block_on(h).unwrap();
}

#[test]
fn panic_payload_can_be_resumed() {
    let err = block_on(goro_blocking::unblock(|| std::panic::panic_any(17u8))).unwrap_err();
    let payload = err.try_into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<u8>(), Some(&17));
}
