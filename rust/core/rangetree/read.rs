// SPDX-License-Identifier: GPL-2.0

//! Lookups and ordered iteration.
//!
//! Every function here takes a root and only reads nodes. Callers guarantee
//! that the nodes stay alive and unchanged while they run: plain mode by
//! borrowing the tree, RCU mode by holding a read guard (nodes reachable from
//! a root loaded under the guard are immutable and freed only after a grace
//! period). That is the safety argument for every `unsafe` below, which only
//! reinterprets a [`NodePtr`] as the node kind its header says.

use core::marker::PhantomData;

use super::node::{NodePtr, MAX_HEIGHT};

/// `(first, last, value)` of leaf slot `k`.
///
/// # Safety
///
/// `n` is a live leaf of a tree with values `V`, unchanged meanwhile, and
/// `k < n.count()`.
#[inline]
unsafe fn entry<V: Copy>(n: NodePtr, k: usize) -> (usize, usize, V) {
    // SAFETY: Guaranteed by the caller.
    let l = unsafe { n.leaf::<V>() };
    (l.lo[k], l.hi[k], l.pl(k).0)
}

/// Entry containing `index`.
pub(crate) fn load_range<V: Copy>(
    root: Option<NodePtr>,
    index: usize,
) -> Option<(usize, usize, V)> {
    let mut n = root?;
    loop {
        if n.is_leaf() {
            // SAFETY: See the module documentation.
            let l = unsafe { n.leaf::<V>() };
            let k = l.find_hi(index);
            if k < l.count() && l.lo[k] <= index {
                return Some((l.lo[k], l.hi[k], l.pl(k).0));
            }
            return None;
        }
        // SAFETY: See the module documentation.
        let i = unsafe { n.inner() };
        let k = i.find_hi(index);
        if k >= i.count() || i.lo[k] > index {
            return None;
        }
        n = i.pl(k).child;
    }
}

/// First entry with `last >= from` and `first <= max` (`mt_find`).
pub(crate) fn find<V: Copy>(
    root: Option<NodePtr>,
    from: usize,
    max: usize,
) -> Option<(usize, usize, V)> {
    if from > max {
        return None;
    }
    let mut n = root?;
    loop {
        if n.is_leaf() {
            // SAFETY: See the module documentation.
            let l = unsafe { n.leaf::<V>() };
            let k = l.find_hi(from);
            if k < l.count() && l.lo[k] <= max {
                return Some((l.lo[k], l.hi[k], l.pl(k).0));
            }
            return None;
        }
        // SAFETY: See the module documentation.
        let i = unsafe { n.inner() };
        let k = i.find_hi(from);
        if k >= i.count() || i.lo[k] > max {
            return None;
        }
        n = i.pl(k).child;
    }
}

/// Last entry with `first <= from` and `last >= min` (`mt_find_rev` style).
pub(crate) fn find_rev<V: Copy>(
    root: Option<NodePtr>,
    from: usize,
    min: usize,
) -> Option<(usize, usize, V)> {
    if from < min {
        return None;
    }
    let mut n = root?;
    loop {
        if n.is_leaf() {
            // SAFETY: See the module documentation.
            let l = unsafe { n.leaf::<V>() };
            let mut k = l.count();
            while k > 0 && l.lo[k - 1] > from {
                k -= 1;
            }
            if k > 0 && l.hi[k - 1] >= min {
                return Some((l.lo[k - 1], l.hi[k - 1], l.pl(k - 1).0));
            }
            return None;
        }
        // SAFETY: See the module documentation.
        let i = unsafe { n.inner() };
        let mut k = i.count();
        while k > 0 && i.lo[k - 1] > from {
            k -= 1;
        }
        if k == 0 || i.hi[k - 1] < min {
            return None;
        }
        n = i.pl(k - 1).child;
    }
}

/// Ordered iterator over the entries overlapping a window.
///
/// Entries are returned whole (not clipped to the window). It walks one
/// snapshot: the root is read once when the iterator is made.
pub struct Iter<'a, V> {
    /// Inner nodes from the root down, with the child slot being visited.
    stack: [(Option<NodePtr>, u8); MAX_HEIGHT],
    depth: usize,
    leaf: Option<NodePtr>,
    slot: usize,
    last: usize,
    _p: PhantomData<&'a V>,
}

impl<'a, V: Copy> Iter<'a, V> {
    /// An iterator over entries overlapping `[first, last]`.
    pub(crate) fn new(root: Option<NodePtr>, first: usize, last: usize) -> Self {
        let mut it = Self {
            stack: [(None, 0); MAX_HEIGHT],
            depth: 0,
            leaf: None,
            slot: 0,
            last,
            _p: PhantomData,
        };
        if first > last {
            return it;
        }
        let mut n = match root {
            Some(n) => n,
            None => return it,
        };
        while !n.is_leaf() {
            // SAFETY: See the module documentation.
            let i = unsafe { n.inner() };
            let k = i.find_hi(first);
            if k >= i.count() || it.depth >= MAX_HEIGHT {
                return it;
            }
            it.stack[it.depth] = (Some(n), k as u8);
            it.depth += 1;
            n = i.pl(k).child;
        }
        // SAFETY: See the module documentation.
        it.slot = unsafe { n.leaf::<V>() }.find_hi(first);
        it.leaf = Some(n);
        it
    }

    /// Moves to the first slot of the next leaf, if any.
    fn next_leaf(&mut self) -> Option<NodePtr> {
        // Climb to the deepest level with a next child.
        loop {
            if self.depth == 0 {
                return None;
            }
            let (n, k) = self.stack[self.depth - 1];
            let n = n?;
            // SAFETY: See the module documentation.
            let i = unsafe { n.inner() };
            let next = usize::from(k) + 1;
            if next < i.count() {
                self.stack[self.depth - 1].1 = next as u8;
                let mut c = i.pl(next).child;
                // Descend leftmost.
                while !c.is_leaf() {
                    if self.depth >= MAX_HEIGHT {
                        return None;
                    }
                    self.stack[self.depth] = (Some(c), 0);
                    self.depth += 1;
                    // SAFETY: See the module documentation.
                    c = unsafe { c.inner() }.pl(0).child;
                }
                return Some(c);
            }
            self.depth -= 1;
        }
    }
}

impl<V: Copy> Iterator for Iter<'_, V> {
    type Item = (usize, usize, V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let n = self.leaf?;
            if self.slot < n.count() {
                // SAFETY: See the module documentation; `slot < count`.
                let e = unsafe { entry::<V>(n, self.slot) };
                if e.0 > self.last {
                    self.leaf = None;
                    return None;
                }
                self.slot += 1;
                return Some(e);
            }
            self.leaf = self.next_leaf();
            self.slot = 0;
        }
    }
}
