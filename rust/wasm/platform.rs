// SPDX-License-Identifier: GPL-2.0

//! The range tree's platform inside the wasm32 build: memory is the wasm
//! instance's linear memory, which the m68k module's runtime backs with
//! kernel memory (`rust/m68k/wasm_rt.c`).
//!
//! The instance is single-threaded and the C glue serializes every call
//! into it with one mutex, so no reader ever runs while a writer changes
//! the tree. A read section is therefore only a counter: memory freed
//! "after a grace period" while a guard exists in an outer frame waits on
//! a pending list until the last guard is dropped, which is the whole of
//! the contract [`Platform::free_after_grace_period`] asks for.

use core::alloc::Layout;
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr::NonNull;

use crate::rangetree::{Gfp, Platform, RcuHead};

/// Bytes in a wasm page.
const WASM_PAGE: usize = 65536;
/// Allocation granule; every block is aligned to it.
const GRANULE: usize = 16;
/// Blocks up to this size have one free list per multiple of [`GRANULE`];
/// larger ones one per power of two.
const SMALL_MAX: usize = 4096;
const SMALL_CLASSES: usize = SMALL_MAX / GRANULE;
/// Power-of-two classes above [`SMALL_MAX`], up to 2^(12 + BIG_CLASSES).
const BIG_CLASSES: usize = 12;

/// The allocator's state: free lists and the bump region at the top.
struct Heap {
    free: [usize; SMALL_CLASSES + 1 + BIG_CLASSES],
    /// Next never-used byte, and the end of linear memory.
    bump: usize,
    end: usize,
    /// Live read guards, and blocks waiting for them to be dropped.
    guards: usize,
    pending: usize,
    /// Fault injection for the selftest: fail the `fail_at`-th allocation
    /// from now (1 = the next), and all after it while `fail_sticky`.
    fail_at: usize,
    fail_sticky: bool,
    /// Blocks handed out and not freed, and bytes they take.
    live_blocks: usize,
    live_bytes: usize,
}

/// The instance's one heap.
struct HeapCell(UnsafeCell<Heap>);

// SAFETY: A wasm32 instance has one thread; the C glue never calls into it
// from two threads at once (one mutex), so the heap is never shared.
unsafe impl Sync for HeapCell {}

static HEAP: HeapCell = HeapCell(UnsafeCell::new(Heap {
    free: [0; SMALL_CLASSES + 1 + BIG_CLASSES],
    bump: 0,
    end: 0,
    guards: 0,
    pending: 0,
    fail_at: 0,
    fail_sticky: false,
    live_blocks: 0,
    live_bytes: 0,
}));

/// Runs `f` on the heap.
fn with_heap<R>(f: impl FnOnce(&mut Heap) -> R) -> R {
    // SAFETY: Single-threaded (see `HeapCell`), and no function below calls
    // `with_heap` again while `f` runs, so this is the only reference.
    f(unsafe { &mut *HEAP.0.get() })
}

unsafe extern "C" {
    /// The first byte after the module's data and stack (wasm-ld).
    static __heap_base: u8;
}

/// The class and the size of blocks of that class for a request of `size`.
fn class_of(size: usize) -> Option<(usize, usize)> {
    let size = size.max(1).div_ceil(GRANULE) * GRANULE;
    if size <= SMALL_MAX {
        return Some((size / GRANULE, size));
    }
    let bits = usize::BITS - (size - 1).leading_zeros();
    let c = bits as usize - 12;
    (c < BIG_CLASSES).then(|| (SMALL_CLASSES + c, 1 << bits))
}

