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
//!   are refreshed: incrementally ([`Node::summary_after`]), stopping in
//!   plain mode at the first unchanged summary, never for the root. The
//!   common cases need no buffer: a store inside one entry (an overwrite,
//!   cutting it in up to three), into free space (an append or insert), and
//!   the removal of one whole entry (an erase).
//! * Sibling path ([`Wr::try_sibling`]): the leaf over- or underflows but,
//!   with a sibling in the same parent, fits in two leaves (spread evenly) or
//!   one (merged): the maple tree's rebalance before a split, which keeps
//!   leaves dense; only the two leaves and the path change.
//! * General path ([`Wr::rewrite`]): recursion from the root over the (at
//!   most two) children cut by the range's ends; children wholly inside are
//!   dropped whole. Each level gets back 0, 1 or 2 nodes for each child it
//!   recursed into, merges or redistributes underfull ones with a neighbour
//!   and splits itself if it overflows, like `mas_wr_spanning_store()` and
//!   `mas_rebalance()` together.
//!
//! All node memory comes from the pool, filled beforehand with
//! [`Wr::worst_case`] nodes, so nothing here can fail with a correct bound;
//! should the pool run dry anyway, the write returns `None` and its caller
//! undoes it with [`Wr::abort`].
//!
//! Nodes are read through [`Wr::node`] and changed through [`Wr::leaf_mut`]
//! and [`Wr::inner_mut`], which check that the write may change the node (any
//! node in plain mode, one [`Wr::make_mut`], [`Wr::make_fresh`] or
//! [`Wr::take`] handed it in RCU mode) and tie the reference to a borrow of
//! the write, so that the borrow checker keeps reads and changes of nodes
//! apart. Should a check fail (a bug), the write fails as if the pool had run
//! dry.

use core::mem::MaybeUninit;

use super::node::{
    geo, Buf, Inner, InnerRef, Kid, Kids, Leaf, Node, NodePtr, NodeRef, Payload, Summary, Val,
    View, INNER_SLOTS, LEAF_SLOTS, MAX_HEIGHT,
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
    pub(crate) fn walk<V: Copy>(root: Option<NodeRef<'_, V>>, index: usize) -> Self {
        let mut p = Self::new();
        p.descend(root, index);
        p
    }

    /// Makes this a walk from `root` towards `index`, in place.
    #[inline]
    pub(crate) fn rewalk<V: Copy>(&mut self, root: Option<NodeRef<'_, V>>, index: usize) {
        *self = Self::new();
        self.descend(root, index);
    }

    /// An empty walk (of an empty tree).
    #[inline]
    pub(crate) fn new() -> Self {
        Path {
            h: 0,
            node: [None; MAX_HEIGHT],
            idx: [0; MAX_HEIGHT],
            next_lo: None,
            prev_hi: None,
            rightmost: true,
        }
    }

    /// Makes this empty walk one from `root` towards `index`; returns the
    /// leaf reached, readable as long as the root.
    #[inline]
    pub(crate) fn descend<'a, V: Copy>(
        &mut self,
        root: Option<NodeRef<'a, V>>,
        index: usize,
    ) -> Option<&'a Leaf<V>> {
        let p = self;
        let mut n = root?;
        loop {
            if p.h >= MAX_HEIGHT {
                p.h = 0;
                return None;
            }
            p.node[p.h] = Some(n.ptr());
            p.h += 1;
            let i = match n.view() {
                View::Leaf(l) => return Some(l),
                View::Inner(i) => i,
            };
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
            n = i.child(k);
        }
    }

    /// The leaf reached.
    pub(crate) fn leaf(&self) -> Option<NodePtr> {
        self.node[self.h.checked_sub(1)?]
    }

    /// Whether a walk towards `index` would reach the same leaf, given the
    /// highest `last` in that leaf (`None` if the walk reached none).
    pub(crate) fn covers(&self, leaf_hi: Option<usize>, index: usize) -> bool {
        let hi = match leaf_hi {
            Some(hi) => hi,
            None => return true,
        };
        self.prev_hi.is_none_or(|ph| ph < index) && (hi >= index || self.next_lo.is_none())
    }
}

