// SPDX-License-Identifier: GPL-2.0

//! Lookups and ordered iteration.
//!
//! Every function here takes a root as a [`NodeRef`]: whoever made it (a
//! borrowed plain tree, a read guard in RCU mode, the writer) vouched that
//! the nodes stay alive and unchanged while it is used, so the walks below
//! need no `unsafe`.

use super::node::{InnerRef, Leaf, NodeRef, View, MAX_HEIGHT};

/// Entry containing `index`.
pub(crate) fn load_range<V: Copy>(
    root: Option<NodeRef<'_, V>>,
    index: usize,
) -> Option<(usize, usize, V)> {
    let mut n = root?;
    loop {
        let i = match n.view() {
            View::Leaf(l) => {
                let k = l.find_hi(index);
                if k < l.count() && l.lo[k] <= index {
                    return Some((l.lo[k], l.hi[k], l.pl(k).0));
                }
                return None;
            }
            View::Inner(i) => i,
        };
        let k = i.find_hi(index);
        if k >= i.count() || i.lo[k] > index {
            return None;
        }
        n = i.child(k);
    }
}

/// First entry with `last >= from` and `first <= max` (`mt_find`).
pub(crate) fn find<V: Copy>(
    root: Option<NodeRef<'_, V>>,
    from: usize,
    max: usize,
) -> Option<(usize, usize, V)> {
    if from > max {
        return None;
    }
    let mut n = root?;
    loop {
        let i = match n.view() {
            View::Leaf(l) => {
                let k = l.find_hi(from);
                if k < l.count() && l.lo[k] <= max {
                    return Some((l.lo[k], l.hi[k], l.pl(k).0));
                }
                return None;
            }
            View::Inner(i) => i,
        };
        let k = i.find_hi(from);
        if k >= i.count() || i.lo[k] > max {
            return None;
        }
        n = i.child(k);
    }
}

/// Last entry with `first <= from` and `last >= min` (`mt_find_rev` style).
pub(crate) fn find_rev<V: Copy>(
    root: Option<NodeRef<'_, V>>,
    from: usize,
    min: usize,
) -> Option<(usize, usize, V)> {
    if from < min {
        return None;
    }
    let mut n = root?;
    loop {
        let i = match n.view() {
            View::Leaf(l) => {
                let mut k = l.count();
                while k > 0 && l.lo[k - 1] > from {
                    k -= 1;
                }
                if k > 0 && l.hi[k - 1] >= min {
                    return Some((l.lo[k - 1], l.hi[k - 1], l.pl(k - 1).0));
                }
                return None;
            }
            View::Inner(i) => i,
        };
        let mut k = i.count();
        while k > 0 && i.lo[k - 1] > from {
            k -= 1;
        }
        if k == 0 || i.hi[k - 1] < min {
            return None;
        }
        n = i.child(k - 1);
    }
}

/// Ordered iterator over the entries overlapping a window.
///
/// Entries are returned whole (not clipped to the window). It walks one
/// snapshot: the root is read once when the iterator is made.
pub struct Iter<'a, V> {
    /// Inner nodes from the root down, with the child slot being visited.
    stack: [Option<(InnerRef<'a, V>, u8)>; MAX_HEIGHT],
    depth: usize,
    leaf: Option<&'a Leaf<V>>,
    slot: usize,
    last: usize,
}

impl<'a, V: Copy> Iter<'a, V> {
    /// An iterator over entries overlapping `[first, last]`.
    pub(crate) fn new(root: Option<NodeRef<'a, V>>, first: usize, last: usize) -> Self {
        let mut it = Self {
            stack: [None; MAX_HEIGHT],
            depth: 0,
            leaf: None,
            slot: 0,
            last,
        };
        if first > last {
            return it;
        }
        let mut n = match root {
            Some(n) => n,
            None => return it,
        };
        loop {
            let i = match n.view() {
                View::Leaf(l) => {
                    it.slot = l.find_hi(first);
                    it.leaf = Some(l);
                    return it;
                }
                View::Inner(i) => i,
            };
            let k = i.find_hi(first);
            if k >= i.count() || it.depth >= MAX_HEIGHT {
                return it;
            }
            it.stack[it.depth] = Some((i, k as u8));
            it.depth += 1;
            n = i.child(k);
        }
    }

    /// Moves to the first slot of the next leaf, if any.
    fn next_leaf(&mut self) -> Option<&'a Leaf<V>> {
        // Climb to the deepest level with a next child.
        loop {
            if self.depth == 0 {
                return None;
            }
            let (i, k) = self.stack[self.depth - 1]?;
            let next = usize::from(k) + 1;
            if next < i.count() {
                self.stack[self.depth - 1] = Some((i, next as u8));
                let mut c = i.child(next);
                // Descend leftmost.
                loop {
                    let ci = match c.view() {
                        View::Leaf(l) => return Some(l),
                        View::Inner(ci) => ci,
                    };
                    if self.depth >= MAX_HEIGHT {
                        return None;
                    }
                    self.stack[self.depth] = Some((ci, 0));
                    self.depth += 1;
                    c = ci.child(0);
                }
            }
            self.depth -= 1;
        }
    }
}

impl<V: Copy> Iterator for Iter<'_, V> {
    type Item = (usize, usize, V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let l = self.leaf?;
            let k = self.slot;
            if k < l.count() {
                let e = (l.lo[k], l.hi[k], l.pl(k).0);
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