impl Heap {
    fn take(&mut self, layout: Layout, may_grow: bool) -> Option<NonNull<u8>> {
        if layout.align() > GRANULE {
            return None;
        }
        if self.fail_at > 0 {
            self.fail_at -= 1;
            if self.fail_at == 0 {
                self.fail_at = usize::from(self.fail_sticky);
                return None;
            }
        }
        let (class, size) = class_of(layout.size())?;
        let p = if self.free[class] != 0 {
            let p = self.free[class];
            // SAFETY: A free block's first word links the list; it is ours.
            self.free[class] = unsafe { *(p as *const usize) };
            p
        } else {
            if self.bump == 0 {
                let base = &raw const __heap_base as usize;
                self.bump = base.div_ceil(GRANULE) * GRANULE;
                self.end = wasm32::memory_size(0) * WASM_PAGE;
            }
            if self.end - self.bump < size {
                if !may_grow {
                    return None;
                }
                let pages = (size - (self.end - self.bump)).div_ceil(WASM_PAGE);
                if wasm32::memory_grow(0, pages) == usize::MAX {
                    return None;
                }
                self.end += pages * WASM_PAGE;
            }
            let p = self.bump;
            self.bump += size;
            p
        };
        self.live_blocks += 1;
        self.live_bytes += size;
        NonNull::new(p as *mut u8)
    }

    fn give(&mut self, ptr: NonNull<u8>, layout: Layout) {
        let Some((class, size)) = class_of(layout.size()) else {
            return;
        };
        let p = ptr.as_ptr() as usize;
        // SAFETY: The block is at least one granule and no longer in use.
        unsafe { *(p as *mut usize) = self.free[class] };
        self.free[class] = p;
        self.live_blocks -= 1;
        self.live_bytes -= size;
    }
}

/// Blocks in use and the bytes they take (the `stats` file shows them).
pub(crate) fn heap_usage() -> (usize, usize) {
    with_heap(|h| (h.live_blocks, h.live_bytes))
}

/// Makes the `nth` allocation from now fail (1: the next one), and every
/// one after it if `sticky`; `nth` 0 ends the injection.
pub(crate) fn fail_allocation(nth: usize, sticky: bool) {
    with_heap(|h| {
        h.fail_at = nth;
        h.fail_sticky = sticky;
    });
}

/// The range tree's platform on linear memory. See the module documentation.
#[derive(Clone, Copy, Default)]
pub(crate) struct LinearPlatform;

/// A read section: while any exists, deferred frees wait.
pub(crate) struct ReadGuard(());

impl Drop for ReadGuard {
    fn drop(&mut self) {
        with_heap(|h| {
            h.guards -= 1;
            if h.guards > 0 {
                return;
            }
            while h.pending != 0 {
                let p = h.pending;
                // SAFETY: Pending blocks are chained through the word
                // before their layout (see `free_after_grace_period`).
                let (next, size) = unsafe { *(p as *const (usize, usize)) };
                h.pending = next;
                if let (Ok(l), Some(ptr)) = (
                    Layout::from_size_align(size, GRANULE),
                    NonNull::new(p as *mut u8),
                ) {
                    h.give(ptr, l);
                }
            }
        });
    }
}

// SAFETY: `alloc` returns fresh, `GRANULE`-aligned blocks of at least the
// size asked (or `None`), and never grows memory for `Gfp::Atomic`; `free`
// takes blocks back; `free_after_grace_period` frees at once when no read
// guard exists and otherwise when the last one is dropped; any value of
// the (stateless) type frees any block.
unsafe impl Platform for LinearPlatform {
    type ReadGuard = ReadGuard;

    fn read_lock(&self) -> ReadGuard {
        with_heap(|h| h.guards += 1);
        ReadGuard(())
    }

    fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>> {
        with_heap(|h| h.take(layout, gfp == Gfp::Kernel))
    }

    unsafe fn free(&self, ptr: NonNull<u8>, layout: Layout) {
        with_heap(|h| h.give(ptr, layout));
    }

    unsafe fn free_after_grace_period(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        _head: NonNull<RcuHead>,
    ) {
        with_heap(|h| {
            if h.guards == 0 {
                h.give(ptr, layout);
                return;
            }
            // The block is at least two granules (a node), and no reader
            // or writer touches it again: chain it by its first two words,
            // with its size.
            let p = ptr.as_ptr() as usize;
            // SAFETY: As above; the block is ours and big enough.
            unsafe { *(p as *mut (usize, usize)) = (h.pending, layout.size()) };
            h.pending = p;
        });
    }
}
