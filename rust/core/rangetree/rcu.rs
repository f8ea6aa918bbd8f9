// SPDX-License-Identifier: GPL-2.0

//! RCU mode: lockless readers, one writer at a time.
//!
//! Published nodes are never changed. A write copies every node it changes
//! (the walked path, and the neighbours a rebalance touches), links the
//! copies together while no reader can see them, then publishes the new root
//! with a release store. Readers load the root with acquire ordering inside a
//! read-side critical section, so they see either the whole old tree or the
//! whole new one; the replaced nodes are handed to
//! [`Platform::free_after_grace_period`] after the publication, so no reader
//! that can still hold them loses them.
//!
//! There is one writer at a time, claimed with [`RcuRangeTree::try_write`]:
//! a trylock, never a spin, because the kernel's writer may run in kprobe or
//! NMI context.

use core::cell::UnsafeCell;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use super::cursor::Cursor;
use super::node::{NodePtr, NodeRef};
use super::ops::{count_nodes, do_erase, do_store, free_subtree};
use super::pool::{Shared, WState, Wr};
use super::read::{self, Iter};
use super::tree::RangeTree;
use super::{gap, AllocError, Gfp, Platform, StoreError, ValidateError};

/// A range tree in RCU mode.
///
/// # Invariants
///
/// `sh` describes a valid tree whose published nodes are immutable; `st`
/// (with `st.rcu == true`) is accessed only by the holder of `writer`.
pub struct RcuRangeTree<V: Copy + Send + Sync, P: Platform> {
    sh: Shared<V, P>,
    st: UnsafeCell<WState>,
    writer: AtomicBool,
}

// SAFETY: The tree owns its nodes (including those its writer state points
// to) and `P`; moving it moves them.
unsafe impl<V: Copy + Send + Sync, P: Platform + Send> Send for RcuRangeTree<V, P> {}
// SAFETY: Readers only read immutable published nodes (synchronised by the
// root's release/acquire) and atomics; the writer state is only touched by
// the holder of the `writer` flag, and `P` is shared only if it is `Sync`.
unsafe impl<V: Copy + Send + Sync, P: Platform + Sync> Sync for RcuRangeTree<V, P> {}

/// The right to change an [`RcuRangeTree`]; dropping it lets the next writer in.
pub struct RcuWriter<'a, V: Copy + Send + Sync, P: Platform> {
    tree: &'a RcuRangeTree<V, P>,
}

impl<V: Copy + Send + Sync, P: Platform> RcuRangeTree<V, P> {
    /// Builds from the parts of a plain tree.
    pub(crate) fn from_parts(sh: Shared<V, P>, st: WState) -> Self {
        debug_assert!(st.rcu);
        // INVARIANT: `st.rcu` is set and the writer flag is free.
        Self {
            sh,
            st: UnsafeCell::new(st),
            writer: AtomicBool::new(false),
        }
    }

    /// The platform.
    pub fn platform(&self) -> &P {
        &self.sh.platform
    }

