// SPDX-License-Identifier: GPL-2.0

//! The kernel's own C maple tree, as the reference and benchmark peer of
//! vmatrack's range tree.
//!
//! `kernel::maple_tree` offers insert/erase/load/find, but no overwriting
//! range store, no gap search and no dup, which are exactly what the
//! selftest and the bench compare. So this one small module reaches
//! `mtree_store_range`, `mas_empty_area[_rev]` and `mtree_dup` through
//! `bindings::`. (The mirror's walks of an mm's VMA tree make their own
//! raw calls, in `crate::glue::vma`.)
//!
//! Entries are plain numbers, stored as the maple tree's "value entries"
//! (`xa_mk_value`: shifted left, low bit set) so the tree never takes them
//! for pointers or its own internal entries.

use core::{pin::Pin, ptr};
use kernel::{bindings, error::to_result, ffi::c_void, prelude::*, types::Opaque};

use crate::glue::vma::ma_state;

/// A C maple tree with `MT_FLAGS_ALLOC_RANGE` (gap tracking, as the VMA
/// tree has), optionally in RCU mode.
///
/// # Invariants
///
/// `tree` was initialised by `mt_init_flags` and is destroyed only by `Drop`;
/// every entry in it is a value entry (see [`to_entry`]).
pub(crate) struct CMapleTree {
    tree: Pin<KBox<Opaque<bindings::maple_tree>>>,
    rcu: bool,
}

/// Encodes `v` (below 2^63) as a maple tree value entry.
fn to_entry(v: usize) -> *mut c_void {
    ptr::without_provenance_mut((v << 1) | 1)
}

/// Decodes a value entry; `None` for an empty slot.
fn from_entry(e: *mut c_void) -> Option<usize> {
    if e.is_null() {
        None
    } else {
        Some(e.addr() >> 1)
    }
}

impl CMapleTree {
    /// An empty tree; `rcu` selects `MT_FLAGS_USE_RCU`.
    pub(crate) fn new(rcu: bool) -> Result<Self> {
        let flags =
            bindings::MT_FLAGS_ALLOC_RANGE | if rcu { bindings::MT_FLAGS_USE_RCU } else { 0 };
        let tree = KBox::pin_init(
            // SAFETY: `slot` is valid for writes of a `maple_tree`;
            // `mt_init_flags` initialises every field.
            Opaque::ffi_init(|slot| unsafe { bindings::mt_init_flags(slot, flags) }),
            GFP_KERNEL,
        )?;
        // INVARIANT: just initialised by `mt_init_flags`; empty.
        Ok(Self { tree, rcu })
    }

    fn raw(&self) -> *mut bindings::maple_tree {
        self.tree.get()
    }

    /// Stores `v` over `[first, last]` (overwriting), or clears it for `None`.
    pub(crate) fn store(&self, first: usize, last: usize, v: Option<usize>) -> Result {
        let entry = v.map_or(ptr::null_mut(), to_entry);
        // SAFETY: By the type invariants the tree is initialised; the
        // function takes the tree's lock itself.
        to_result(unsafe {
            bindings::mtree_store_range(self.raw(), first, last, entry, bindings::GFP_KERNEL)
        })
    }

    /// The value at `index`.
    pub(crate) fn load(&self, index: usize) -> Option<usize> {
        // SAFETY: The tree is initialised; `mtree_load` takes the RCU read lock.
        from_entry(unsafe { bindings::mtree_load(self.raw(), index) })
    }

    /// Removes the range holding `index`.
    pub(crate) fn erase(&self, index: usize) -> Option<usize> {
        // SAFETY: The tree is initialised; `mtree_erase` takes the lock.
        from_entry(unsafe { bindings::mtree_erase(self.raw(), index) })
    }

    /// Runs `f` with a fresh `ma_state` at `[first, last]`, under the tree's
    /// spinlock, as the `mas_*` functions require.
    fn with_mas<R>(
        &self,
        first: usize,
        last: usize,
        f: impl FnOnce(&mut bindings::ma_state) -> R,
    ) -> R {
        let mut mas = ma_state(self.raw(), first, last);
        // SAFETY: The tree is initialised, so its lock is too; the same
        // access `MapleTree::lock` makes.
        let lock = unsafe { &raw mut (*self.raw()).__bindgen_anon_1.ma_lock }
            .cast::<bindings::spinlock_t>();
        // SAFETY: `lock` is the tree's initialised spinlock.
        unsafe { bindings::spin_lock(lock) };
        let r = f(&mut mas);
        // SAFETY: Taken just above, on this thread.
        unsafe { bindings::spin_unlock(lock) };
        r
    }

    /// `mas_empty_area()`: the lowest start of a free `[s, s + size - 1]`
    /// within `[min, max]`.
    pub(crate) fn empty_area(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        self.with_mas(0, 0, |mas| {
            // SAFETY: `mas` is a valid state on this tree and the lock is held.
            let r = unsafe { bindings::mas_empty_area(mas, min, max, size) };
            (r == 0).then_some(mas.index)
        })
    }

    /// `mas_empty_area_rev()`: the highest such start.
    pub(crate) fn empty_area_rev(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        self.with_mas(0, 0, |mas| {
            // SAFETY: As in `empty_area`.
            let r = unsafe { bindings::mas_empty_area_rev(mas, min, max, size) };
            (r == 0).then_some(mas.index)
        })
    }

    /// Calls `f(first, last, value)` for every entry in order; returns how
    /// many there were. `f` runs under the tree's spinlock: it must not
    /// sleep (nor allocate with `GFP_KERNEL`).
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, usize, usize)) -> usize {
        let mut n = 0;
        self.with_mas(0, 0, |mas| loop {
            // SAFETY: `mas` is valid on this tree and the lock is held.
            let e = unsafe { bindings::mas_find(mas, usize::MAX) };
            match from_entry(e) {
                Some(v) => {
                    f(mas.index, mas.last, v);
                    n += 1;
                }
                None => break,
            }
        });
        n
    }

    /// `mtree_dup()`: a copy with the same flags.
    ///
    /// `mtree_dup` allocates with both trees' spinlocks held, so it must not
    /// sleep: `GFP_NOWAIT` (the VMA tree's fork path, `__mt_dup`, may sleep
    /// because the mmap lock is a sleeping lock; these trees lock
    /// themselves).
    pub(crate) fn dup(&self) -> Result<Self> {
        let new = Self::new(self.rcu)?;
        // SAFETY: Both trees are initialised, with the same flags; `new` is
        // empty. `mtree_dup` takes both locks itself.
        to_result(unsafe {
            bindings::mtree_dup(
                self.raw(),
                new.raw(),
                bindings::GFP_NOWAIT | bindings::__GFP_NOWARN,
            )
        })?;
        Ok(new)
    }
}

impl Drop for CMapleTree {
    fn drop(&mut self) {
        // SAFETY: Initialised (type invariants) and never used again; value
        // entries own nothing, so destroying the nodes is all there is.
        unsafe { bindings::mtree_destroy(self.raw()) };
    }
}

// SAFETY: The C tree serialises writers with its own lock and readers use
// RCU; the entries are plain numbers.
unsafe impl Send for CMapleTree {}
// SAFETY: See `Send`.
unsafe impl Sync for CMapleTree {}
