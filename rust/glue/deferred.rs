// SPDX-License-Identifier: GPL-2.0

//! The shadow's platform: like [`super::platform::KernelPlatform`], but
//! every free is handed over through a lock-free list and done later from
//! irq_work, because the shadow is written from kprobe handlers, which may
//! run in NMI context where neither `kfree` nor `kvfree_call_rcu` may be
//! called.
//!
//! A freed node's [`RcuHead`] (two words the tree reserves for the
//! platform) carries the list link and the node's address, tagged with
//! whether it still needs a grace period. Pushing is a compare-exchange
//! loop (NMI-safe); the irq_work handler takes the whole list at once, so
//! there is no ABA problem.
//!
//! Nodes come from vmatrack's own slab cache, `vmatrack_node` (not merged
//! with any other cache), so that failslab can aim at exactly the shadow's
//! allocations (`/sys/kernel/slab/vmatrack_node/failslab` plus failslab's
//! `cache-filter`), and `/proc/slabinfo` shows what the shadow holds.
//! `kfree()` takes objects of any slab cache, so the frees above need not
//! know which allocator a node came from.

use core::{
    alloc::Layout,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{bindings, error::code::ENOMEM, ffi::c_void, prelude::*, sync::rcu};

use super::platform::{gfp_flags, KernelPlatform};
use crate::engine::record::VmaRecord;
use crate::rangetree::{node_layout, Gfp, Platform, RcuHead};

/// The shadow's node cache, or null before [`NodeCache::create`] and
/// after it was dropped.
static NODE_CACHE: AtomicPtr<bindings::kmem_cache> = AtomicPtr::new(ptr::null_mut());

/// The layout of the shadow's nodes: what `vmatrack_node` objects hold.
fn shadow_node_layout() -> Layout {
    node_layout::<VmaRecord>()
}

/// Owns the `vmatrack_node` slab cache while it lives.
///
/// # Invariants
///
/// `NODE_CACHE` holds a cache made by [`NodeCache::create`] from then until
/// this is dropped; only one `NodeCache` exists at a time.
pub(crate) struct NodeCache(());

impl NodeCache {
    /// Creates the cache. Module init calls this once, before any shadow
    /// exists.
    pub(crate) fn create() -> kernel::error::Result<Self> {
        let l = shadow_node_layout();
        let size = u32::try_from(l.size()).map_err(|_| ENOMEM)?;
        let mut args = bindings::kmem_cache_args {
            align: u32::try_from(l.align()).map_err(|_| ENOMEM)?,
            ..Default::default()
        };
        // SAFETY: The name is a 'static NUL-terminated string (the cache
        // keeps the pointer); `args` is valid for the call.
        let c = unsafe {
            bindings::__kmem_cache_create_args(
                c"vmatrack_node".as_char_ptr(),
                size,
                &mut args,
                1 << bindings::_slab_flag_bits__SLAB_NO_MERGE,
            )
        };
        if c.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: published here, cleared only by `drop`.
        NODE_CACHE.store(c, Ordering::Release);
        Ok(Self(()))
    }
}

impl Drop for NodeCache {
    fn drop(&mut self) {
        let c = NODE_CACHE.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: `c` came from `__kmem_cache_create_args` (type invariant).
        // Module exit drops this after every shadow is gone and the
        // deferred frees are drained; `kmem_cache_destroy` itself waits for
        // frees still queued in `kvfree_call_rcu`.
        unsafe { bindings::kmem_cache_destroy(c) };
    }
}

/// Nodes waiting to be freed: a Treiber stack of their `RcuHead`s viewed as
/// two words, `[next head, node address | NEEDS_GP]`.
static DEFERRED: AtomicPtr<[usize; 2]> = AtomicPtr::new(ptr::null_mut());

/// Tag bit in the address word: free after a grace period.
const NEEDS_GP: usize = 1;

extern "C" {
    fn vmatrack_kick();
    fn vmatrack_kick_sync();
}

/// Queues `ptr` (whose head is `head`) to be freed from irq_work.
///
/// # Safety
///
/// `ptr` is a `kmalloc` object nobody will touch again (but lockless
/// readers, when `gp`), and `head` points to its `RcuHead`.
unsafe fn push(ptr: NonNull<u8>, head: NonNull<RcuHead>, gp: bool) {
    let h = head.as_ptr().cast::<[usize; 2]>();
    // SAFETY: The head's two words are the platform's to use from now on
    // (the tree never reads them again), and readers never look at them.
    unsafe { (*h)[1] = ptr.as_ptr().expose_provenance() | (usize::from(gp) * NEEDS_GP) };
    let mut old = DEFERRED.load(Ordering::Relaxed);
    loop {
        // SAFETY: As above; `h` is not on the list yet, so only we write it.
        unsafe { (*h)[0] = old.expose_provenance() };
        // Release: the words written above are visible to whoever takes it.
        match DEFERRED.compare_exchange_weak(old, h, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => break,
            Err(now) => old = now,
        }
    }
    // The first on an empty list asks for the irq_work (each kick of a new
    // irq_work is a self-IPI); the ones after it ride on that request,
    // since the irq_work takes the whole list when it runs.
    if old.is_null() {
        // SAFETY: `vmatrack_kick` only queues the irq_work; callable anywhere.
        unsafe { vmatrack_kick() };
    }
}

/// Frees everything on the list. Called from irq_work (hard-irq context)
/// and from process context at module exit.
pub(crate) fn drain() {
    let mut h = DEFERRED.swap(ptr::null_mut(), Ordering::Acquire);
    while !h.is_null() {
        // SAFETY: Every entry was pushed by `push`, which wrote both words
        // before publishing it; the swap above made the list ours alone.
        let [next, tagged] = unsafe { *h };
        let obj = ptr::with_exposed_provenance_mut::<c_void>(tagged & !NEEDS_GP);
        if tagged & NEEDS_GP != 0 {
            // SAFETY: `obj` is the kmalloc object holding the head `h`, which
            // has the size and alignment of `struct rcu_head`; nothing
            // touches it any more, and `kvfree_call_rcu` is allowed in
            // hard-irq and process context.
            unsafe { bindings::kvfree_call_rcu(h.cast::<bindings::kvfree_rcu_head>(), obj) };
        } else {
            // SAFETY: `obj` is a kmalloc object nobody uses (push contract).
            unsafe { bindings::kfree(obj) };
        }
        h = ptr::with_exposed_provenance_mut(next);
    }
}

/// Waits until no irq_work of ours is pending or running, then frees what
/// is left. Module exit calls this after the probes are gone.
pub(crate) fn drain_sync() {
    // SAFETY: Waiting for our own irq_work from process context is allowed.
    unsafe { vmatrack_kick_sync() };
    drain();
}

/// The shadow's platform; see the module documentation.
#[derive(Clone, Copy, Default)]
pub(crate) struct DeferredPlatform;

// SAFETY:
// * `alloc` returns a `vmatrack_node` object (its size and alignment are
//   the shadow's node layout) or, for any other layout, what
//   `KernelPlatform::alloc` returns; slab objects of any cache may be
//   passed to `kfree`/`kvfree_call_rcu`, which is how they are freed.
// * `free` frees later, which the contract allows; `free_after_grace_period`
//   frees through `kvfree_call_rcu` (after a grace period), later still.
// * Neither sleeps: they only push onto a list and queue an irq_work.
unsafe impl Platform for DeferredPlatform {
    type ReadGuard = rcu::Guard;

    fn read_lock(&self) -> rcu::Guard {
        rcu::read_lock()
    }

    fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>> {
        let c = NODE_CACHE.load(Ordering::Acquire);
        if c.is_null() || layout != shadow_node_layout() {
            return KernelPlatform.alloc(layout, gfp);
        }
        let (_, flags) = gfp_flags(gfp)?;
        // SAFETY: `c` is the live node cache (it is destroyed only after
        // every shadow is gone); its objects have `layout`.
        NonNull::new(unsafe { bindings::kmem_cache_alloc_noprof(c, flags) }.cast())
    }

    unsafe fn free(&self, ptr: NonNull<u8>, layout: Layout) {
        // The tree reserves an `RcuHead` in every node, but `free` is not
        // told where; nodes freed at once are never visible to readers, so
        // their first bytes serve as the list entry. Every node is larger
        // than two words.
        debug_assert!(layout.size() >= 2 * core::mem::size_of::<usize>());
        // SAFETY: `ptr` is unused memory of at least two aligned words
        // (caller's contract), so it may carry the list entry itself.
        unsafe { push(ptr, ptr.cast::<RcuHead>(), false) };
    }

    unsafe fn free_after_grace_period(
        &self,
        ptr: NonNull<u8>,
        _layout: Layout,
        head: NonNull<RcuHead>,
    ) {
        // SAFETY: Forwarded contract: `head` is inside `ptr`'s object and
        // no new reader can reach `ptr`.
        unsafe { push(ptr, head, true) };
    }
}
