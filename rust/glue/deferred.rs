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

use core::{
    alloc::Layout,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{bindings, ffi::c_void, sync::rcu};

use super::platform::KernelPlatform;
use crate::rangetree::{Gfp, Platform, RcuHead};

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
    // SAFETY: `vmatrack_kick` only queues the irq_work; callable anywhere.
    unsafe { vmatrack_kick() };
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
// * `alloc` is `KernelPlatform::alloc` (whose guarantees hold).
// * `free` frees later, which the contract allows; `free_after_grace_period`
//   frees through `kvfree_call_rcu` (after a grace period), later still.
// * Neither sleeps: they only push onto a list and queue an irq_work.
unsafe impl Platform for DeferredPlatform {
    type ReadGuard = rcu::Guard;

    fn read_lock(&self) -> rcu::Guard {
        rcu::read_lock()
    }

    fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>> {
        KernelPlatform.alloc(layout, gfp)
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

/// Asks for a drain and a pool refill from irq_work (NMI-safe).
pub(crate) fn kick() {
    // SAFETY: `vmatrack_kick` only queues the irq_work; callable anywhere.
    unsafe { vmatrack_kick() };
}
