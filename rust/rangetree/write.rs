// SPDX-License-Identifier: GPL-2.0

//! Stores: the leaf fast path and the general rewrite.
//!
//! A store of `value` (or of nothing, to clear) over `[first, last]` removes
//! or trims every entry overlapping the range and, for a value, inserts the
//! new entry, like `mas_store()`.
//!
//! * Fast path ([`Wr::try_fast`]): all entries touched are in one leaf and the
//!   leaf stays within its fill limits. The leaf is rewritten (in place in
//!   plain mode, as a copy in RCU mode) and the summaries on the walked path
//!   are refreshed; in plain mode that stops at the first unchanged summary.
//! * General path ([`Wr::rewrite`]): recursion from the root over the (at
//!   most two) children cut by the range's ends; children wholly inside are
//!   dropped whole. Each level gets back 0, 1 or 2 nodes for each child it
//!   recursed into, merges or redistributes underfull ones with a neighbour
//!   and splits itself if it overflows, like `mas_wr_spanning_store()` and
//!   `mas_rebalance()` together.
//!
//! All node memory comes from the pool, filled beforehand with
//! [`Wr::worst_case`] nodes, so nothing here can fail with a correct bound.
//!
//! Nodes are accessed under the writer's exclusive rights: the writer is the
//! only one changing nodes, and it changes only nodes [`Wr::make_mut`] or
//! [`Wr::take`] handed it (its own in plain mode, unpublished ones in RCU
//! mode). That is the argument for every `unsafe` below.

use super::node::{
    geo, Buf, Kid, Leaf, NodePtr, Payload, Val, INNER_SLOTS, LEAF_SLOTS, MAX_HEIGHT,
};
use super::pool::Wr;
use super::Platform;

const LEAF_BUF: usize = LEAF_SLOTS + 2;
const INNER_BUF: usize = INNER_SLOTS + 4;
const LEAF_PAIR: usize = 2 * LEAF_SLOTS;
const INNER_PAIR: usize = 2 * INNER_SLOTS;

/// A subtree's replacement: 0, 1 or 2 nodes of the same level.
#[derive(Clone, Copy)]
struct Out {
    n: usize,
    node: [Option<NodePtr>; 2],
}

impl Out {
    const NONE: Out = Out {
        n: 0,
        node: [None, None],
    };

    fn one(a: NodePtr) -> Self {
        Out {
            n: 1,
            node: [Some(a), None],
        }
    }

    fn two(a: NodePtr, b: NodePtr) -> Self {
        Out {
            n: 2,
            node: [Some(a), Some(b)],
        }
    }
}

/// A walk from the root to the leaf where `index` belongs (the first child
/// whose `hi` reaches it, else the last child), like an `ma_state`.
pub(crate) struct Path {
    /// Levels walked (the tree's height).
    pub(crate) h: usize,
    /// The node at each level.
    pub(crate) node: [Option<NodePtr>; MAX_HEIGHT],
    /// The child slot taken at each inner level.
    pub(crate) idx: [u8; MAX_HEIGHT],
    /// `lo` of the leaf after this one, if any (its first entry's start).
    pub(crate) next_lo: Option<usize>,
    /// `hi` of the leaf before this one, if any (its last entry's end).
    pub(crate) prev_hi: Option<usize>,
    /// Whether the leaf is the rightmost one.
    pub(crate) rightmost: bool,
}

impl Path {
    /// Walks from `root` towards `index`.
    pub(crate) fn walk(root: Option<NodePtr>, index: usize) -> Self {
        let mut p = Path {
            h: 0,
            node: [None; MAX_HEIGHT],
            idx: [0; MAX_HEIGHT],
            next_lo: None,
            prev_hi: None,
            rightmost: true,
        };
        let mut n = match root {
            Some(n) => n,
            None => return p,
        };
        loop {
            if p.h >= MAX_HEIGHT {
                p.h = 0;
                return p;
            }
            p.node[p.h] = Some(n);
            p.h += 1;
            if n.is_leaf() {
                return p;
            }
            // SAFETY: See the module documentation (read-only access).
            let i = unsafe { n.inner() };
            let c = i.count();
            let k = i.find_hi(index).min(c - 1);
            p.idx[p.h - 1] = k as u8;
            if k + 1 < c {
                p.next_lo = Some(i.lo[k + 1]);
                p.rightmost = false;
            }
            if k > 0 {
                p.prev_hi = Some(i.hi[k - 1]);
            }
            n = i.pl(k).child;
        }
    }