    /// Claims the writer, if nobody has it. Never waits.
    pub fn try_write(&self) -> Option<RcuWriter<'_, V, P>> {
        self.writer
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        Some(RcuWriter { tree: self })
    }

    /// The root of the snapshot `g` keeps alive.
    fn snapshot<'a>(&'a self, _g: &'a P::ReadGuard) -> Option<NodeRef<'a, V>> {
        // SAFETY: The root is loaded under `_g`. Published nodes never
        // change in RCU mode (type invariant), and every node reachable from
        // the root now is handed to `free_after_grace_period` only after it
        // is unlinked, so not freed before `_g` is dropped (`Platform`
        // contract); `'a` ends before that.
        self.sh.root().map(|r| unsafe { NodeRef::new(r) })
    }

    /// The value of the entry containing `index`.
    pub fn load(&self, index: usize, g: &P::ReadGuard) -> Option<V> {
        read::load_range(self.snapshot(g), index).map(|e| e.2)
    }

    /// The entry containing `index`.
    pub fn load_range(&self, index: usize, g: &P::ReadGuard) -> Option<(usize, usize, V)> {
        read::load_range(self.snapshot(g), index)
    }

    /// The first entry with `last >= from` and `first <= max`.
    pub fn find(&self, from: usize, max: usize, g: &P::ReadGuard) -> Option<(usize, usize, V)> {
        read::find(self.snapshot(g), from, max)
    }

    /// The last entry with `first <= from` and `last >= min`.
    pub fn find_rev(&self, from: usize, min: usize, g: &P::ReadGuard) -> Option<(usize, usize, V)> {
        read::find_rev(self.snapshot(g), from, min)
    }

    /// All entries of one snapshot, in order.
    pub fn iter<'a>(&'a self, g: &'a P::ReadGuard) -> Iter<'a, V> {
        Iter::new(self.snapshot(g), 0, usize::MAX)
    }

    /// Entries of one snapshot overlapping `[first, last]`, in order.
    pub fn range<'a>(&'a self, first: usize, last: usize, g: &'a P::ReadGuard) -> Iter<'a, V> {
        Iter::new(self.snapshot(g), first, last)
    }

    /// See [`RangeTree::empty_area`].
    pub fn empty_area(
        &self,
        min: usize,
        max: usize,
        size: usize,
        g: &P::ReadGuard,
    ) -> Option<usize> {
        gap::empty_area(self.snapshot(g), min, max, size)
    }

    /// See [`RangeTree::empty_area_rev`].
    pub fn empty_area_rev(
        &self,
        min: usize,
        max: usize,
        size: usize,
        g: &P::ReadGuard,
    ) -> Option<usize> {
        gap::empty_area_rev(self.snapshot(g), min, max, size)
    }

    /// Number of entries at some recent moment.
    pub fn len(&self, _g: &P::ReadGuard) -> usize {
        self.sh.len.load(Ordering::Relaxed)
    }

    /// Whether the tree looked empty at some recent moment.
    pub fn is_empty(&self, g: &P::ReadGuard) -> bool {
        self.load_root_is_none(g)
    }

    fn load_root_is_none(&self, _g: &P::ReadGuard) -> bool {
        self.sh.root().is_none()
    }

    /// Checks one snapshot's invariants (the entry count is not checked: it
    /// may belong to another snapshot).
    pub fn validate(&self, g: &P::ReadGuard) -> Result<(), ValidateError> {
        let root = self.snapshot(g);
        let h = super::validate::height_of(root);
        super::validate::validate_snapshot::<V>(root, h)
    }

    /// Writes one snapshot's node structure (see [`RangeTree::dump`]).
    pub fn dump(&self, out: &mut impl fmt::Write, g: &P::ReadGuard) -> fmt::Result
    where
        V: fmt::Debug,
    {
        let root = self.snapshot(g);
        let h = super::validate::height_of(root);
        let n = Iter::<V>::new(root, 0, usize::MAX).count();
        super::dump::dump::<V>(root, h, n, out)
    }

    /// Copies one snapshot into a new plain-mode tree in `O(n)`.
    ///
    /// A reader's copy: the guard keeps the nodes alive, so `gfp` must not
    /// sleep (in the kernel an RCU read-side section may not); use
    /// [`RcuWriter::dup`], which needs no guard, to allocate with
    /// [`Gfp::Kernel`].
    pub fn dup(&self, gfp: Gfp, g: &P::ReadGuard) -> Result<RangeTree<V, P>, AllocError>
    where
        P: Clone,
    {
        let root = self.snapshot(g);
        let h = super::validate::height_of(root);
        let n = Iter::<V>::new(root, 0, usize::MAX).count();
        super::build::dup_from::<V, P>(self.sh.platform.clone(), root, h, n, gfp)
    }
}

impl<V: Copy + Send + Sync, P: Platform> Drop for RcuRangeTree<V, P> {
    fn drop(&mut self) {
        if let Some(r) = self.sh.root() {
            free_subtree::<V, P>(&self.sh.platform, r, true);
        }
        Wr::<V, P>::release(&self.sh, self.st.get_mut());
    }
}

impl<'a, V: Copy + Send + Sync, P: Platform> RcuWriter<'a, V, P> {
    /// The writer state.
    fn st(&mut self) -> &mut WState {
        // SAFETY: We hold the writer flag, so nobody else touches the writer
        // state, and `&mut self` keeps this borrow unique.
        unsafe { &mut *self.tree.st.get() }
    }

