// SPDX-License-Identifier: GPL-2.0

//! Building a tree in `O(n)`: from sorted ranges (bulk load) and by copying
//! another tree's nodes (`mtree_dup()`, used by fork).
//!
//! Both allocate nodes directly from the platform (not from the pool) and,
//! on failure, free everything they made. The nodes built here are ours
//! alone until the new tree is returned ([`Builder`]'s invariant).

use core::ptr;

use super::node::{
    node_layout, Hdr, Inner, Kid, Leaf, NodePtr, NodeRef, Val, INNER_SLOTS, LEAF_SLOTS, MAX_HEIGHT,
};
use super::ops::free_subtree;
use super::pool::{Shared, WState};
use super::tree::RangeTree;
use super::{AllocError, BuildError, Gfp, Platform, RcuHead};

/// Allocates an empty node of the given kind.
fn alloc_node<V: Copy, P: Platform>(p: &P, leaf: bool, gfp: Gfp) -> Option<NodePtr> {
    if gfp == Gfp::PoolOnly {
        return None;
    }
    let n = p.alloc(node_layout::<V>(), gfp)?.cast::<Hdr>();
    // SAFETY: `alloc` returned memory valid for a node; writing the header
    // initialises it.
    unsafe {
        n.as_ptr().write(Hdr {
            rcu: RcuHead::new(),
            gen: 0,
            count: 0,
            leaf,
        })
    };
    Some(NodePtr(n))
}

/// Nodes being filled, one per level (0 = leaves).
///
/// # Invariants
///
/// Every node the builder handles it allocated itself (with `alloc_node`),
/// and it is reachable only from the builder's `open` nodes until [`end`]
/// hands out the root: nobody else reads or changes it.
///
/// [`end`]: Builder::end
struct Builder<'p, V, P> {
    p: &'p P,
    gfp: Gfp,
    open: [Option<NodePtr>; MAX_HEIGHT],
    done: [usize; MAX_HEIGHT],
    _v: core::marker::PhantomData<V>,
}

impl<V: Copy, P: Platform> Builder<'_, V, P> {
    /// Node `n` (one of ours), readable while `self` is borrowed.
    fn node(&self, n: NodePtr) -> NodeRef<'_, V> {
        // SAFETY: By the type invariant `n` is ours alone, and we change and
        // free nodes only through `&mut self`, which the borrow of `self`
        // excludes: `n` and the nodes below it stay alive and unchanged.
        unsafe { NodeRef::new(n) }
    }

    /// Node `n` (one of ours) as a leaf to fill, while `self` is borrowed;
    /// `None` if it is not a leaf.
    fn leaf_mut(&mut self, n: NodePtr) -> Option<&mut Leaf<V>> {
        if !n.is_leaf() {
            return None;
        }
        // SAFETY: By the type invariant `n` is ours alone, a leaf (header) of
        // values `V`; the only other references to our nodes come from
        // `node` and `inner_mut`, which `&mut self` excludes meanwhile.
        Some(unsafe { n.leaf_mut::<V>() })
    }

    /// Like [`Builder::leaf_mut`], for an inner node.
    fn inner_mut(&mut self, n: NodePtr) -> Option<&mut Inner> {
        if n.is_leaf() {
            return None;
        }
        // SAFETY: As in `leaf_mut`, for an inner node.
        Some(unsafe { n.inner_mut() })
    }

    /// Hands the finished node `n` of level `k` to level `k + 1`.
    fn finish(&mut self, k: usize, n: NodePtr) -> Option<()> {
        let up = k + 1;
        if up >= MAX_HEIGHT {
            return None;
        }
        let parent = match self.open[up] {
            Some(q) if q.count() < INNER_SLOTS => q,
            full => {
                if let Some(q) = full {
                    self.open[up] = None;
                    self.finish(up, q)?;
                }
                let q = alloc_node::<V, P>(self.p, false, self.gfp)?;
                self.open[up] = Some(q);
                q
            }
        };
        let s = self.node(n).summary();
        let pi = self.inner_mut(parent)?;
        let c = pi.count();
        pi.set(
            c,
            s.lo,
            s.hi,
            Kid {
                gap: s.gap,
                child: n,
            },
        );
        pi.hdr.count += 1;
        self.done[k] += 1;
        Some(())
    }

    /// Frees everything built so far.
    fn abort(&mut self) {
        for k in 0..MAX_HEIGHT {
            if let Some(n) = self.open[k].take() {
                free_subtree::<V, P>(self.p, n, false);
            }
        }
    }

    /// Ends the build: returns the root and the height.
    fn end(&mut self) -> Option<(Option<NodePtr>, usize)> {
        for k in 0..MAX_HEIGHT {
            match self.open[k] {
                Some(n) if self.done[k] == 0 => {
                    self.open[k] = None;
                    return Some((Some(n), k + 1));
                }
                Some(n) => {
                    self.open[k] = None;
                    if self.finish(k, n).is_none() {
                        // `n` is not linked anywhere yet.
                        free_subtree::<V, P>(self.p, n, false);
                        return None;
                    }
                }
                None if self.done[k] == 0 => return Some((None, 0)),
                None => {}
            }
        }
        None
    }
}

