//! Host side of vmatrack's range tree: a [`Platform`] made of the std
//! allocator and crossbeam's epoch-based reclamation, an allocation-failure
//! switch on that platform, and a simple model of the tree's semantics for
//! tests and fuzzing.

use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;

pub use vmatrack_core::rangetree;
use vmatrack_core::rangetree::{Gfp, Platform, RcuHead};

pub mod model;

/// How many operations a test runs: `n`, or at most 200 under Miri, which
/// interprets every instruction (about a million times slower) and needs
/// only enough to split and merge nodes, not the volume that finds rare
/// shapes. Assertions about the volume's shape are not made under Miri.
pub const fn ops(n: usize) -> usize {
    if cfg!(miri) && n > 200 {
        200
    } else {
        n
    }
}

/// How many cases a property test runs: `n`, or 1 under Miri (see [`ops`]).
pub const fn cases(n: u32) -> u32 {
    if cfg!(miri) {
        1
    } else {
        n
    }
}

/// Counters shared by all clones of one [`StdPlatform`].
#[derive(Debug, Default)]
pub struct Stats {
    /// Successful allocations.
    pub allocs: AtomicUsize,
    /// Immediate frees.
    pub frees: AtomicUsize,
    /// Frees queued for after a grace period.
    pub deferred: AtomicUsize,
    /// Allocation calls still to succeed before one fails; negative: never.
    fail_in: AtomicIsize,
    /// Whether every call from the failing one on fails too.
    fail_sticky: AtomicUsize,
}

/// The host platform: std allocator, crossbeam-epoch grace periods, and an
/// optional injected allocation failure.
#[derive(Clone, Debug)]
pub struct StdPlatform {
    stats: Arc<Stats>,
}

impl Default for StdPlatform {
    fn default() -> Self {
        Self::new()
    }
}

impl StdPlatform {
    /// A platform that never fails on purpose.
    pub fn new() -> Self {
        let stats = Stats::default();
        stats.fail_in.store(-1, Ordering::Relaxed);
        Self {
            stats: Arc::new(stats),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Makes the `n`-th allocation call from now (0: the next one) fail;
    /// with `sticky`, every later call fails too until [`StdPlatform::heal`].
    pub fn fail_nth(&self, n: usize, sticky: bool) {
        self.stats
            .fail_sticky
            .store(usize::from(sticky), Ordering::SeqCst);
        self.stats.fail_in.store(n as isize, Ordering::SeqCst);
    }

    /// Stops failing allocations.
    pub fn heal(&self) {
        self.stats.fail_in.store(-1, Ordering::SeqCst);
        self.stats.fail_sticky.store(0, Ordering::SeqCst);
    }

    /// Node memory currently allocated (freed-later memory counts as freed).
    pub fn live(&self) -> isize {
        let s = &self.stats;
        s.allocs.load(Ordering::SeqCst) as isize
            - s.frees.load(Ordering::SeqCst) as isize
            - s.deferred.load(Ordering::SeqCst) as isize
    }

    /// Whether this allocation call is to fail.
    fn should_fail(&self) -> bool {
        let s = &self.stats;
        let v = s.fail_in.load(Ordering::SeqCst);
        if v < 0 {
            return false;
        }
        if v == 0 {
            if s.fail_sticky.load(Ordering::SeqCst) == 0 {
                s.fail_in.store(-1, Ordering::SeqCst);
            }
            return true;
        }
        s.fail_in.store(v - 1, Ordering::SeqCst);
        false
    }
}

/// A pointer moved into a deferred-free closure.
struct SendPtr(NonNull<u8>);
// SAFETY: The closure is the only owner of the memory once queued.
unsafe impl Send for SendPtr {}

// SAFETY: `alloc` returns fresh std-allocator memory for `layout` (or None),
// never sleeps in a way that matters on the host, and refuses
// `Gfp::PoolOnly`; `free` and the deferred free give memory back with the
// same layout; crossbeam-epoch runs a deferred function only after every
// thread pinned at the time of `defer` has unpinned, and `read_lock` pins.
unsafe impl Platform for StdPlatform {
    type ReadGuard = crossbeam_epoch::Guard;

    fn read_lock(&self) -> Self::ReadGuard {
        crossbeam_epoch::pin()
    }

    fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>> {
        if gfp == Gfp::PoolOnly || self.should_fail() {
            return None;
        }
        // SAFETY: Node layouts have a non-zero size.
        let p = NonNull::new(unsafe { std::alloc::alloc(layout) })?;
        self.stats.allocs.fetch_add(1, Ordering::Relaxed);
        Some(p)
    }

    unsafe fn free(&self, ptr: NonNull<u8>, layout: Layout) {
        self.stats.frees.fetch_add(1, Ordering::Relaxed);
        // SAFETY: The caller passes memory from `alloc` with this layout.
        unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) };
    }

    unsafe fn free_after_grace_period(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        _head: NonNull<RcuHead>,
    ) {
        self.stats.deferred.fetch_add(1, Ordering::Relaxed);
        let p = SendPtr(ptr);
        let guard = crossbeam_epoch::pin();
        // SAFETY: The memory is unreachable for new readers (the caller's
        // contract); the closure runs after every current reader's guard is
        // dropped, and it owns the pointer. The closure holds nothing else
        // (three words, kept inline by crossbeam: no box, no reference
        // count per node; measured by the bench's RCU writes).
        unsafe {
            guard.defer_unchecked(move || {
                let p = p;
                std::alloc::dealloc(p.0.as_ptr(), layout);
            })
        };
    }
}
