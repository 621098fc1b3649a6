//! The run queue: push, pop, steal and overflow of the ring, and the
//! `runnext` hand-off.

use loom::sync::Arc;
use loom::thread;

use super::{Item, assert_each_once};
use crate::ring::{self, CAPACITY, RunNext};

/// Steals once into a fresh ring and drains it: what one thief gets.
fn steal_all(stealer: &ring::Stealer<Box<Item>>) -> Vec<usize> {
    let (mut mine, _) = ring::new::<Box<Item>>();
    let mut got = Vec::new();
    if let Some(t) = stealer.steal_into(&mut mine) {
        got.push(t.0);
    }
    while let Some(t) = mine.pop() {
        got.push(t.0);
    }
    got
}

#[test]
fn loom_ring_push_pop_steal_conserve_items() {
    loom::model(|| {
        let (mut owner, stealer) = ring::new::<Box<Item>>();
        let thief = thread::spawn(move || steal_all(&stealer));
        let mut seen = Vec::new();
        for i in 0..3 {
            owner.push_back(Box::new(Item(i)), |t| seen.push(t.0));
        }
        if let Some(t) = owner.pop() {
            seen.push(t.0);
        }
        while let Some(t) = owner.pop() {
            seen.push(t.0);
        }
        seen.extend(thief.join().unwrap());
        assert_each_once(seen, 3);
    });
}

#[test]
fn loom_ring_overflow_races_with_steal() {
    loom::model(|| {
        let (mut owner, stealer) = ring::new::<Box<Item>>();
        for i in 0..CAPACITY {
            owner.push_back(Box::new(Item(i)), |_| unreachable!("not full yet"));
        }
        let thief = thread::spawn(move || steal_all(&stealer));
        // Full ring: this push either overflows half, or finds room the
        // thief made.
        let mut seen = Vec::new();
        owner.push_back(Box::new(Item(CAPACITY)), |t| seen.push(t.0));
        while let Some(t) = owner.pop() {
            seen.push(t.0);
        }
        seen.extend(thief.join().unwrap());
        assert_each_once(seen, CAPACITY + 1);
    });
}

#[test]
fn loom_runnext_handoff_conserves_items() {
    loom::model(|| {
        let slot = Arc::new(RunNext::<Box<Item>>::new());
        let (mut owner, _stealer) = ring::new::<Box<Item>>();
        let thief = {
            let slot = slot.clone();
            thread::spawn(move || slot.take().map(|t| t.0))
        };
        let mut seen = Vec::new();
        for i in 0..2 {
            if let Some(prev) = slot.replace(Box::new(Item(i))) {
                owner.push_back(prev, |_| unreachable!());
            }
        }
        if let Some(t) = slot.take() {
            seen.push(t.0);
        }
        while let Some(t) = owner.pop() {
            seen.push(t.0);
        }
        seen.extend(thief.join().unwrap());
        assert_each_once(seen, 2);
    });
}