    /// The leaf reached.
    pub(crate) fn leaf(&self) -> Option<NodePtr> {
        self.node[self.h.checked_sub(1)?]
    }

    /// Whether a walk towards `index` would reach the same leaf.
    pub(crate) fn covers<V: Copy>(&self, index: usize) -> bool {
        let leaf = match self.leaf() {
            Some(l) => l,
            None => return true,
        };
        // SAFETY: The path's owner keeps the tree alive and unchanged.
        let hi = unsafe { leaf.summary::<V>() }.hi;
        self.prev_hi.is_none_or(|ph| ph < index) && (hi >= index || self.next_lo.is_none())
    }
}

/// The content of `leaf` after storing `val` over `[f, l]`, and whether the
/// new entry ends up last.
fn leaf_apply<V: Copy>(
    leaf: &Leaf<V>,
    f: usize,
    l: usize,
    val: Option<V>,
) -> (Buf<Val<V>, LEAF_BUF>, bool) {
    let mut e = Buf::new();
    let n = leaf.count();
    let mut k = 0;
    while k < n && leaf.lo[k] < f {
        // `lo[k] < f` so `f > 0`.
        e.push(leaf.lo[k], leaf.hi[k].min(f - 1), leaf.pl(k));
        k += 1;
    }
    if let Some(v) = val {
        e.push(f, l, Val(v));
    }
    let mut appended = val.is_some();
    // Only the entry before `k` may also reach past `l`.
    for r in k.saturating_sub(1)..n {
        if leaf.hi[r] > l {
            // `hi[r] > l` so `l < usize::MAX`.
            e.push(leaf.lo[r].max(l + 1), leaf.hi[r], leaf.pl(r));
            appended = false;
        }
    }
    (e, appended)
}

