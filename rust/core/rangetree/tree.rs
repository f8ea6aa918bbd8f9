// SPDX-License-Identifier: GPL-2.0

//! The plain-mode tree (the operations it shares with RCU mode are in
//! [`super::ops`]).

use core::fmt;

use super::cursor::Cursor;
use super::node::{node_layout, NodePtr, NodeRef};
use super::ops::{count_nodes, do_erase, do_store, free_subtree};
use super::pool::{Shared, WState, Wr};
use super::read::{self, Iter};
use super::{gap, AllocError, Gfp, Platform, StoreError, ValidateError};

/// A range tree in plain mode: no concurrent readers, writes change nodes in
/// place and reuse freed nodes through the pool.
///
/// # Invariants
///
/// `sh` describes a valid tree (see [`Shared`]) whose writer state is `st`,
/// with `st.rcu == false`; the tree owns all its nodes and its pool.
pub struct RangeTree<V: Copy, P: Platform> {
    pub(crate) sh: Shared<V, P>,
    pub(crate) st: WState,
}

// SAFETY: The tree owns its nodes (plain memory holding `V`s), including the
// pool nodes its writer state points to, and `P`; moving it to another thread
// moves all of that.
unsafe impl<V: Copy + Send, P: Platform + Send> Send for RangeTree<V, P> {}
// SAFETY: `&RangeTree` only reads nodes; nodes change only through `&mut`.
unsafe impl<V: Copy + Sync, P: Platform + Sync> Sync for RangeTree<V, P> {}

impl<V: Copy, P: Platform> RangeTree<V, P> {
    /// Creates an empty tree.
    pub fn new(platform: P) -> Self {
        // INVARIANT: An empty tree with an empty pool.
        Self {
            sh: Shared::new(platform),
            st: WState::new(),
        }
    }

    /// The platform.
    pub fn platform(&self) -> &P {
        &self.sh.platform
    }

