// SPDX-License-Identifier: GPL-2.0

//! The target's changes, recorded where they happen and applied later.
//!
//! The probes see every change of the target's VMA tree in the task that
//! makes it, under that tree's mmap write lock. Applying the change to the
//! shadow there (a copy-on-write store into an RCU tree, node allocation,
//! freeing) made the target several times slower. So a probe only appends
//! a small record here, and whoever needs the shadow applies the records
//! in order, in process context: a worker kicked when the ring fills up, or
//! a reader, which holds the target's mmap read lock and so sees every
//! change recorded (no writer can be between a change and its record).
//!
//! A single-producer, single-consumer ring of fixed size:
//!
//! * **Producers** are the probe handlers. All of them for one target hold
//!   its mmap write lock, so they come one after the other; the producer
//!   flag ([`ChangeRing::push`] takes it with one compare-exchange) only
//!   keeps out a straggler of a previous target that passed its filter
//!   before the target changed. Pushing never waits and never allocates:
//!   any context, NMI included.
//! * **The consumer** is one at a time by construction: [`ChangeRing::pop`]
//!   needs the [`Consumer`] that [`ChangeRing::init_at`] hands out once.
//! * **Full**: the record is refused and counted ([`ChangeRing::dropped`]);
//!   the caller marks the mirror stale, and the next reader rebuilds it.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A fixed ring of `N` records of type `T`; see the module documentation.
///
/// # Invariants
///
/// * `tail <= head <= tail + N` (as counters that never wrap in practice:
///   `usize` increments, one per record).
/// * Slots `[tail, head)` (modulo `N`) hold initialised records that only
///   the consumer reads; the others are written only by the holder of
///   `producing`.
/// * `head` is stored only by the holder of `producing`, `tail` only by
///   the holder of the one [`Consumer`].
pub struct ChangeRing<T: Copy, const N: usize> {
    slots: [UnsafeCell<MaybeUninit<T>>; N],
    head: AtomicUsize,
    tail: AtomicUsize,
    producing: AtomicBool,
    dropped: AtomicUsize,
}

// SAFETY: Slots are handed between one producer at a time and one consumer
// through `head`'s and `tail`'s release/acquire pairs (type invariants), so
// sharing the ring is as safe as sending `T` between threads.
unsafe impl<T: Copy + Send, const N: usize> Sync for ChangeRing<T, N> {}
// SAFETY: Owning the ring owns its records.
unsafe impl<T: Copy + Send, const N: usize> Send for ChangeRing<T, N> {}

/// The right to take records out of one [`ChangeRing`].
///
/// # Invariants
///
/// Only [`ChangeRing::init_at`] makes one, once per ring.
pub struct Consumer(());

/// What [`ChangeRing::push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Recorded; this many records are now waiting.
    Waiting(usize),
    /// Refused: the ring is full (counted in [`ChangeRing::dropped`]).
    Full,
    /// Refused: another producer is pushing (counted too).
    Busy,
}

impl<T: Copy, const N: usize> ChangeRing<T, N> {
    /// Initialises an empty ring at `slot`, in place (a ring is too large
    /// for a kernel stack), and returns its one [`Consumer`].
    ///
    /// # Safety
    ///
    /// `slot` is valid for writes of a `Self` and aligned for it, and this
    /// is called once for it.
    pub unsafe fn init_at(slot: *mut Self) -> Consumer {
        // SAFETY: By the caller's contract the fields may be written. The
        // slots are `MaybeUninit` inside `UnsafeCell`: any bytes are a
        // valid value for them, so they need no writes.
        unsafe {
            (&raw mut (*slot).head).write(AtomicUsize::new(0));
            (&raw mut (*slot).tail).write(AtomicUsize::new(0));
            (&raw mut (*slot).producing).write(AtomicBool::new(false));
            (&raw mut (*slot).dropped).write(AtomicUsize::new(0));
        }
        // INVARIANT: the one consumer of this ring, made once.
        Consumer(())
    }

    /// Appends `t`. Never waits; callable from any context.
    pub fn push(&self, t: T) -> Pushed {
        // Acquire pairs with the Release below: a producer sees the `head`
        // its predecessor stored.
        if self
            .producing
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Pushed::Busy;
        }
        let head = self.head.load(Ordering::Relaxed);
        // Acquire: the consumer is done reading every slot below `tail`.
        let tail = self.tail.load(Ordering::Acquire);
        let r = if head.wrapping_sub(tail) >= N {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            Pushed::Full
        } else {
            if let Some(s) = self.slots.get(head % N) {
                // SAFETY: `head` is outside `[tail, head)` and we hold
                // `producing`, so the consumer does not read this slot and
                // no other producer writes it (type invariants).
                unsafe { (*s.get()).write(t) };
            }
            // Release: the record is written before the consumer's acquire
            // load of `head` shows it.
            self.head.store(head.wrapping_add(1), Ordering::Release);
            Pushed::Waiting(head.wrapping_add(1).wrapping_sub(tail))
        };
        self.producing.store(false, Ordering::Release);
        r
    }

    /// Appends `t` if there is room; `None` (nothing counted) if the ring
    /// is full, so a producer may wait for room and try again.
    pub fn push_if_room(&self, t: T) -> Option<Pushed> {
        if self.len() >= N {
            return None;
        }
        Some(self.push(t))
    }

    /// Takes the oldest record, if any.
    pub fn pop(&self, _c: &mut Consumer) -> Option<T> {
        let tail = self.tail.load(Ordering::Relaxed);
        // Acquire pairs with `push`'s Release of `head`.
        let head = self.head.load(Ordering::Acquire);
        if tail == head {
            return None;
        }
        // SAFETY: `tail` is in `[tail, head)`: an initialised record that
        // no producer writes until `tail` moves past it, and `&mut
        // Consumer` makes us the only reader.
        let t = unsafe { (*self.slots.get(tail % N)?.get()).assume_init() };
        // Release: we are done with the slot before a producer reuses it.
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        Some(t)
    }

    /// Records waiting now (a moment's view while producers run).
    pub fn len(&self) -> usize {
        let head = self.head.load(Ordering::Acquire);
        head.wrapping_sub(self.tail.load(Ordering::Acquire))
    }

    /// Whether nothing is waiting (a moment's view while producers run).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records refused so far (full, or a concurrent producer).
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }

    /// How many records the ring holds.
    pub const fn capacity(&self) -> usize {
        N
    }
}
