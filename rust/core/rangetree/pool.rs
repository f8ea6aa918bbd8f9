// SPDX-License-Identifier: GPL-2.0

//! Shared tree state, the writer's state, and node memory: the pool,
//! copy-on-write and retirement.
//!
//! Every write first makes sure the pool holds the worst-case number of
//! nodes the write can need ([`Wr::reserve`], the `mas_preallocate` pattern).
//! That is the only place a write allocates: during the write, node memory
//! comes from the pool alone ([`Wr::take`] never calls
//! [`Platform::alloc`]), and memory given up during the write goes back to
//! the pool ([`Wr::retire`] never calls [`Platform::free`]), so a write with
//! [`Gfp::PoolOnly`] touches neither.
//!
//! Should the pool still run dry (a wrong bound), an RCU-mode write is
//! undone by [`Wr::abort`]: nothing was published, the nodes it took are on
//! its `fresh` list and go back to the pool, and the published nodes it
//! meant to retire stay in the tree. A plain-mode write changes nodes in
//! place and cannot be undone, so its bound is proved (see
//! [`Wr::worst_case`]) rather than relied on by testing alone.

use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::node::{node_layout, Hdr, Inner, Leaf, NodePtr, NodeRef};
use super::{AllocError, Gfp, Platform, RcuHead};

/// What readers and the writer share.
///
/// # Invariants
///
/// `root` is null (empty tree) or points to the root node of a valid tree of
/// height `height` whose nodes were allocated from `platform` with
/// [`node_layout::<V>`]. In RCU mode, every node reachable from `root` is
/// immutable.
pub(crate) struct Shared<V, P> {
    pub(crate) root: AtomicPtr<Hdr>,
    pub(crate) height: AtomicUsize,
    pub(crate) len: AtomicUsize,
    pub(crate) platform: P,
    pub(crate) _v: PhantomData<V>,
}

impl<V: Copy, P: Platform> Shared<V, P> {
    /// An empty tree.
    pub(crate) fn new(platform: P) -> Self {
        Self {
            root: AtomicPtr::new(ptr::null_mut()),
            height: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            platform,
            _v: PhantomData,
        }
    }

    /// Loads the root for reading (acquire pairs with the writer's release).
    #[inline]
    pub(crate) fn root(&self) -> Option<NodePtr> {
        NonNull::new(self.root.load(Ordering::Acquire)).map(NodePtr)
    }

    /// The root, readable while `st`, this tree's writer state, is borrowed.
    #[inline]
    pub(crate) fn root_ref<'a>(&'a self, _st: &'a WState) -> Option<NodeRef<'a, V>> {
        // SAFETY: By the invariant of `WState`, the tree's nodes are changed
        // and freed only through `&mut` to its writer state, which `_st`
        // being borrowed for `'a` rules out; so the tree below the root
        // stays alive and unchanged for `'a`.
        self.root().map(|r| unsafe { NodeRef::new(r) })
    }
}

/// What only the writer touches.
///
/// # Invariants
///
/// `pool` is a list (linked through the first word of each node's
/// [`RcuHead`]) of `pool_len` unpublished nodes allocated with the tree's
/// layout; `retired` likewise lists published nodes replaced by the current
/// write, to be freed after a grace period once the new root is published.
/// In RCU mode, `fresh` lists (through the second word) every node the
/// current write took from the pool; those it gave up again are marked dead
/// (a `gen` other than the current one). Between writes `retired` and
/// `fresh` are empty. A node of the current generation is one the current
/// write took and has not published.
///
/// It is the writer state of one tree (passed along with that tree's
/// [`Shared`]): the tree's nodes are changed, and freed, only by code that
/// holds it by `&mut` (a [`Wr`], or the tree's owner replacing or dropping
/// the whole tree).
pub(crate) struct WState {
    pub(crate) pool: Option<NodePtr>,
    pub(crate) pool_len: usize,
    pub(crate) pool_cap: usize,
    pub(crate) gen: u64,
    pub(crate) rcu: bool,
    pub(crate) retired: Option<NodePtr>,
    pub(crate) fresh: Option<NodePtr>,
    pub(crate) len: usize,
    pub(crate) height: usize,
}

impl WState {
    /// State of an empty plain-mode tree.
    pub(crate) const fn new() -> Self {
        Self {
            pool: None,
            pool_len: 0,
            pool_cap: 0,
            gen: 1,
            rcu: false,
            retired: None,
            fresh: None,
            len: 0,
            height: 0,
        }
    }
}