impl<V: Copy, P: Platform> Wr<'_, V, P> {
    /// Stores `val` over `[f, l]` (`f <= l`). The pool must hold
    /// [`Wr::worst_case`] nodes. Returns `None` only if that bound was wrong
    /// and no atomic memory was left either.
    pub(crate) fn store(&mut self, f: usize, l: usize, val: Option<V>) -> Option<()> {
        let mut path = Path::walk(self.root(), f);
        self.store_at(&mut path, f, l, val)
    }

    /// Like [`Wr::store`], starting from an existing walk (a cursor's) that
    /// is still valid. On return `path` is valid for `f` again.
    pub(crate) fn store_at(
        &mut self,
        path: &mut Path,
        f: usize,
        l: usize,
        val: Option<V>,
    ) -> Option<()> {
        if path.h == 0 {
            // Empty tree.
            if let Some(v) = val {
                let n = self.take(true)?;
                // SAFETY: `n` is fresh and ours (module documentation).
                let leaf = unsafe { n.leaf_mut::<V>() };
                leaf.set(0, f, l, Val(v));
                leaf.hdr.count = 1;
                self.delta += 1;
                self.publish(Some(n), 1);
            } else {
                self.publish(None, 0);
            }
            *path = Path::walk(self.root(), f);
            return Some(());
        }
        if self.try_fast(path, f, l, val)? {
            return Some(());
        }
        self.store_general(f, l, val)?;
        *path = Path::walk(self.root(), f);
        Some(())
    }

    /// The fast path: one leaf, fill limits kept. Returns `Some(false)` if it
    /// does not apply (nothing changed then).
    pub(crate) fn try_fast(
        &mut self,
        path: &mut Path,
        f: usize,
        l: usize,
        val: Option<V>,
    ) -> Option<bool> {
        let h = path.h;
        let leafp = path.leaf()?;
        if path.next_lo.is_some_and(|nl| l >= nl) {
            return Some(false);
        }
        // SAFETY: See the module documentation (read-only access).
        let leaf = unsafe { leafp.leaf::<V>() };
        let (e, _) = leaf_apply(leaf, f, l, val);
        let nc = e.n;
        let ok =
            (1..=LEAF_SLOTS).contains(&nc) && (nc >= geo(true).min || h == 1 || path.rightmost);
        if !ok {
            return Some(false);
        }
        self.delta += nc as isize - leaf.count() as isize;
        let m = self.make_mut(leafp)?;
        // SAFETY: `make_mut` handed us `m` (module documentation).
        let ml = unsafe { m.leaf_mut::<V>() };
        e.write_to(ml, 0, nc);
        let mut s = ml.summary();
        path.node[h - 1] = Some(m);
        let mut child = m;
        for d in (0..h - 1).rev() {
            let p = path.node[d]?;
            let k = usize::from(path.idx[d]);
            // SAFETY: See the module documentation (read-only access).
            let pi = unsafe { p.inner() };
            let old = pi.pl(k);
            if old.child == child && pi.lo[k] == s.lo && pi.hi[k] == s.hi && old.gap == s.gap {
                // Changed in place with the same summary: nothing above changes.
                break;
            }
            let pm = self.make_mut(p)?;
            // SAFETY: `make_mut` handed us `pm` (module documentation).
            let pmi = unsafe { pm.inner_mut() };
            pmi.set(k, s.lo, s.hi, Kid { gap: s.gap, child });
            s = pmi.summary();
            path.node[d] = Some(pm);
            child = pm;
        }
        let h = self.st.height;
        self.publish(path.node[0], h);
        Some(true)
    }

    /// The general path from the root.
    fn store_general(&mut self, f: usize, l: usize, val: Option<V>) -> Option<()> {
        let root = self.root()?;
        let h = self.st.height;
        let out = self.rewrite(root, true, f, l, val)?;
        let (mut root, mut h) = match out.n {
            0 => (None, 0),
            1 => (out.node[0], h),
            _ => {
                let r = self.take(false)?;
                let mut kb: Buf<Kid, INNER_BUF> = Buf::new();
                for c in out.node.iter().flatten() {
                    self.push_kid(&mut kb, *c);
                }
                // SAFETY: `r` is fresh and ours (module documentation).
                kb.write_to(unsafe { r.inner_mut() }, 0, kb.n);
                (Some(r), h + 1)
            }
        };
        // A root with one child gives way to the child.
        while let Some(r) = root {
            if r.is_leaf() || r.count() > 1 {
                break;
            }
            // SAFETY: See the module documentation (read-only access).
            let c = unsafe { r.inner() }.pl(0).child;
            self.retire(r);
            root = Some(c);
            h -= 1;
        }
        self.publish(root, h);
        Some(())
    }

    /// Appends child `c` with its summary.
    fn push_kid<const M: usize>(&self, kb: &mut Buf<Kid, M>, c: NodePtr) {
        // SAFETY: `c` is a node of this tree, not being changed right now.
        let s = unsafe { c.summary::<V>() };
        kb.push(
            s.lo,
            s.hi,
            Kid {
                gap: s.gap,
                child: c,
            },
        );
    }

    /// Rewrites the subtree `n` for the store. `rightmost`: `n` is the
    /// rightmost node of its level (exempt from minimum fill).
    fn rewrite(
        &mut self,
        n: NodePtr,
        rightmost: bool,
        f: usize,
        l: usize,
        val: Option<V>,
    ) -> Option<Out> {
        if n.is_leaf() {
            self.rewrite_leaf(n, rightmost, f, l, val)
        } else {
            self.rewrite_inner(n, rightmost, f, l, val)
        }
    }

    /// [`Wr::rewrite`] for a leaf.
    fn rewrite_leaf(
        &mut self,
        n: NodePtr,
        rightmost: bool,
        f: usize,
        l: usize,
        val: Option<V>,
    ) -> Option<Out> {
        // SAFETY: See the module documentation (read-only access).
        let leaf = unsafe { n.leaf::<V>() };
        let (e, appended) = leaf_apply(leaf, f, l, val);
        self.delta += e.n as isize - leaf.count() as isize;
        if e.n == 0 {
            self.retire(n);
            return Some(Out::NONE);
        }
        let m = self.make_mut(n)?;
        if e.n <= LEAF_SLOTS {
            // SAFETY: `make_mut` handed us `m` (module documentation).
            e.write_to(unsafe { m.leaf_mut::<V>() }, 0, e.n);
            return Some(Out::one(m));
        }
        // Appending at the right edge keeps the left leaf full.
        let left = if rightmost && appended {
            LEAF_SLOTS
        } else {
            e.n / 2
        };
        let r = self.take(true)?;
        // SAFETY: `m` and `r` are ours (module documentation).
        unsafe {
            e.write_to(m.leaf_mut::<V>(), 0, left);
            e.write_to(r.leaf_mut::<V>(), left, e.n);
        }
        Some(Out::two(m, r))
    }

    /// [`Wr::rewrite`] for an inner node.
    fn rewrite_inner(
        &mut self,
        n: NodePtr,
        rightmost: bool,
        f: usize,
        l: usize,
        val: Option<V>,
    ) -> Option<Out> {
        // SAFETY: See the module documentation (read-only access; `n` itself
        // is changed only through `make_mut` below, after its last read).
        let inner = unsafe { n.inner() };
        let c = inner.count();
        // Children `i..=j` are touched: `i` holds `f` (or is where the new
        // entry goes), `j` holds `l`; those between lie wholly inside.
        let i = inner.find_hi(f).min(c - 1);
        let mut j = c;
        while j > 0 && inner.lo[j - 1] > l {
            j -= 1;
        }
        let j = j.saturating_sub(1).max(i);
        for k in i + 1..j {
            self.retire_subtree(inner.pl(k).child);
        }
        let oi = self.rewrite(inner.pl(i).child, rightmost && i + 1 == c, f, l, val)?;
        let oj = if j != i {
            self.rewrite(inner.pl(j).child, rightmost && j + 1 == c, f, l, None)?
        } else {
            Out::NONE
        };

        // Common case: one child changed and it is fine as it is.
        if j == i && oi.n == 1 {
            if let Some(m) = oi.node[0] {
                if m.count() >= geo(m.is_leaf()).min || (rightmost && i + 1 == c) || c == 1 {
                    // SAFETY: `m` is a node of the new tree, not being changed.
                    let s = unsafe { m.summary::<V>() };
                    let p = self.make_mut(n)?;
                    // SAFETY: `make_mut` handed us `p` (module documentation).
                    unsafe { p.inner_mut() }.set(
                        i,
                        s.lo,
                        s.hi,
                        Kid {
                            gap: s.gap,
                            child: m,
                        },
                    );
                    return Some(Out::one(p));
                }
            }
        }

        let mut kb: Buf<Kid, INNER_BUF> = Buf::new();
        for k in 0..i {
            kb.push(inner.lo[k], inner.hi[k], inner.pl(k));
        }
        for o in [oi, oj] {
            for m in o.node.iter().take(o.n).flatten() {
                self.push_kid(&mut kb, *m);
            }
        }
        let e = kb.n;
        for k in j + 1..c {
            kb.push(inner.lo[k], inner.hi[k], inner.pl(k));
        }
        let at_end = j + 1 == c;
        self.fix_kids(&mut kb, i, e, rightmost)?;
        if kb.n == 0 {
            self.retire(n);
            return Some(Out::NONE);
        }
        let p = self.make_mut(n)?;
        if kb.n <= INNER_SLOTS {
            // SAFETY: `make_mut` handed us `p` (module documentation).
            kb.write_to(unsafe { p.inner_mut() }, 0, kb.n);
            return Some(Out::one(p));
        }
        let left = if rightmost && at_end {
            INNER_SLOTS
        } else {
            kb.n / 2
        };
        let r = self.take(false)?;
        // SAFETY: `p` and `r` are ours (module documentation).
        unsafe {
            kb.write_to(p.inner_mut(), 0, left);
            kb.write_to(r.inner_mut(), left, kb.n);
        }
        Some(Out::two(p, r))
    }

    /// Merges or redistributes underfull children among positions `s..e` of
    /// `kb` (the ones this write made) with a neighbour. `rightmost`: the
    /// parent is the rightmost node of its level, so its last child is
    /// exempt. A single child cannot be fixed here; its parent's parent does.
    fn fix_kids<const M: usize>(
        &mut self,
        kb: &mut Buf<Kid, M>,
        s: usize,
        e: usize,
        rightmost: bool,
    ) -> Option<()> {
        let (mut s, mut e) = (s, e);
        loop {
            let mut found = None;
            for p in s..e.min(kb.n) {
                let ch = kb.pl(p).child;
                let exempt = rightmost && p + 1 == kb.n;
                if kb.n > 1 && !exempt && ch.count() < geo(ch.is_leaf()).min {
                    found = Some(p);
                    break;
                }
            }
            let p = match found {
                Some(p) => p,
                None => return Some(()),
            };
            let a = if p + 1 < kb.n { p } else { p - 1 };
            let merged = self.merge_pair(kb, a, rightmost && a + 2 == kb.n)?;
            s = s.min(a);
            e = if merged {
                e.saturating_sub(1).max(a + 1)
            } else {
                e.max(a + 2)
            };
        }
    }

    /// Merges children `a` and `a + 1` of `kb` into one node if they fit,
    /// else spreads them evenly over two. Returns whether they became one.
    fn merge_pair<const M: usize>(
        &mut self,
        kb: &mut Buf<Kid, M>,
        a: usize,
        pair_rightmost: bool,
    ) -> Option<bool> {
        let x = kb.pl(a).child;
        let y = kb.pl(a + 1).child;
        let (xm, ym) = if x.is_leaf() {
            self.merge_nodes::<Val<V>, LEAF_SLOTS, LEAF_PAIR>(x, y)?
        } else {
            let (xm, ym) = self.merge_nodes::<Kid, INNER_SLOTS, INNER_PAIR>(x, y)?;
            // A child that had a single (possibly underfull) child has
            // neighbours now: fix its level too.
            self.fix_inside(xm, pair_rightmost && ym.is_none())?;
            if let Some(ym) = ym {
                self.fix_inside(ym, pair_rightmost)?;
            }
            (xm, ym)
        };
        // SAFETY: Nodes of the new tree, not being changed right now.
        let sx = unsafe { xm.summary::<V>() };
        kb.set(
            a,
            sx.lo,
            sx.hi,
            Kid {
                gap: sx.gap,
                child: xm,
            },
        );
        match ym {
            Some(ym) => {
                // SAFETY: As above.
                let sy = unsafe { ym.summary::<V>() };
                kb.set(
                    a + 1,
                    sy.lo,
                    sy.hi,
                    Kid {
                        gap: sy.gap,
                        child: ym,
                    },
                );
                Some(false)
            }
            None => {
                kb.remove(a + 1);
                Some(true)
            }
        }
    }

    /// Merges two neighbouring nodes of type `Node<T, N>` (see
    /// [`Wr::merge_pair`]).
    fn merge_nodes<T: Payload, const N: usize, const M: usize>(
        &mut self,
        x: NodePtr,
        y: NodePtr,
    ) -> Option<(NodePtr, Option<NodePtr>)> {
        let mut b: Buf<T, M> = Buf::new();
        // SAFETY: `x` and `y` are `Node<T, N>` (the caller picks `T`, `N` by
        // kind), read-only here.
        unsafe {
            b.extend_from(x.node::<T, N>());
            b.extend_from(y.node::<T, N>());
        }
        let xm = self.make_mut(x)?;
        if b.n <= N {
            // SAFETY: `make_mut` handed us `xm` (module documentation).
            b.write_to(unsafe { xm.node_mut::<T, N>() }, 0, b.n);
            self.retire(y);
            return Some((xm, None));
        }
        let ym = self.make_mut(y)?;
        let half = b.n / 2;
        // SAFETY: `xm` and `ym` are ours (module documentation).
        unsafe {
            b.write_to(xm.node_mut::<T, N>(), 0, half);
            b.write_to(ym.node_mut::<T, N>(), half, b.n);
        }
        Some((xm, Some(ym)))
    }

    /// Fixes underfull children anywhere in inner node `m` (which is ours).
    fn fix_inside(&mut self, m: NodePtr, rightmost: bool) -> Option<()> {
        let mut kb: Buf<Kid, INNER_BUF> = Buf::new();
        // SAFETY: `m` is ours (module documentation).
        kb.extend_from(unsafe { m.inner() });
        let n = kb.n;
        self.fix_kids(&mut kb, 0, n, rightmost)?;
        // SAFETY: `m` is ours; `fix_kids` changed only its children.
        kb.write_to(unsafe { m.inner_mut() }, 0, kb.n);
        Some(())
    }
}
