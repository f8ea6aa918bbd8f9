// SPDX-License-Identifier: GPL-2.0

//! The range tree's platform in the kernel: `kmalloc` for nodes,
//! `kvfree_call_rcu` for frees after a grace period, `rcu_read_lock` for
//! readers.

use core::{alloc::Layout, ptr::NonNull};
use kernel::{
    alloc::{allocator::Kmalloc, flags, Allocator, Flags, NumaNode},
    bindings,
    sync::rcu,
};

use crate::rangetree::{Gfp, Platform, RcuHead};

/// Nodes from `kmalloc`, deferred frees through RCU.
///
/// `free_after_grace_period` uses `kvfree_call_rcu`, which must not be
/// called from NMI context; the mirror (which writes from kprobe handlers)
/// therefore only writes with [`Gfp::PoolOnly`] there and hands retired
/// nodes over from process context.
#[derive(Clone, Copy, Default)]
pub(crate) struct KernelPlatform;

/// Turns the tree's allocation context into kernel GFP flags, both as the
/// kernel crate's [`Flags`] and raw, for C allocators with no Rust binding
/// (`kmem_cache_alloc`; `Flags` gives its raw value only inside the kernel
/// crate). One table, so the two never differ.
///
/// Returns `None` for [`Gfp::PoolOnly`]: the tree never allocates then.
pub(super) fn gfp_flags(gfp: Gfp) -> Option<(Flags, bindings::gfp_t)> {
    match gfp {
        Gfp::Kernel => Some((flags::GFP_KERNEL, bindings::GFP_KERNEL)),
        // A failed atomic allocation is an expected outcome here (the caller
        // marks the mirror stale and resyncs), so no warning splat.
        Gfp::Atomic => Some((
            flags::GFP_NOWAIT | flags::__GFP_NOWARN,
            bindings::GFP_NOWAIT | bindings::__GFP_NOWARN,
        )),
        Gfp::PoolOnly => None,
    }
}

// SAFETY:
// * `alloc` returns `kmalloc` memory of at least `layout.size()` bytes with
//   `layout.align()` (Kmalloc honours the layout), or `None`; it never
//   sleeps unless asked with `Gfp::Kernel`.
// * `free` and `free_after_grace_period` take `kmalloc` memory;
//   `kvfree_call_rcu` frees it only after every RCU reader that could see it
//   has finished, and does not sleep.
// * `ReadGuard` is the RCU read-side guard, so memory handed to
//   `kvfree_call_rcu` after it was taken outlives it.
unsafe impl Platform for KernelPlatform {
    type ReadGuard = rcu::Guard;

    fn read_lock(&self) -> rcu::Guard {
        rcu::read_lock()
    }

    fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>> {
        let (flags, _) = gfp_flags(gfp)?;
        Kmalloc::alloc(layout, flags, NumaNode::NO_NODE)
            .ok()
            .map(|p| p.cast::<u8>())
    }

    unsafe fn free(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: By the caller's contract `ptr` came from `alloc` above,
        // i.e. from `Kmalloc` with this `layout`, and is no longer used.
        unsafe { Kmalloc::free(ptr, layout) };
    }

    unsafe fn free_after_grace_period(
        &self,
        ptr: NonNull<u8>,
        _layout: Layout,
        head: NonNull<RcuHead>,
    ) {
        // SAFETY: `RcuHead` has the size and alignment of `struct rcu_head`
        // and lies inside the `kmalloc` object at `ptr` (caller's contract),
        // which `kvfree_call_rcu` frees with `kvfree` after a grace period.
        unsafe {
            bindings::kvfree_call_rcu(
                head.as_ptr().cast::<bindings::kvfree_rcu_head>(),
                ptr.as_ptr().cast::<kernel::ffi::c_void>(),
            )
        };
    }
}