/// A write in progress.
pub(crate) struct Wr<'a, V, P> {
    pub(crate) sh: &'a Shared<V, P>,
    pub(crate) st: &'a mut WState,
    /// Entries added minus entries removed by this write.
    pub(crate) delta: isize,
    /// Whether surplus pool nodes may be given back to the platform at the
    /// end of the write (not with [`Gfp::PoolOnly`]).
    may_free: bool,
    /// Whether the caller uses the walk after a store (a cursor): then the
    /// store leaves it valid, walking again if it must.
    pub(crate) keep_path: bool,
}

impl<'a, V: Copy, P: Platform> Wr<'a, V, P> {
    /// Starts a write (a new generation: nodes allocated from now on are not
    /// published until [`Wr::publish`]).
    pub(crate) fn new(sh: &'a Shared<V, P>, st: &'a mut WState, gfp: Gfp) -> Self {
        st.gen = st.gen.wrapping_add(1);
        debug_assert!(st.retired.is_none() && st.fresh.is_none());
        Self {
            sh,
            st,
            delta: 0,
            may_free: gfp != Gfp::PoolOnly,
            keep_path: false,
        }
    }

    /// The root as the writer sees it (the writer is the only one changing it).
    #[inline]
    pub(crate) fn root(&self) -> Option<NodePtr> {
        NonNull::new(self.sh.root.load(Ordering::Relaxed)).map(NodePtr)
    }

    /// The most nodes one store can take from the pool at the current height.
    ///
    /// Plain mode changes nodes in place, so only splits take nodes: a store
    /// rewrites at most two nodes per level that can grow (the one holding
    /// `first`, which receives the new entry, and the one holding `last`);
    /// every other node it visits lies wholly inside the range and vanishes.
    /// A growing node becomes at most two (one taken), and the root may
    /// split once more into a new root: at most `2 * h + 1`, plus one for
    /// the first leaf of an empty tree. Merges, the fast path and the
    /// sibling path change nodes in place and take none. RCU mode also
    /// copies every published node it changes: the two descent paths, the
    /// split halves, one neighbour per underflow fix (two per level) and one
    /// per level of each of the two single-child chains a fix can walk down.
    pub(crate) fn worst_case(st: &WState) -> usize {
        let h = st.height;
        if st.rcu {
            10 * h + 4
        } else {
            2 * h + 3
        }
    }

    /// Makes sure the pool holds at least `count` nodes.
    ///
    /// On failure the tree is unchanged (the pool may have grown).
    pub(crate) fn fill(
        sh: &Shared<V, P>,
        st: &mut WState,
        count: usize,
        gfp: Gfp,
    ) -> Result<(), AllocError> {
        if st.pool_cap < count {
            st.pool_cap = count;
        }
        while st.pool_len < count {
            if gfp == Gfp::PoolOnly {
                return Err(AllocError);
            }
            let p = sh
                .platform
                .alloc(node_layout::<V>(), gfp)
                .ok_or(AllocError)?;
            let n = p.cast::<Hdr>();
            // SAFETY: `alloc` returned memory valid for a node; we initialise
            // its header before it is ever read.
            unsafe {
                n.as_ptr().write(Hdr {
                    rcu: RcuHead::new(),
                    gen: 0,
                    count: 0,
                    leaf: true,
                })
            };
            Self::pool_push(st, NodePtr(n));
        }
        Ok(())
    }

    /// Pushes an unpublished node onto the pool.
    fn pool_push(st: &mut WState, n: NodePtr) {
        n.hdr().rcu.set_link(st.pool);
        // INVARIANT: `n` is unpublished and now heads the pool list.
        st.pool = Some(n);
        st.pool_len += 1;
    }

    /// Frees every node of the pool.
    pub(crate) fn release(sh: &Shared<V, P>, st: &mut WState) {
        while let Some(n) = st.pool {
            st.pool = n.hdr().rcu.link();
            st.pool_len -= 1;
            // SAFETY: Pool nodes came from `alloc` with this layout and are
            // not reachable by anyone else.
            unsafe { sh.platform.free(n.0.cast(), node_layout::<V>()) };
        }
        st.pool_cap = 0;
    }

    /// Ensures the pool holds the worst case for one store.
    pub(crate) fn reserve(sh: &Shared<V, P>, st: &mut WState, gfp: Gfp) -> Result<(), AllocError> {
        let need = Self::worst_case(st);
        if st.pool_len >= need {
            return Ok(());
        }
        let cap = st.pool_cap;
        let r = Self::fill(sh, st, need, gfp);
        st.pool_cap = cap.max(need);
        r
    }