/// Appends to `e` the content of `leaf` after storing `val` over
/// `[f, l]`; returns whether the new entry ends up last.
#[inline]
fn leaf_apply_into<V: Copy, const M: usize>(
    leaf: &Leaf<V>,
    f: usize,
    l: usize,
    val: Option<V>,
    e: &mut Buf<Val<V>, M>,
) -> bool {
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
    appended
}

/// What the fast path did.
enum Fast {
    /// The store is done.
    Done,
    /// Nothing changed; the leaf's new content (this many entries) over- or
    /// underflows: try [`Wr::try_sibling`].
    Sibling(usize),
    /// Nothing changed; take the general path.
    General,
}

impl<V: Copy, P: Platform> Wr<'_, V, P> {
    /// Stores `val` over `[f, l]` (`f <= l`). The pool must hold
    /// [`Wr::worst_case`] nodes. Returns `None` only if that bound was wrong
    /// (the pool ran dry); the caller must then call [`Wr::abort`].
    pub(crate) fn store(&mut self, f: usize, l: usize, val: Option<V>) -> Option<()> {
        let mut path = Path::walk(self.root_ref(), f);
        self.store_at(&mut path, f, l, val)
    }

    /// Like [`Wr::store`], starting from an existing walk (a cursor's) that
    /// is still valid. On return `path` is valid for `f` again if
    /// [`Wr::keep_path`] is set (else it is stale).
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
                let leaf = self.leaf_mut(n)?;
                leaf.set(0, f, l, Val(v));
                leaf.hdr.count = 1;
                self.delta += 1;
                self.publish(Some(n), 1);
            } else {
                self.publish(None, 0);
            }
            if self.keep_path {
                path.rewalk(self.root_ref(), f);
            }
            return Some(());
        }
        match self.try_fast(path, f, l, val)? {
            Fast::Done => return Some(()),
            // Called from here, not from `try_fast`, so that their buffers
            // are never on the stack together.
            Fast::Sibling(nc) => {
                if self.try_sibling(path, f, l, val, nc)? {
                    return Some(());
                }
            }
            Fast::General => {}
        }
        self.store_general(f, l, val)?;
        if self.keep_path {
            path.rewalk(self.root_ref(), f);
        }
        Some(())
    }

    /// The fast path: one leaf, fill limits kept. Returns `Some(false)` if it
    /// does not apply (nothing changed then). Not inlined, so that its leaf
    /// buffer is not on the stack during the general path.
    #[inline(never)]
    fn try_fast(&mut self, path: &mut Path, f: usize, l: usize, val: Option<V>) -> Option<Fast> {
        let h = path.h;
        let leafp = path.leaf()?;
        if path.next_lo.is_some_and(|nl| l >= nl) {
            return Some(Fast::General);
        }
        let leaf = self.node(leafp).leaf()?;
        if let Some(v) = val {
            let n = leaf.count();
            let k = leaf.find_hi(f);
            if k < n && leaf.lo[k] <= f && l <= leaf.hi[k] {
                // Inside one entry: it is cut into up to three pieces, in
                // place, no buffer (the same range again: only the value).
                let (lo_k, hi_k, old) = (leaf.lo[k], leaf.hi[k], leaf.pl(k));
                let extra = usize::from(lo_k < f) + usize::from(l < hi_k);
                if n + extra <= LEAF_SLOTS {
                    let m = self.make_mut(leafp)?;
                    let ml = self.leaf_mut(m)?;
                    let mut at = k;
                    if lo_k < f {
                        // `lo_k < f`, so `f > 0`.
                        ml.set(at, lo_k, f - 1, old);
                        at += 1;
                        ml.insert(at, f, l, Val(v));
                    } else {
                        ml.set(at, f, l, Val(v));
                    }
                    if l < hi_k {
                        // `l < hi_k`, so `l < usize::MAX`.
                        ml.insert(at + 1, l + 1, hi_k, old);
                    }
                    self.delta += extra as isize;
                    // Same first, last and gaps: the summary is unchanged.
                    let known = self.leaf_summary_before(path);
                    self.propagate(path, h - 1, m, known)?;
                    return Some(Fast::Done);
                }
            }
            if n < LEAF_SLOTS && (k == n || leaf.lo[k] > l) {
                // Into free space (an append when `k == n`): one slot more,
                // no entry trimmed, no buffer.
                let m = self.make_mut(leafp)?;
                self.leaf_mut(m)?.insert(k, f, l, Val(v));
                self.delta += 1;
                self.propagate(path, h - 1, m, None)?;
                return Some(Fast::Done);
            }
        }
        let n = leaf.count();
        if val.is_none() && n > 1 && (n > geo(true).min || h == 1 || path.rightmost) {
            let k = leaf.find_hi(f);
            if k < n && leaf.lo[k] == f && leaf.hi[k] == l {
                // Exactly one whole entry goes (an erase): no buffer.
                let m = self.make_mut(leafp)?;
                self.leaf_mut(m)?.remove(k);
                self.delta -= 1;
                // Inside the leaf, two gaps and an entry became one gap, at
                // least as large as both: only that gap is new.
                let known = match self.leaf_summary_before(path) {
                    Some(b) if k > 0 && k + 1 < n => {
                        let ml = self.node(m).leaf()?;
                        Some(Summary {
                            // By the order invariant `lo[k] > hi[k - 1]`.
                            gap: b.gap.max(ml.lo[k] - ml.hi[k - 1] - 1),
                            ..b
                        })
                    }
                    _ => None,
                };
                self.propagate(path, h - 1, m, known)?;
                return Some(Fast::Done);
            }
        }
        let mut slot = MaybeUninit::uninit();
        let e: &mut Buf<Val<V>, LEAF_BUF> = Buf::init_in(&mut slot);
        leaf_apply_into(leaf, f, l, val, e);
        let nc = e.n;
        let ok =
            (1..=LEAF_SLOTS).contains(&nc) && (nc >= geo(true).min || h == 1 || path.rightmost);
        if !ok {
            return Some(if nc == 0 {
                Fast::General
            } else {
                Fast::Sibling(nc)
            });
        }
        self.delta += nc as isize - leaf.count() as isize;
        let m = self.make_fresh(leafp)?;
        e.write_to(self.leaf_mut(m)?, 0, nc);
        self.propagate(path, h - 1, m, None)?;
        Some(Fast::Done)
    }

    /// The fast path with a sibling: the leaf's new content `e` overflows or
    /// underflows, so it is spread over the leaf and a sibling in the same
    /// parent (keeping leaves dense instead of splitting, like the maple
    /// tree's rebalance), or merged with it when both fit in one. Returns
    /// `Some(false)` if that does not apply (nothing changed then); on
    /// success `path` is a walk towards `f` again.
    #[inline(never)]
    fn try_sibling(
        &mut self,
        path: &mut Path,
        f: usize,
        l: usize,
        val: Option<V>,
        nc: usize,
    ) -> Option<bool> {
        let h = path.h;
        if h < 2 {
            return Some(false);
        }
        let leafp = path.node[h - 1]?;
        let pp = path.node[h - 2]?;
        let pk = usize::from(path.idx[h - 2]);
        let pi = self.node(pp).inner()?;
        let pc = pi.count();
        if pc < 2 {
            return Some(false);
        }
        let leaf = self.node(leafp).leaf()?;
        // The leaf's new content, before or after the sibling's.
        let mut slot = MaybeUninit::uninit();
        let b: &mut Buf<Val<V>, { LEAF_BUF + LEAF_SLOTS }> = Buf::init_in(&mut slot);
        // The sibling with fewer entries (the right one if equal).
        let right_n = (pk + 1 < pc).then(|| pi.pl(pk + 1).child.count());
        let left_n = (pk > 0).then(|| pi.pl(pk - 1).child.count());
        let left = match (left_n, right_n) {
            (Some(a), Some(b)) => a < b,
            (Some(_), None) => true,
            _ => false,
        };
        let sk = if left { pk - 1 } else { pk + 1 };
        let sib = pi.pl(sk).child;
        let sn = sib.count();
        if nc + sn > 2 * LEAF_SLOTS {
            return Some(false);
        }
        // A sibling of a leaf is a leaf.
        let sl = pi.child(sk).leaf()?;
        if left {
            b.extend_from(sl);
        }
        leaf_apply_into(leaf, f, l, val, b);
        debug_assert_eq!(nc, b.n - if left { sn } else { 0 });
        if !left {
            b.extend_from(sl);
        }
        let total = b.n;
        let merge = total <= LEAF_SLOTS;
        if total > 2 * LEAF_SLOTS {
            return Some(false);
        }
        // The pair's right node is the level's rightmost if the leaf was and
        // the sibling is on its left, or the sibling is the parent's last
        // child and the parent is the rightmost of its level.
        let parent_rightmost = (0..h - 2)
            .all(|d| path.node[d].is_some_and(|n| usize::from(path.idx[d]) + 1 == n.count()));
        let pair_rightmost = parent_rightmost && (left || sk + 1 == pc);
        if merge {
            // One node: it must be full enough unless it is the rightmost,
            // and the parent loses a child.
            if total < geo(true).min && !pair_rightmost {
                return Some(false);
            }
            let parent_ok = if h == 2 {
                pc > 2
            } else {
                pc > geo(false).min || parent_rightmost
            };
            if !parent_ok {
                return Some(false);
            }
        }
        // Both halves of a spread hold at least `total / 2 > LEAF_SLOTS / 2`
        // entries, above the minimum.
        let (xk, x, y) = if left {
            (sk, sib, leafp)
        } else {
            (pk, leafp, sib)
        };
        self.delta += nc as isize - leaf.count() as isize;
        let xm = self.make_fresh(x)?;
        let pm = self.make_mut(pp)?;
        if merge {
            b.write_to(self.leaf_mut(xm)?, 0, b.n);
            self.retire(y);
            let sx = self.node(xm).summary();
            let pmi = self.inner_mut(pm)?;
            pmi.set(
                xk,
                sx.lo,
                sx.hi,
                Kid {
                    gap: sx.gap,
                    child: xm,
                },
            );
            pmi.remove(xk + 1);
        } else {
            let ym = self.make_fresh(y)?;
            let half = b.n / 2;
            b.write_to(self.leaf_mut(xm)?, 0, half);
            b.write_to(self.leaf_mut(ym)?, half, b.n);
            let (sx, sy) = (self.node(xm).summary(), self.node(ym).summary());
            let pmi = self.inner_mut(pm)?;
            pmi.set(
                xk,
                sx.lo,
                sx.hi,
                Kid {
                    gap: sx.gap,
                    child: xm,
                },
            );
            pmi.set(
                xk + 1,
                sy.lo,
                sy.hi,
                Kid {
                    gap: sy.gap,
                    child: ym,
                },
            );
        }
        self.propagate(path, h - 2, pm, None)?;
        if self.keep_path {
            path.rewalk(self.root_ref(), f);
        }
        Some(true)
    }

    /// The leaf's summary before this write, as its parent keeps it
    /// (`None` for a root leaf).
    fn leaf_summary_before(&self, path: &Path) -> Option<Summary> {
        let d = path.h.checked_sub(2)?;
        let p = path.node[d]?;
        let k = usize::from(path.idx[d]);
        let pi = self.node(p).inner()?;
        Some(Summary {
            lo: pi.lo[k],
            hi: pi.hi[k],
            gap: pi.pl(k).gap,
        })
    }

    /// `m` is the new version of the path's node at level `lv` (in place or
    /// a copy), and `known` its summary if the caller knows it; refreshes
    /// the summaries above it and publishes.
    fn propagate(
        &mut self,
        path: &mut Path,
        lv: usize,
        m: NodePtr,
        known: Option<Summary>,
    ) -> Option<bool> {
        path.node[lv] = Some(m);
        if lv == 0 {
            // The root: nobody keeps its summary.
            let h = self.st.height;
            self.publish(Some(m), h);
            return Some(true);
        }
        let mut s = match known {
            Some(s) => s,
            None => self.node(m).summary(),
        };
        let mut child = m;
        for d in (0..lv).rev() {
            let p = path.node[d]?;
            let k = usize::from(path.idx[d]);
            let pi = self.node(p).inner()?;
            let old = pi.pl(k);
            if old.child == child && pi.lo[k] == s.lo && pi.hi[k] == s.hi && old.gap == s.gap {
                // Changed in place with the same summary: nothing above changes.
                break;
            }
            let old_k = pi.slot_gaps(k);
            let pm = self.make_mut(p)?;
            self.inner_mut(pm)?
                .set(k, s.lo, s.hi, Kid { gap: s.gap, child });
            path.node[d] = Some(pm);
            child = pm;
            if d == 0 {
                // The root's summary is kept nowhere.
                break;
            }
            // The parent's summary before the change, as its parent keeps it.
            let gp = path.node[d - 1]?;
            let gk = usize::from(path.idx[d - 1]);
            let gpi = self.node(gp).inner()?;
            let before = Summary {
                lo: gpi.lo[gk],
                hi: gpi.hi[gk],
                gap: gpi.pl(gk).gap,
            };
            s = self.node(pm).inner()?.summary_after(k, before, old_k);
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
                for (k, c) in out.node.iter().flatten().enumerate() {
                    let s = self.node(*c).summary();
                    let ri = self.inner_mut(r)?;
                    ri.set(
                        k,
                        s.lo,
                        s.hi,
                        Kid {
                            gap: s.gap,
                            child: *c,
                        },
                    );
                    ri.hdr.count = (k + 1) as u8;
                }
                (Some(r), h + 1)
            }
        };
        // A root with one child gives way to the child.
        while let Some(r) = root {
            if r.is_leaf() || r.count() > 1 {
                break;
            }
            let c = self.node(r).inner()?.pl(0).child;
            self.retire(r);
            root = Some(c);
            h -= 1;
        }
        self.publish(root, h);
        Some(())
    }

    /// Appends child `c` with its summary.
    fn push_kid<const M: usize>(&self, kb: &mut Buf<Kid, M>, c: NodePtr) {
        let s = self.node(c).summary();
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

    /// [`Wr::rewrite`] for a leaf. Not inlined: its buffer must not sit in
    /// every level's frame of the recursion.
    #[inline(never)]
    fn rewrite_leaf(
        &mut self,
        n: NodePtr,
        rightmost: bool,
        f: usize,
        l: usize,
        val: Option<V>,
    ) -> Option<Out> {
        let leaf = self.node(n).leaf()?;
        let mut slot = MaybeUninit::uninit();
        let e: &mut Buf<Val<V>, LEAF_BUF> = Buf::init_in(&mut slot);
        let appended = leaf_apply_into(leaf, f, l, val, e);
        self.delta += e.n as isize - leaf.count() as isize;
        if e.n == 0 {
            self.retire(n);
            return Some(Out::NONE);
        }
        let m = self.make_fresh(n)?;
        if e.n <= LEAF_SLOTS {
            e.write_to(self.leaf_mut(m)?, 0, e.n);
            return Some(Out::one(m));
        }
        // Appending at the right edge keeps the left leaf full.
        let left = if rightmost && appended {
            LEAF_SLOTS
        } else {
            e.n / 2
        };
        let r = self.take(true)?;
        e.write_to(self.leaf_mut(m)?, 0, left);
        e.write_to(self.leaf_mut(r)?, left, e.n);
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
        let inner = self.node(n).inner()?;
        let c = inner.count();
        // Children `i..=j` are touched: `i` holds `f` (or is where the new
        // entry goes), `j` holds `l`; those between lie wholly inside.
        let i = inner.find_hi(f).min(c - 1);
        let mut j = c;
        while j > 0 && inner.lo[j - 1] > l {
            j -= 1;
        }
        let j = j.saturating_sub(1).max(i);
        // Retiring and rewriting children changes them, never `n`: read
        // `n` again after each.
        for k in i + 1..j {
            let ck = self.node(n).inner()?.pl(k).child;
            self.retire_subtree(ck);
        }
        let ci = self.node(n).inner()?.pl(i).child;
        let oi = self.rewrite(ci, rightmost && i + 1 == c, f, l, val)?;
        let oj = if j != i {
            let cj = self.node(n).inner()?.pl(j).child;
            self.rewrite(cj, rightmost && j + 1 == c, f, l, None)?
        } else {
            Out::NONE
        };
        self.rewrite_inner_finish(n, rightmost, i, j, oi, oj)
    }

    /// The part of [`Wr::rewrite_inner`] after the recursion: puts the new
    /// children `oi` (for child `i`) and `oj` (for child `j`) in place of
    /// children `i..=j` of `n`, fixes underfull ones and splits `n` if it
    /// overflows. Not inlined: its buffer must not sit in every level's
    /// frame of the recursion.
    #[inline(never)]
    fn rewrite_inner_finish(
        &mut self,
        n: NodePtr,
        rightmost: bool,
        i: usize,
        j: usize,
        oi: Out,
        oj: Out,
    ) -> Option<Out> {
        let inner = self.node(n).inner()?;
        let c = inner.count();

        // Common case: one child changed and it is fine as it is.
        if j == i && oi.n == 1 {
            if let Some(m) = oi.node[0] {
                if m.count() >= geo(m.is_leaf()).min || (rightmost && i + 1 == c) || c == 1 {
                    let s = self.node(m).summary();
                    let p = self.make_mut(n)?;
                    self.inner_mut(p)?.set(
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
        let p = self.make_fresh(n)?;
        if kb.n <= INNER_SLOTS {
            kb.write_to(self.inner_mut(p)?, 0, kb.n);
            return Some(Out::one(p));
        }
        let left = if rightmost && at_end {
            INNER_SLOTS
        } else {
            kb.n / 2
        };
        let r = self.take(false)?;
        kb.write_to(self.inner_mut(p)?, 0, left);
        kb.write_to(self.inner_mut(r)?, left, kb.n);
        Some(Out::two(p, r))
    }

    /// Merges or redistributes underfull children among positions `s..e` of
    /// `kb` (the ones this write made) with a neighbour. `rightmost`: the
    /// parent is the rightmost node of its level, so its last child is
    /// exempt. A single child cannot be fixed here; its parent's parent does.
    fn fix_kids<K: Kids>(&mut self, kb: &mut K, s: usize, e: usize, rightmost: bool) -> Option<()> {
        let (mut s, mut e) = (s, e);
        loop {
            let mut found = None;
            for p in s..e.min(kb.len()) {
                let ch = kb.kid(p).child;
                let exempt = rightmost && p + 1 == kb.len();
                if kb.len() > 1 && !exempt && ch.count() < geo(ch.is_leaf()).min {
                    found = Some(p);
                    break;
                }
            }
            let p = match found {
                Some(p) => p,
                None => return Some(()),
            };
            let a = if p + 1 < kb.len() { p } else { p - 1 };
            let merged = self.merge_pair(kb, a, rightmost && a + 2 == kb.len())?;
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
    fn merge_pair<K: Kids>(&mut self, kb: &mut K, a: usize, pair_rightmost: bool) -> Option<bool> {
        let x = kb.kid(a).child;
        let y = kb.kid(a + 1).child;
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
        let sx = self.node(xm).summary();
        kb.set_kid(
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
                let sy = self.node(ym).summary();
                kb.set_kid(
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
                kb.remove_kid(a + 1);
                Some(true)
            }
        }
    }

    /// Merges two neighbouring nodes of type `Node<T, N>` (see
    /// [`Wr::merge_pair`]). Not inlined: its pair buffer must not sit in the
    /// frames of the `fix_kids`/`fix_inside` recursion.
    #[inline(never)]
    fn merge_nodes<T: Access<V, P, N>, const N: usize, const M: usize>(
        &mut self,
        x: NodePtr,
        y: NodePtr,
    ) -> Option<(NodePtr, Option<NodePtr>)> {
        let mut slot = MaybeUninit::uninit();
        let b: &mut Buf<T, M> = Buf::init_in(&mut slot);
        b.extend_from(T::get(self, x)?);
        b.extend_from(T::get(self, y)?);
        let xm = self.make_fresh(x)?;
        if b.n <= N {
            b.write_to(T::get_mut(self, xm)?, 0, b.n);
            self.retire(y);
            return Some((xm, None));
        }
        let ym = self.make_fresh(y)?;
        let half = b.n / 2;
        b.write_to(T::get_mut(self, xm)?, 0, half);
        b.write_to(T::get_mut(self, ym)?, half, b.n);
        Some((xm, Some(ym)))
    }

    /// Fixes underfull children anywhere in inner node `m`, which this write
    /// may change. The fixes happen in `m` itself: merges only shrink it.
    fn fix_inside(&mut self, m: NodePtr, rightmost: bool) -> Option<()> {
        if m.is_leaf() || !self.is_mutable(m) {
            return None;
        }
        // SAFETY: `m` is a live inner node of this tree that this write may
        // change (checked above; no reader can reach it, as in
        // `Wr::inner_mut`). `fix_kids` reads and changes only the children of
        // `m` and nodes below them (`merge_pair` works on two children and
        // their replacements, `fix_inside` on those), never `m` itself, so
        // `mi` is the only reference to `m` while it lives.
        let mi = unsafe { m.inner_mut() };
        let n = mi.count();
        self.fix_kids(mi, 0, n, rightmost)
    }
}

/// How a write reads and changes a node holding payload `Self` in `N`
/// slots: leaves for [`Val`], inner nodes for [`Kid`]. Lets
/// [`Wr::merge_nodes`] be written once for both kinds.
trait Access<V: Copy, P: Platform, const N: usize>: Payload {
    /// Node `n` as a `Node<Self, N>` (see [`Wr::node`]); `None` if it is
    /// of the other kind.
    fn get<'w>(w: &'w Wr<'_, V, P>, n: NodePtr) -> Option<&'w Node<Self, N>>;

    /// Node `n` as a `Node<Self, N>` this write changes (see
    /// [`Wr::leaf_mut`]).
    fn get_mut<'w>(w: &'w mut Wr<'_, V, P>, n: NodePtr) -> Option<&'w mut Node<Self, N>>;
}

impl<V: Copy, P: Platform> Access<V, P, LEAF_SLOTS> for Val<V> {
    #[inline]
    fn get<'w>(w: &'w Wr<'_, V, P>, n: NodePtr) -> Option<&'w Leaf<V>> {
        w.node(n).leaf()
    }

    #[inline]
    fn get_mut<'w>(w: &'w mut Wr<'_, V, P>, n: NodePtr) -> Option<&'w mut Leaf<V>> {
        w.leaf_mut(n)
    }
}

impl<V: Copy, P: Platform> Access<V, P, INNER_SLOTS> for Kid {
    #[inline]
    fn get<'w>(w: &'w Wr<'_, V, P>, n: NodePtr) -> Option<&'w Inner> {
        w.node(n).inner().map(InnerRef::node)
    }

    #[inline]
    fn get_mut<'w>(w: &'w mut Wr<'_, V, P>, n: NodePtr) -> Option<&'w mut Inner> {
        w.inner_mut(n)
    }
}
