// SPDX-License-Identifier: GPL-2.0

//! The change ring between the probes and the shadow's consumer: order,
//! refusal when full or busy, and one producer against one consumer on two
//! threads (every record arrives once, in order).

use std::sync::Arc;
use std::thread;

use vmatrack_core::engine::changes::{ChangeRing, Consumer, Pushed};

/// A ring of `N` on the heap, with its consumer.
fn ring<const N: usize>() -> (Box<ChangeRing<u64, N>>, Consumer) {
    let mut b = Box::<ChangeRing<u64, N>>::new_uninit();
    // SAFETY: a fresh allocation for one ring, initialised once.
    let c = unsafe { ChangeRing::init_at(b.as_mut_ptr()) };
    // SAFETY: `init_at` initialised every field that needs it.
    (unsafe { b.assume_init() }, c)
}

#[test]
fn records_come_out_in_order() {
    let (r, mut c) = ring::<8>();
    assert!(r.is_empty());
    for i in 0..5 {
        assert_eq!(r.push(i), Pushed::Waiting(i as usize + 1));
    }
    assert_eq!(r.len(), 5);
    for i in 0..5 {
        assert_eq!(r.pop(&mut c), Some(i));
    }
    assert_eq!(r.pop(&mut c), None);
    assert_eq!(r.dropped(), 0);
}

#[test]
fn a_full_ring_refuses_and_counts_and_keeps_what_it_has() {
    let (r, mut c) = ring::<4>();
    for i in 0..4 {
        assert!(matches!(r.push(i), Pushed::Waiting(_)));
    }
    assert_eq!(r.push(99), Pushed::Full);
    assert_eq!(r.push(98), Pushed::Full);
    assert_eq!(r.dropped(), 2);
    assert_eq!(r.pop(&mut c), Some(0));
    // One slot free again: the next push lands after the kept ones.
    assert_eq!(r.push(4), Pushed::Waiting(4));
    let rest: Vec<u64> = std::iter::from_fn(|| r.pop(&mut c)).collect();
    assert_eq!(rest, [1, 2, 3, 4]);
}

#[test]
fn push_if_room_waits_without_counting() {
    let (r, mut c) = ring::<2>();
    assert_eq!(r.push_if_room(1), Some(Pushed::Waiting(1)));
    assert_eq!(r.push_if_room(2), Some(Pushed::Waiting(2)));
    // Full: refused, and not counted as lost (the producer will retry).
    assert_eq!(r.push_if_room(3), None);
    assert_eq!(r.dropped(), 0);
    assert_eq!(r.pop(&mut c), Some(1));
    assert_eq!(r.push_if_room(3), Some(Pushed::Waiting(2)));
    assert_eq!(r.pop(&mut c), Some(2));
    assert_eq!(r.pop(&mut c), Some(3));
}

#[test]
fn wraps_around_many_times() {
    let (r, mut c) = ring::<3>();
    for i in 0..1000u64 {
        assert!(matches!(r.push(i), Pushed::Waiting(_)));
        if i % 2 == 1 {
            assert_eq!(r.pop(&mut c), Some(i - 1));
            assert_eq!(r.pop(&mut c), Some(i));
        }
    }
    assert!(r.is_empty());
}

#[test]
fn one_producer_one_consumer_on_two_threads() {
    const RECORDS: u64 = 200_000;
    let (r, mut c) = ring::<64>();
    let r: Arc<ChangeRing<u64, 64>> = Arc::from(r);
    let p = {
        let r = r.clone();
        thread::spawn(move || {
            let (mut i, mut full) = (0, 0);
            while i < RECORDS {
                match r.push(i) {
                    Pushed::Waiting(n) => {
                        assert!((1..=64).contains(&n));
                        i += 1;
                    }
                    Pushed::Full => {
                        full += 1;
                        thread::yield_now();
                    }
                    Pushed::Busy => panic!("one producer is never busy"),
                }
            }
            full
        })
    };
    let mut want = 0;
    while want < RECORDS {
        match r.pop(&mut c) {
            Some(v) => {
                assert_eq!(v, want, "records out of order or lost");
                want += 1;
            }
            None => thread::yield_now(),
        }
    }
    let full = p.join().expect("producer");
    assert_eq!(r.pop(&mut c), None);
    // Every refusal the ring counted is one the producer saw.
    assert_eq!(r.dropped(), full);
}