    /// Takes a node from the pool and makes it a fresh node of this write.
    /// Never allocates.
    ///
    /// Returns `None` only if the worst-case bound was wrong; the caller then
    /// fails the write and [`Wr::abort`] undoes it.
    pub(crate) fn take(&mut self, leaf: bool) -> Option<NodePtr> {
        let n = self.st.pool;
        debug_assert!(n.is_some(), "rangetree: pool below worst case");
        let n = n?;
        self.st.pool = n.hdr().rcu.link();
        self.st.pool_len -= 1;
        // SAFETY: The node was in the pool, so it is ours alone; writing its
        // header initialises it.
        unsafe {
            let h = n.0.as_ptr();
            ptr::addr_of_mut!((*h).gen).write(self.st.gen);
            ptr::addr_of_mut!((*h).count).write(0);
            ptr::addr_of_mut!((*h).leaf).write(leaf);
        }
        if self.st.rcu {
            n.hdr().rcu.set_fresh_link(self.st.fresh);
            // INVARIANT: `n` is taken by this write and now heads `fresh`.
            self.st.fresh = Some(n);
        }
        Some(n)
    }

    /// Whether `n` may be changed in place by this write.
    #[inline]
    pub(crate) fn is_mutable(&self, n: NodePtr) -> bool {
        !self.st.rcu || n.hdr().gen == self.st.gen
    }

