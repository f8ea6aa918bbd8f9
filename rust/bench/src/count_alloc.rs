// SPDX-License-Identifier: GPL-2.0
//! A counting global allocator: measures the heap bytes of every Rust
//! contestant (ours through the host platform, BTreeMap, the crates) the
//! same way. Counting is off while timing: then the only cost is one relaxed
//! load per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            LIVE.fetch_add(l.size() as isize, Relaxed);
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            LIVE.fetch_add(l.size() as isize, Relaxed);
        }
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if ON.load(Relaxed) {
            LIVE.fetch_sub(l.size() as isize, Relaxed);
        }
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if ON.load(Relaxed) {
            LIVE.fetch_add(new as isize - l.size() as isize, Relaxed);
        }
        unsafe { System.realloc(p, l, new) }
    }
}

/// Net heap bytes allocated (allocated minus freed) while `f` runs.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, isize) {
    LIVE.store(0, Relaxed);
    ON.store(true, Relaxed);
    let r = f();
    ON.store(false, Relaxed);
    (r, LIVE.load(Relaxed))
}
