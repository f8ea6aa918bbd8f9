// SPDX-License-Identifier: GPL-2.0
//! A counting global allocator: measures the heap bytes of every Rust
//! contestant (ours through the host platform, BTreeMap, the crates) the
//! same way. Counting is off while timing: then the only cost is one relaxed
//! load per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

pub(crate) struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: Every method forwards to `System` with the caller's arguments,
// so `System`'s guarantees are ours; the counting touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            LIVE.fetch_add(l.size() as isize, Relaxed);
        }
        // SAFETY: The caller's contract for this method is `System`'s.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            LIVE.fetch_add(l.size() as isize, Relaxed);
        }
        // SAFETY: The caller's contract for this method is `System`'s.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if ON.load(Relaxed) {
            LIVE.fetch_sub(l.size() as isize, Relaxed);
        }
        // SAFETY: The caller's contract for this method is `System`'s.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if ON.load(Relaxed) {
            LIVE.fetch_add(new as isize - l.size() as isize, Relaxed);
        }
        // SAFETY: The caller's contract for this method is `System`'s.
        unsafe { System.realloc(p, l, new) }
    }
}

/// Net heap bytes allocated (allocated minus freed) while `f` runs.
pub(crate) fn measure<T>(f: impl FnOnce() -> T) -> (T, isize) {
    LIVE.store(0, Relaxed);
    ON.store(true, Relaxed);
    let r = f();
    ON.store(false, Relaxed);
    (r, LIVE.load(Relaxed))
}