    /// The root, readable while `self` is borrowed.
    #[inline]
    pub(crate) fn root_ref(&self) -> Option<NodeRef<'_, V>> {
        self.sh.root_ref(self.st)
    }

    /// Node `n` (of this write's tree, or taken by this write), readable
    /// while `self` is borrowed.
    #[inline]
    pub(crate) fn node(&self, n: NodePtr) -> NodeRef<'_, V> {
        // SAFETY: `n` is a live node of this tree, whose values are `V` (type
        // invariant of `NodePtr`). The write changes nodes only through
        // `&mut self` (`leaf_mut`, `inner_mut`, `take`, `make_mut`, `retire`),
        // or through the reference `Wr::fix_inside` holds to a node that no
        // `NodeRef` reaches meanwhile (see there), and frees them only in
        // `publish`, `abort` and `trim`, also `&mut self`; nobody else
        // changes or frees them during a write. So `n` and the nodes below it
        // stay alive and unchanged while `self` is borrowed.
        unsafe { NodeRef::new(n) }
    }

    /// Node `m` as a leaf that this write changes, while `self` is borrowed.
    /// `None` if `m` is not a leaf, or may not be changed in place (a
    /// published node in RCU mode: see [`Wr::make_mut`]).
    #[inline]
    pub(crate) fn leaf_mut(&mut self, m: NodePtr) -> Option<&mut Leaf<V>> {
        if !m.is_leaf() || !self.is_mutable(m) {
            return None;
        }
        // SAFETY: `m` is a live leaf of this tree (type invariant of
        // `NodePtr`, and its header). No reader can reach it: plain-mode
        // trees have no readers during a write, and in RCU mode `m` is of
        // the current generation, so this write took it and has not
        // published it (`publish` ends the generation). Within the write,
        // references to nodes come from `node`, `leaf_mut` and `inner_mut`,
        // all tied to a borrow of `self`, which `&mut self` excludes for the
        // result's lifetime, and from `Wr::fix_inside`, whose node is never
        // handed here while its reference lives (see there).
        Some(unsafe { m.leaf_mut::<V>() })
    }

    /// Like [`Wr::leaf_mut`], for an inner node.
    #[inline]
    pub(crate) fn inner_mut(&mut self, m: NodePtr) -> Option<&mut Inner> {
        if m.is_leaf() || !self.is_mutable(m) {
            return None;
        }
        // SAFETY: As in `leaf_mut`, for an inner node.
        Some(unsafe { m.inner_mut() })
    }

    /// Returns a node with `n`'s content that this write may change: `n`
    /// itself in plain mode or if `n` is not yet published, else a copy (and
    /// `n` is retired).
    pub(crate) fn make_mut(&mut self, n: NodePtr) -> Option<NodePtr> {
        if self.is_mutable(n) {
            return Some(n);
        }
        let c = self.take(n.is_leaf())?;
        let size = node_layout::<V>().size();
        let skip = core::mem::size_of::<Hdr>();
        // SAFETY: Both nodes are `size` bytes long and distinct; `n` is
        // immutable (published) so reading it races with nothing, and `c` is
        // ours alone. The header is set by `take` except for the count,
        // copied below.
        unsafe {
            ptr::copy_nonoverlapping(
                n.0.as_ptr().cast::<u8>().add(skip),
                c.0.as_ptr().cast::<u8>().add(skip),
                size - skip,
            );
            (*c.0.as_ptr()).count = n.hdr().count;
        }
        self.retire(n);
        Some(c)
    }

    /// Like [`Wr::make_mut`] for a caller that rewrites the whole content
    /// (every slot and the count) before anyone reads it: a replacement for
    /// a published node is not filled with a copy first.
    pub(crate) fn make_fresh(&mut self, n: NodePtr) -> Option<NodePtr> {
        if self.is_mutable(n) {
            return Some(n);
        }
        let c = self.take(n.is_leaf())?;
        self.retire(n);
        Some(c)
    }

    /// Gives up a node that is no longer part of the new tree.
    ///
    /// Plain-mode nodes go back to the pool at once. Nodes created by this
    /// RCU-mode write are marked dead and go back to the pool when the write
    /// ends (they stay on the `fresh` list until then). Published ones wait on
    /// the retire list until the new root is published.
    pub(crate) fn retire(&mut self, n: NodePtr) {
        if !self.st.rcu {
            Self::pool_push(self.st, n);
        } else if n.hdr().gen == self.st.gen {
            // SAFETY: `n` was taken by this write and is unpublished, so it is
            // ours alone.
            unsafe { (*n.0.as_ptr()).gen = self.st.gen.wrapping_sub(1) };
        } else {
            n.hdr().rcu.set_link(self.st.retired);
            // INVARIANT: `n` is published, replaced, and now heads the list.
            self.st.retired = Some(n);
        }
    }

    /// Retires a whole subtree, counting the entries it drops.
    pub(crate) fn retire_subtree(&mut self, n: NodePtr) {
        if n.is_leaf() {
            self.delta -= n.count() as isize;
        } else {
            for k in 0..n.count() {
                let c = match self.node(n).inner() {
                    Some(i) => i.pl(k).child,
                    None => break,
                };
                self.retire_subtree(c);
            }
        }
        self.retire(n);
    }

    /// Gives pool nodes above the pool's capacity back to the platform,
    /// unless this write may not free.
    fn trim(&mut self) {
        if !self.may_free {
            return;
        }
        while self.st.pool_len > self.st.pool_cap {
            let n = match self.st.pool {
                Some(n) => n,
                None => break,
            };
            self.st.pool = n.hdr().rcu.link();
            self.st.pool_len -= 1;
            // SAFETY: Pool nodes came from `alloc` with this layout and are
            // not reachable by anyone else.
            unsafe { self.sh.platform.free(n.0.cast(), node_layout::<V>()) };
        }
    }

    /// Ends the `fresh` list: nodes this write took and gave up again go
    /// back to the pool (all of them if `all`).
    fn end_fresh(&mut self, all: bool) {
        while let Some(n) = self.st.fresh {
            self.st.fresh = n.hdr().rcu.fresh_link();
            if all || n.hdr().gen != self.st.gen {
                Self::pool_push(self.st, n);
            }
        }
    }

    /// Undoes a write that failed before [`Wr::publish`]: the tree is as
    /// before. Only RCU-mode writes can be undone (nothing they did is
    /// visible); in plain mode [`Wr::worst_case`] is proved, so a write
    /// never fails after its reservation.
    pub(crate) fn abort(&mut self) {
        debug_assert!(self.st.rcu, "rangetree: plain-mode write failed half-way");
        // The published nodes meant for retirement stay in the tree; only
        // their link word (never read by readers) was written.
        self.st.retired = None;
        self.end_fresh(true);
        self.delta = 0;
        self.trim();
    }

    /// Publishes `root` (of height `height`) and hands every retired node
    /// to the platform's deferred free.
    pub(crate) fn publish(&mut self, root: Option<NodePtr>, height: usize) {
        let p = NodePtr::as_raw(root);
        self.st.height = height;
        self.st.len = (self.st.len as isize + self.delta) as usize;
        self.delta = 0;
        self.sh.height.store(height, Ordering::Relaxed);
        // Release: every write to the new nodes happens before a reader's
        // acquire load of the root sees them.
        self.sh.root.store(p, Ordering::Release);
        self.sh.len.store(self.st.len, Ordering::Relaxed);
        while let Some(NodePtr(n)) = self.st.retired {
            self.st.retired = NodePtr(n).hdr().rcu.link();
            // SAFETY: `n` came from `alloc` with this layout; it is no longer
            // reachable from the published root, so no new reader can reach
            // it, and the tree never touches it again.
            unsafe {
                self.sh.platform.free_after_grace_period(
                    n.cast(),
                    node_layout::<V>(),
                    NonNull::from(&(*n.as_ptr()).rcu),
                )
            };
        }
        self.end_fresh(false);
        // INVARIANT: The nodes this write took are published now: end their
        // generation, so that none is mutable any more.
        self.st.gen = self.st.gen.wrapping_add(1);
        self.trim();
    }
}
