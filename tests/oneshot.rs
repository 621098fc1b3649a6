//! `goro::sync::oneshot`: replies across workers, a dropped sender, a
//! dropped receiver, the wait reason, and a stress run of millions of
//! channels whose halves race on two real threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use goro::sync::oneshot;

/// A value that counts its drops, to catch a leak or a double drop.
struct Counted(u64, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, SeqCst);
    }
}

#[test]
fn replies_cross_workers() {
    let rt = goro::Runtime::builder().maxprocs(4).build().unwrap();
    let sum = rt.block_on(async {
        let mut replies = Vec::new();
        for i in 0..10_000u64 {
            let (tx, rx) = oneshot::channel();
            goro::go(async move {
                goro::yield_now().await; // let another worker steal it
                tx.send(i).unwrap();
            });
            replies.push(rx);
        }
        let mut sum = 0;
        for rx in replies {
            sum += rx.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..10_000u64).sum());
}

#[test]
fn dropping_the_sender_wakes_the_receiver_with_an_error() {
    let rt = goro::Runtime::builder().maxprocs(2).build().unwrap();
    let (tx, rx) = oneshot::channel::<u8>();
    let waiter = rt.spawn(rx);
    std::thread::sleep(Duration::from_millis(20)); // the receiver parks
    drop(tx);
    assert_eq!(rt.block_on(waiter).unwrap(), Err(oneshot::RecvError));
}

#[test]
fn sending_to_a_dropped_receiver_gives_the_value_back() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(5), Err(5));
}

#[test]
fn a_waiting_receiver_shows_as_chan_receive() {
    let rt = goro::Runtime::builder().maxprocs(1).build().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let h = rt.spawn(rx);
    let mut found = false;
    for _ in 0..500 {
        let dump = rt.handle().dump_tasks();
        let waiting = dump.sites.iter().flat_map(|s| &s.tasks);
        if waiting
            .into_iter()
            .any(|t| t.wait == Some(goro::WaitReason::ChanReceive))
        {
            found = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    tx.send(()).unwrap();
    assert_eq!(rt.block_on(h).unwrap(), Ok(()));
    assert!(found, "the waiting receiver never showed as chan receive");
}

/// Millions of channels; for each, one thread sends (or drops the sender)
/// while another awaits (or drops the receiver), so every interleaving of
/// send, drop, registration and wake gets hit many times. Every value sent
/// is dropped exactly once, wherever it ends.
#[test]
fn stress_two_threads_millions_of_channels() {
    let n: u64 = std::env::var("GORO_ONESHOT_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let drops = Arc::new(AtomicUsize::new(0));
    let (chan_tx, chan_rx) = std::sync::mpsc::sync_channel::<oneshot::Receiver<Counted>>(1024);
    let sent = Arc::new(AtomicUsize::new(0));
    let receiver = std::thread::spawn(move || {
        let (mut ok, mut closed) = (0u64, 0u64);
        for (i, rx) in chan_rx.into_iter().enumerate() {
            if i % 7 == 3 {
                drop(rx); // the receiver leaves first, or races the send
                continue;
            }
            match futures_lite::future::block_on(rx) {
                Ok(v) => {
                    assert_eq!(v.0 % 5, 0, "only multiples of 5 are sent");
                    ok += 1
                }
                Err(oneshot::RecvError) => closed += 1,
            }
        }
        (ok, closed)
    });
    let mut values_made = 0usize;
    for i in 0..n {
        let (tx, rx) = oneshot::channel();
        // Every fifth channel gets a value; the others lose their sender.
        let mut send_or_drop = |tx: oneshot::Sender<Counted>| {
            if i % 5 == 0 {
                values_made += 1;
                if tx.send(Counted(i, drops.clone())).is_ok() {
                    sent.fetch_add(1, SeqCst);
                }
            }
        };
        if i % 2 == 0 {
            // The receiver first: it may park before the send lands.
            chan_tx.send(rx).unwrap();
            send_or_drop(tx);
        } else {
            send_or_drop(tx);
            chan_tx.send(rx).unwrap();
        }
    }
    drop(chan_tx);
    let (ok, closed) = receiver.join().unwrap();
    assert_eq!(
        drops.load(SeqCst),
        values_made,
        "every value dropped exactly once"
    );
    assert!(ok as usize <= sent.load(SeqCst));
    assert!(ok > 0 && closed > 0, "ok {ok} closed {closed}");
}