impl<V: Copy, P: Platform> RangeTree<V, P> {
    /// Builds a tree from entries sorted by position, in `O(n)`, with every
    /// node full except the last of each level (a dense tree, like the maple
    /// tree's bulk store). Fails with [`BuildError::Unsorted`] on an entry
    /// with `first > last` or overlapping or preceding the one before it.
    pub fn bulk_build(
        platform: P,
        sorted: impl Iterator<Item = (usize, usize, V)>,
        gfp: Gfp,
    ) -> Result<Self, BuildError> {
        let mut b = Builder::<V, P> {
            p: &platform,
            gfp,
            open: [None; MAX_HEIGHT],
            done: [0; MAX_HEIGHT],
            _v: core::marker::PhantomData,
        };
        let mut prev: Option<usize> = None;
        let mut len = 0;
        for (idx, (f, l, v)) in sorted.enumerate() {
            if f > l || prev.is_some_and(|p| f <= p) {
                b.abort();
                return Err(BuildError::Unsorted(idx));
            }
            prev = Some(l);
            let leaf = match b.open[0] {
                Some(n) if n.count() < LEAF_SLOTS => Some(n),
                full => {
                    let mut ok = true;
                    if let Some(n) = full {
                        b.open[0] = None;
                        if b.finish(0, n).is_none() {
                            free_subtree::<V, P>(b.p, n, false);
                            ok = false;
                        }
                    }
                    let n = if ok {
                        alloc_node::<V, P>(b.p, true, gfp)
                    } else {
                        None
                    };
                    b.open[0] = n;
                    n
                }
            };
            let lm = match leaf.and_then(|n| b.leaf_mut(n)) {
                Some(lm) => lm,
                None => {
                    b.abort();
                    return Err(BuildError::Alloc);
                }
            };
            let c = lm.count();
            lm.set(c, f, l, Val(v));
            lm.hdr.count += 1;
            len += 1;
        }
        let (root, height) = match b.end() {
            Some(r) => r,
            None => {
                b.abort();
                return Err(BuildError::Alloc);
            }
        };
        let sh = Shared::new(platform);
        sh.root.store(
            root.map_or(ptr::null_mut(), |r| r.0.as_ptr()),
            core::sync::atomic::Ordering::Release,
        );
        sh.height
            .store(height, core::sync::atomic::Ordering::Relaxed);
        sh.len.store(len, core::sync::atomic::Ordering::Relaxed);
        let mut st = WState::new();
        st.len = len;
        st.height = height;
        // INVARIANT: A valid dense tree (every non-last node of each level
        // is full) of `len` entries and height `height`.
        Ok(RangeTree { sh, st })
    }

    /// Copies the tree, node by node, in `O(n)` (`mtree_dup()`); the copy is
    /// in plain mode and shares nothing with `self`.
    pub fn dup(&self, gfp: Gfp) -> Result<Self, AllocError>
    where
        P: Clone,
    {
        dup_from::<V, P>(
            self.sh.platform.clone(),
            self.root_ref(),
            self.st.height,
            self.st.len,
            gfp,
        )
    }
}

/// Copies the subtree `n`; on failure frees the partial copy.
fn copy_subtree<V: Copy, P: Platform>(p: &P, n: NodeRef<'_, V>, gfp: Gfp) -> Option<NodePtr> {
    let c = alloc_node::<V, P>(p, n.is_leaf(), gfp)?;
    let size = node_layout::<V>().size();
    let skip = core::mem::size_of::<Hdr>();
    // SAFETY: Both are nodes of `size` bytes; `n` is not changed meanwhile
    // (a `NodeRef`) and `c` is ours alone (just allocated).
    unsafe {
        ptr::copy_nonoverlapping(
            n.ptr().0.as_ptr().cast::<u8>().add(skip),
            c.0.as_ptr().cast::<u8>().add(skip),
            size - skip,
        );
        (*c.0.as_ptr()).count = n.ptr().hdr().count;
    }
    if let Some(i) = n.inner() {
        // SAFETY: `c` is an inner node (a copy of one) that we just allocated
        // and linked nowhere yet: nobody else can reach it while `ci` lives.
        let ci = unsafe { c.inner_mut() };
        for k in 0..ci.count() {
            match copy_subtree::<V, P>(p, i.child(k), gfp) {
                Some(cc) => {
                    let kid = ci.pl(k);
                    ci.set(
                        k,
                        ci.lo[k],
                        ci.hi[k],
                        Kid {
                            gap: kid.gap,
                            child: cc,
                        },
                    );
                }
                None => {
                    for j in 0..k {
                        free_subtree::<V, P>(p, ci.pl(j).child, false);
                    }
                    // SAFETY: `c` came from `alloc` and is linked nowhere.
                    unsafe { p.free(c.0.cast(), node_layout::<V>()) };
                    return None;
                }
            }
        }
    }
    Some(c)
}

/// Builds a plain tree holding a copy of the tree below `root`.
pub(crate) fn dup_from<V: Copy, P: Platform>(
    platform: P,
    root: Option<NodeRef<'_, V>>,
    height: usize,
    len: usize,
    gfp: Gfp,
) -> Result<RangeTree<V, P>, AllocError> {
    let copy = match root {
        Some(r) => Some(copy_subtree::<V, P>(&platform, r, gfp).ok_or(AllocError)?),
        None => None,
    };
    let sh = Shared::new(platform);
    sh.root.store(
        copy.map_or(ptr::null_mut(), |r| r.0.as_ptr()),
        core::sync::atomic::Ordering::Release,
    );
    sh.height
        .store(height, core::sync::atomic::Ordering::Relaxed);
    sh.len.store(len, core::sync::atomic::Ordering::Relaxed);
    let mut st = WState::new();
    st.len = len;
    st.height = height;
    // INVARIANT: An exact copy of a valid tree.
    Ok(RangeTree { sh, st })
}