    /// The root, readable while the tree is borrowed.
    pub(crate) fn root_ref(&self) -> Option<NodeRef<'_, V>> {
        self.sh.root_ref(&self.st)
    }

    /// Stores `value` over `[first, last]` like `mas_store_gfp()`: entries
    /// overlapping the range are removed, or trimmed (split in two if they
    /// reach past both ends); `None` clears the range.
    ///
    /// Fails with [`StoreError::InvalidRange`] if `first > last` and with
    /// [`StoreError::Alloc`] if the pool cannot be filled with
    /// [`RangeTree::worst_case_nodes_per_store`] nodes under `gfp`; in both
    /// cases the tree is unchanged. With [`Gfp::PoolOnly`] it never calls
    /// the platform's `alloc` or `free`: after
    /// `fill_pool(worst_case_nodes_per_store())` it cannot fail, and with
    /// fewer pool nodes it fails before changing anything.
    pub fn store(
        &mut self,
        first: usize,
        last: usize,
        value: Option<V>,
        gfp: Gfp,
    ) -> Result<(), StoreError> {
        do_store(&self.sh, &mut self.st, first, last, value, gfp)
    }

    /// Removes the whole entry containing `index` and returns it. Fails
    /// like [`RangeTree::store`] (tree unchanged); `Ok(None)` if there is no
    /// such entry, even with a short pool.
    pub fn erase(
        &mut self,
        index: usize,
        gfp: Gfp,
    ) -> Result<Option<(usize, usize, V)>, AllocError> {
        do_erase(&self.sh, &mut self.st, index, gfp)
    }

    /// The value of the entry containing `index`.
    pub fn load(&self, index: usize) -> Option<V> {
        read::load_range(self.root_ref(), index).map(|e| e.2)
    }

    /// The entry containing `index`.
    pub fn load_range(&self, index: usize) -> Option<(usize, usize, V)> {
        read::load_range(self.root_ref(), index)
    }

    /// The first entry with `last >= from` and `first <= max` (`mt_find()`).
    pub fn find(&self, from: usize, max: usize) -> Option<(usize, usize, V)> {
        read::find(self.root_ref(), from, max)
    }

    /// The last entry with `first <= from` and `last >= min`.
    pub fn find_rev(&self, from: usize, min: usize) -> Option<(usize, usize, V)> {
        read::find_rev(self.root_ref(), from, min)
    }

    /// All entries in order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter::new(self.root_ref(), 0, usize::MAX)
    }

    /// Entries overlapping `[first, last]`, in order, not clipped.
    pub fn range(&self, first: usize, last: usize) -> Iter<'_, V> {
        Iter::new(self.root_ref(), first, last)
    }

    /// Lowest `s` such that `[s, s + size - 1]` is free and inside
    /// `[min, max]`, like `mas_empty_area()`. `None` for its `-EINVAL`
    /// (`min > max`, `size == 0`, `max - min < size - 1`) and `-EBUSY`.
    pub fn empty_area(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        gap::empty_area(self.root_ref(), min, max, size)
    }

    /// Highest such `s`, like `mas_empty_area_rev()`.
    pub fn empty_area_rev(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        gap::empty_area_rev(self.root_ref(), min, max, size)
    }

    /// A cursor at `index` that remembers its walk.
    pub fn cursor(&mut self, index: usize) -> Cursor<'_, V, P> {
        Cursor::new(&self.sh, &mut self.st, index)
    }

    /// Makes sure the pool holds at least `count` nodes. Unused pool nodes
    /// are kept until [`RangeTree::release_pool`].
    pub fn fill_pool(&mut self, count: usize, gfp: Gfp) -> Result<(), AllocError> {
        Wr::<V, P>::fill(&self.sh, &mut self.st, count, gfp)
    }

    /// Nodes in the pool.
    pub fn pool_len(&self) -> usize {
        self.st.pool_len
    }

    /// The most nodes one store can need at the current height: after
    /// `fill_pool(worst_case_nodes_per_store())`, a store with
    /// [`Gfp::PoolOnly`] cannot fail.
    pub fn worst_case_nodes_per_store(&self) -> usize {
        Wr::<V, P>::worst_case(&self.st)
    }

    /// Gives every pool node back to the platform.
    pub fn release_pool(&mut self) {
        Wr::<V, P>::release(&self.sh, &mut self.st);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.st.len
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.st.len == 0
    }

    /// Levels of nodes (0 for an empty tree).
    pub fn height(&self) -> usize {
        self.st.height
    }

    /// Nodes in the tree (not counting the pool).
    pub fn node_count(&self) -> usize {
        count_nodes(self.root_ref())
    }

    /// Bytes of node memory in the tree (not counting the pool).
    pub fn bytes_used(&self) -> usize {
        self.node_count() * node_layout::<V>().size()
    }

    /// Checks every invariant; see [`ValidateError`].
    pub fn validate(&self) -> Result<(), ValidateError> {
        super::validate::validate(self.root_ref(), self.st.height, self.st.len)
    }

    /// Writes the node structure, `mt_dump()` style, without pointer values.
    pub fn dump(&self, out: &mut impl fmt::Write) -> fmt::Result
    where
        V: fmt::Debug,
    {
        super::dump::dump(self.root_ref(), self.st.height, self.st.len, out)
    }

    /// Takes the tree apart: its root, height, entry count, writer state
    /// (with the pool), and platform. The caller owns the nodes.
    pub(crate) fn into_parts(self) -> (Option<NodePtr>, usize, usize, WState, P) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so both fields are moved out
        // exactly once.
        let (sh, st) = unsafe { (core::ptr::read(&this.sh), core::ptr::read(&this.st)) };
        let root = sh.root();
        (root, st.height, st.len, st, sh.platform)
    }
}

impl<V: Copy, P: Platform> Drop for RangeTree<V, P> {
    fn drop(&mut self) {
        if let Some(r) = self.sh.root() {
            free_subtree::<V, P>(&self.sh.platform, r, false);
        }
        Wr::<V, P>::release(&self.sh, &mut self.st);
    }
}