    /// The shared state.
    fn sh(&self) -> &'a Shared<V, P> {
        &self.tree.sh
    }

    /// See [`RangeTree::store`].
    pub fn store(
        &mut self,
        first: usize,
        last: usize,
        value: Option<V>,
        gfp: Gfp,
    ) -> Result<(), StoreError> {
        let sh = self.sh();
        do_store(sh, self.st(), first, last, value, gfp)
    }

    /// See [`RangeTree::erase`].
    pub fn erase(
        &mut self,
        index: usize,
        gfp: Gfp,
    ) -> Result<Option<(usize, usize, V)>, AllocError> {
        let sh = self.sh();
        do_erase(sh, self.st(), index, gfp)
    }

    /// Replaces the whole content with `new`'s, like a resync: `new`'s
    /// nodes are published as the tree (release ordering, so a reader sees
    /// either the old content or the new one, never a mix), and every old
    /// node is handed to [`Platform::free_after_grace_period`] (readers may
    /// still be in it). The writer's pool is kept, and `new`'s pool joins it.
    /// Never allocates.
    pub fn replace(&mut self, new: RangeTree<V, P>) {
        let (root, height, len, mut nst, platform) = new.into_parts();
        drop(platform);
        let st = self.st();
        // `new`'s nodes carry generations of `new`'s writer: move past all of
        // them so that none looks unpublished to our next write.
        // INVARIANT: Every node of the tree, old or new, now has an older
        // generation than the next write's.
        st.gen = st.gen.max(nst.gen).wrapping_add(1);
        // Move `new`'s pool over, node by node (no memory is freed).
        while let Some(n) = nst.pool {
            nst.pool = n.hdr().rcu.link();
            n.hdr().rcu.set_link(st.pool);
            st.pool = Some(n);
            st.pool_len += 1;
        }
        st.pool_cap = st.pool_cap.max(nst.pool_cap);
        self.install(root, height, len);
    }

    /// Removes every entry; the old nodes are freed after a grace period.
    /// Never allocates; the pool is kept.
    pub fn clear(&mut self) {
        self.install(None, 0, 0);
    }

    /// Publishes `root` (a valid tree of `height` levels and `len` entries,
    /// owned by nobody else) as the whole tree and retires every old node.
    fn install(&mut self, root: Option<NodePtr>, height: usize, len: usize) {
        let sh = self.sh();
        let old = sh.root();
        let st = self.st();
        st.height = height;
        st.len = len;
        sh.height.store(height, Ordering::Relaxed);
        // Release: the new nodes' content happens before a reader's acquire
        // load of the root sees them.
        // INVARIANT: `root` is a valid tree of `height` levels and `len`
        // entries, immutable from now on (its nodes are of older generations).
        sh.root.store(NodePtr::as_raw(root), Ordering::Release);
        sh.len.store(len, Ordering::Relaxed);
        if let Some(o) = old {
            // No new reader can reach the old tree; current ones may still
            // be in it, so its nodes go after a grace period.
            free_subtree::<V, P>(&sh.platform, o, true);
        }
    }

    /// See [`RangeTree::fill_pool`].
    pub fn fill_pool(&mut self, count: usize, gfp: Gfp) -> Result<(), AllocError> {
        let sh = self.sh();
        Wr::<V, P>::fill(sh, self.st(), count, gfp)
    }

    /// Nodes in the pool.
    pub fn pool_len(&mut self) -> usize {
        self.st().pool_len
    }

    /// See [`RangeTree::worst_case_nodes_per_store`].
    pub fn worst_case_nodes_per_store(&mut self) -> usize {
        Wr::<V, P>::worst_case(self.st())
    }

    /// See [`RangeTree::release_pool`].
    pub fn release_pool(&mut self) {
        let sh = self.sh();
        Wr::<V, P>::release(sh, self.st());
    }

    /// A cursor at `index` (its stores publish like [`RcuWriter::store`]).
    pub fn cursor(&mut self, index: usize) -> Cursor<'_, V, P> {
        let sh = self.sh();
        Cursor::new(sh, self.st(), index)
    }

    /// Copies the tree into a new plain-mode tree in `O(n)`.
    ///
    /// As the one writer we keep every node alive (only a writer retires
    /// nodes), so no read guard is needed and `gfp` may sleep.
    pub fn dup(&self, gfp: Gfp) -> Result<RangeTree<V, P>, AllocError>
    where
        P: Clone,
    {
        let sh = self.sh();
        let root = self.root_ref();
        let h = super::validate::height_of(root);
        let n = Iter::<V>::new(root, 0, usize::MAX).count();
        super::build::dup_from::<V, P>(sh.platform.clone(), root, h, n, gfp)
    }

    /// The root, readable while the writer is borrowed (no guard needed:
    /// only the writer frees).
    fn root_ref(&self) -> Option<NodeRef<'_, V>> {
        // SAFETY: We hold the writer flag. Nodes are changed (only unpublished
        // ones, in RCU mode) and freed only by its holder, through `&mut
        // self`, which the borrow of `self` excludes for `'_`.
        self.sh().root().map(|r| unsafe { NodeRef::new(r) })
    }

    /// The entry containing `index` (no guard needed: only the writer frees).
    pub fn load_range(&self, index: usize) -> Option<(usize, usize, V)> {
        read::load_range(self.root_ref(), index)
    }

    /// The value of the entry containing `index`.
    pub fn load(&self, index: usize) -> Option<V> {
        self.load_range(index).map(|e| e.2)
    }

    /// See [`RangeTree::find`].
    pub fn find(&self, from: usize, max: usize) -> Option<(usize, usize, V)> {
        read::find(self.root_ref(), from, max)
    }

    /// See [`RangeTree::find_rev`].
    pub fn find_rev(&self, from: usize, min: usize) -> Option<(usize, usize, V)> {
        read::find_rev(self.root_ref(), from, min)
    }

    /// All entries in order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter::new(self.root_ref(), 0, usize::MAX)
    }

    /// Entries overlapping `[first, last]`.
    pub fn range(&self, first: usize, last: usize) -> Iter<'_, V> {
        Iter::new(self.root_ref(), first, last)
    }

    /// See [`RangeTree::empty_area`].
    pub fn empty_area(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        gap::empty_area(self.root_ref(), min, max, size)
    }

    /// See [`RangeTree::empty_area_rev`].
    pub fn empty_area_rev(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        gap::empty_area_rev(self.root_ref(), min, max, size)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.sh().len.load(Ordering::Relaxed)
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Levels of nodes.
    pub fn height(&self) -> usize {
        self.sh().height.load(Ordering::Relaxed)
    }

    /// Nodes in the tree.
    pub fn node_count(&self) -> usize {
        count_nodes(self.root_ref())
    }

    /// Bytes of node memory in the tree.
    pub fn bytes_used(&self) -> usize {
        self.node_count() * super::node::node_layout::<V>().size()
    }

    /// Checks every invariant, including the entry count.
    pub fn validate(&self) -> Result<(), ValidateError> {
        let sh = self.sh();
        super::validate::validate(
            self.root_ref(),
            sh.height.load(Ordering::Relaxed),
            self.len(),
        )
    }

    /// See [`RangeTree::dump`].
    pub fn dump(&self, out: &mut impl fmt::Write) -> fmt::Result
    where
        V: fmt::Debug,
    {
        let sh = self.sh();
        super::dump::dump(
            self.root_ref(),
            sh.height.load(Ordering::Relaxed),
            self.len(),
            out,
        )
    }
}

impl<V: Copy + Send + Sync, P: Platform> Drop for RcuWriter<'_, V, P> {
    fn drop(&mut self) {
        self.tree.writer.store(false, Ordering::Release);
    }
}

impl<V: Copy, P: Platform> RangeTree<V, P> {
    /// Switches to RCU mode, for good.
    pub fn into_rcu(self) -> RcuRangeTree<V, P>
    where
        V: Send + Sync,
    {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so both fields are moved out
        // exactly once.
        let (sh, mut st) = unsafe { (core::ptr::read(&this.sh), core::ptr::read(&this.st)) };
        st.rcu = true;
        // Nodes made so far belong to older generations: published.
        st.gen = st.gen.wrapping_add(1);
        RcuRangeTree::from_parts(sh, st)
    }
}
