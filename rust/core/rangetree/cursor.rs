// SPDX-License-Identifier: GPL-2.0

//! Cursors: a position that remembers its walk, like `ma_state` or the VMA
//! iterator.
//!
//! A store through a cursor starts from the remembered leaf when the new
//! range belongs there and the leaf keeps its fill limits: no walk from the
//! root, only the summaries on the remembered path are refreshed. Otherwise
//! it falls back to a store from the root and walks again.

use super::node::{Leaf, NodeRef};
use super::pool::{Shared, WState, Wr};
use super::read;
use super::write::Path;
use super::{Gfp, Platform, StoreError};

/// A position in a tree, with the exclusive right to change the tree.
///
/// # Invariants
///
/// `path` is a walk towards `index` in the current tree (it is refreshed by
/// every change made through the cursor, and nothing else can change the
/// tree while the cursor holds the writer state).
pub struct Cursor<'a, V: Copy, P: Platform> {
    sh: &'a Shared<V, P>,
    st: &'a mut WState,
    path: Path,
    index: usize,
}

impl<'a, V: Copy, P: Platform> Cursor<'a, V, P> {
    /// A cursor at `index`.
    pub(crate) fn new(sh: &'a Shared<V, P>, st: &'a mut WState, index: usize) -> Self {
        // INVARIANT: A fresh walk towards `index`.
        let path = Path::walk(sh.root_ref(st), index);
        Self {
            sh,
            st,
            path,
            index,
        }
    }

    /// The position.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Moves to `index` (walks from the root).
    pub fn set_index(&mut self, index: usize) {
        self.index = index;
        // INVARIANT: A fresh walk towards `index`.
        self.path = Path::walk(self.sh.root_ref(self.st), index);
    }

    /// The root, readable while the cursor is borrowed.
    fn root_ref(&self) -> Option<NodeRef<'_, V>> {
        self.sh.root_ref(self.st)
    }

    /// The remembered leaf, readable while the cursor is borrowed.
    fn leaf(&self) -> Option<&Leaf<V>> {
        let n = self.path.leaf()?;
        // SAFETY: By the type invariant `n` is the leaf of a walk in the
        // current tree, whose values are `V`; the tree changes only through
        // `&mut` to the writer state we hold, which the borrow of `self`
        // excludes for the result's lifetime.
        Some(unsafe { n.leaf::<V>() })
    }

    /// The entry containing the position, from the remembered leaf.
    pub fn current(&self) -> Option<(usize, usize, V)> {
        let l = self.leaf()?;
        let k = l.find_hi(self.index);
        (k < l.count() && l.lo[k] <= self.index).then(|| (l.lo[k], l.hi[k], l.pl(k).0))
    }

    /// Moves to the next entry (the first starting after the position) and
    /// returns it; stays put at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<(usize, usize, V)> {
        let l = self.leaf()?;
        let mut k = l.find_hi(self.index);
        while k < l.count() && l.lo[k] <= self.index {
            k += 1;
        }
        if k < l.count() {
            // The entry is in the same leaf, so the walk stays valid.
            let e = (l.lo[k], l.hi[k], l.pl(k).0);
            self.index = e.0;
            return Some(e);
        }
        let mut e = read::find(self.root_ref(), self.index.checked_add(1)?, usize::MAX)?;
        if e.0 <= self.index {
            e = read::find(self.root_ref(), e.1.checked_add(1)?, usize::MAX)?;
        }
        self.set_index(e.0);
        Some(e)
    }

    /// Moves to the previous entry (the last ending before the entry at the
    /// position, or before the position) and returns it; stays put at the
    /// start.
    pub fn prev(&mut self) -> Option<(usize, usize, V)> {
        let start = self.current().map_or(self.index, |e| e.0);
        let e = read::find_rev(self.root_ref(), start.checked_sub(1)?, 0)?;
        self.set_index(e.0);
        Some(e)
    }

    /// Stores `value` over `[first, last]` (see `RangeTree::store`) and
    /// moves to `first`. Starts from the remembered leaf when it can.
    pub fn store(
        &mut self,
        first: usize,
        last: usize,
        value: Option<V>,
        gfp: Gfp,
    ) -> Result<(), StoreError> {
        if first > last {
            return Err(StoreError::InvalidRange);
        }
        Wr::<V, P>::reserve(self.sh, self.st, gfp)?;
        if !self.path.covers(self.leaf().map(|l| l.summary().hi), first) {
            self.path = Path::walk(self.sh.root_ref(self.st), first);
        }
        self.index = first;
        let mut w = Wr::new(self.sh, self.st, gfp);
        w.keep_path = true;
        if w.store_at(&mut self.path, first, last, value).is_none() {
            w.abort();
            // INVARIANT: The tree is as before; walk again.
            self.path = Path::walk(self.sh.root_ref(self.st), first);
            return Err(StoreError::Alloc);
        }
        // INVARIANT: `store_at` leaves `path` a walk towards `first`.
        Ok(())
    }

    /// Erases the entry at the position, if any, and returns it.
    pub fn erase(&mut self, gfp: Gfp) -> Result<Option<(usize, usize, V)>, StoreError> {
        let e = match self.current() {
            Some(e) => e,
            None => return Ok(None),
        };
        let index = self.index;
        self.store(e.0, e.1, None, gfp)?;
        self.set_index(index);
        Ok(Some(e))
    }
}
