// SPDX-License-Identifier: GPL-2.0

//! Node layout and geometry.
//!
//! Both node kinds share one layout: a header, then `lo[]`, `hi[]` and a
//! payload array. In a leaf, `lo`/`hi` are each entry's `first`/`last` and
//! the payload is the value; in an inner node they are the lowest `first` and
//! highest `last` below each child and the payload is the child pointer with
//! the largest gap inside that child. Searching scans `hi[]` only, so a
//! lookup touches one contiguous array per level.

use core::alloc::Layout;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::NonNull;

use super::RcuHead;

/// Entries per leaf.
pub const LEAF_SLOTS: usize = 16;
/// Children per inner node.
pub const INNER_SLOTS: usize = 12;
/// Highest possible tree: a tree of height `h` has at least
/// `6 * 4^(h - 2)` entries, and at most `2^64` entries fit in `usize`.
pub const MAX_HEIGHT: usize = 32;

/// The geometry of one node kind (the maple tree's `mt_slots[]` and
/// `mt_min_slots[]` in one row).
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    /// Slots per node.
    pub slots: usize,
    /// Fewest used slots in a node that is neither the root nor the rightmost
    /// node of its level.
    pub min: usize,
}

/// Geometry table, indexed by [`KIND_LEAF`] and [`KIND_INNER`].
pub const GEOMETRY: [Geometry; 2] = [
    Geometry {
        slots: LEAF_SLOTS,
        min: 6,
    },
    Geometry {
        slots: INNER_SLOTS,
        min: 4,
    },
];

/// Row of [`GEOMETRY`] for leaves.
pub(crate) const KIND_LEAF: usize = 0;
/// Row of [`GEOMETRY`] for inner nodes.
pub(crate) const KIND_INNER: usize = 1;

/// Returns the geometry row of a node kind.
#[inline]
pub(crate) fn geo(leaf: bool) -> Geometry {
    if leaf {
        GEOMETRY[KIND_LEAF]
    } else {
        GEOMETRY[KIND_INNER]
    }
}

/// Node header, common to both kinds.
#[repr(C)]
pub(crate) struct Hdr {
    /// Room for the deferred free, and the link while the node sits in the
    /// pool or on the retire list.
    pub(crate) rcu: RcuHead,
    /// Write generation that created this node (RCU mode: a node of the
    /// current generation is not yet published and may be changed in place).
    pub(crate) gen: u64,
    /// Used slots.
    pub(crate) count: u8,
    /// Whether this is a leaf.
    pub(crate) leaf: bool,
}

/// What a payload contributes to its node's largest gap.
pub(crate) trait Payload: Copy {
    /// Largest free gap inside this slot (0 for a value).
    fn gap(&self) -> usize;
}

/// A leaf payload: the user's value.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Val<V>(pub(crate) V);

impl<V: Copy> Payload for Val<V> {
    #[inline]
    fn gap(&self) -> usize {
        0
    }
}

/// An inner payload: a child and the largest gap strictly inside it.
#[derive(Clone, Copy)]
pub(crate) struct Kid {
    pub(crate) gap: usize,
    pub(crate) child: NodePtr,
}

impl Payload for Kid {
    #[inline]
    fn gap(&self) -> usize {
        self.gap
    }
}

/// A node of either kind.
///
/// # Invariants
///
/// * `hdr.count <= N`, and slots `0..hdr.count` of `pl` are initialised.
/// * `hi[k] >= lo[k]`, and `lo[k + 1] > hi[k]` for used slots.
/// * In an inner node, `lo[k]`, `hi[k]` and `pl[k].gap` equal the summary
///   of `pl[k].child`, all children are at the same depth, and non-root
///   non-rightmost nodes hold at least the minimum of [`GEOMETRY`].
#[repr(C)]
pub(crate) struct Node<T, const N: usize> {
    pub(crate) hdr: Hdr,
    pub(crate) lo: [usize; N],
    pub(crate) hi: [usize; N],
    pub(crate) pl: [MaybeUninit<T>; N],
}

/// A leaf.
pub(crate) type Leaf<V> = Node<Val<V>, LEAF_SLOTS>;
/// An inner node.
pub(crate) type Inner = Node<Kid, INNER_SLOTS>;

/// Used only for its layout: the larger of the two node kinds.
#[repr(C)]
union NodeMem<V: Copy> {
    _leaf: ManuallyDrop<Leaf<V>>,
    _inner: ManuallyDrop<Inner>,
}

/// The layout every node of a tree with values `V` is allocated with.
#[inline]
pub fn node_layout<V: Copy>() -> Layout {
    Layout::new::<NodeMem<V>>()
}

/// What a parent keeps about a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Lowest `first` below the child.
    pub(crate) lo: usize,
    /// Highest `last` below the child.
    pub(crate) hi: usize,
    /// Largest free gap strictly between `lo` and `hi`.
    pub(crate) gap: usize,
}

impl<T: Payload, const N: usize> Node<T, N> {
    /// Number of used slots.
    #[inline]
    pub(crate) fn count(&self) -> usize {
        usize::from(self.hdr.count)
    }

    /// Payload of slot `k`.
    #[inline]
    pub(crate) fn pl(&self, k: usize) -> T {
        debug_assert!(k < self.count());
        // SAFETY: By the type invariant, used slots are initialised, and
        // callers pass `k < count`.
        unsafe { self.pl[k].assume_init() }
    }

    /// Sets slot `k`.
    #[inline]
    pub(crate) fn set(&mut self, k: usize, lo: usize, hi: usize, pl: T) {
        self.lo[k] = lo;
        self.hi[k] = hi;
        self.pl[k] = MaybeUninit::new(pl);
    }

    /// Inserts a slot at `k <= count < N`, shifting later slots up.
    #[inline]
    pub(crate) fn insert(&mut self, k: usize, lo: usize, hi: usize, pl: T) {
        let n = self.count();
        debug_assert!(k <= n && n < N);
        if k > n || n >= N {
            return;
        }
        self.lo.copy_within(k..n, k + 1);
        self.hi.copy_within(k..n, k + 1);
        self.pl.copy_within(k..n, k + 1);
        self.set(k, lo, hi, pl);
        // INVARIANT: Slots `0..n + 1` are initialised; `n + 1 <= N <= u8::MAX`.
        self.hdr.count = (n + 1) as u8;
    }

    /// Removes slot `k < count`, shifting later slots down.
    #[inline]
    pub(crate) fn remove(&mut self, k: usize) {
        let n = self.count();
        debug_assert!(k < n);
        if k >= n {
            return;
        }
        self.lo.copy_within(k + 1..n, k);
        self.hi.copy_within(k + 1..n, k);
        self.pl.copy_within(k + 1..n, k);
        // INVARIANT: Slots `0..n - 1` stay initialised.
        self.hdr.count = (n - 1) as u8;
    }

    /// First used slot whose `hi` is at least `index`, or `count`.
    #[inline]
    pub(crate) fn find_hi(&self, index: usize) -> usize {
        let n = self.count();
        let mut k = 0;
        while k < n && self.hi[k] < index {
            k += 1;
        }
        k
    }

    /// The largest of the gaps slot `k < count` takes part in: its own
    /// payload's and the free gaps to its neighbours.
    #[inline]
    pub(crate) fn slot_gaps(&self, k: usize) -> usize {
        let n = self.count();
        let mut g = self.pl(k).gap();
        if k > 0 {
            // The order invariant makes `lo[k] > hi[k - 1]`.
            g = g.max(self.lo[k] - self.hi[k - 1] - 1);
        }
        if k + 1 < n {
            g = g.max(self.lo[k + 1] - self.hi[k] - 1);
        }
        g
    }

    /// This node's summary after only slot `k` changed, from the summary
    /// before (`old`) and [`Node::slot_gaps`] of `k` before (`old_k`):
    /// rescans only when the largest gap may have been the one that shrank.
    #[inline]
    pub(crate) fn summary_after(&self, k: usize, old: Summary, old_k: usize) -> Summary {
        let n = self.count();
        let new_k = self.slot_gaps(k);
        let gap = if new_k >= old.gap {
            new_k
        } else if old_k < old.gap {
            old.gap
        } else {
            return self.summary();
        };
        Summary {
            lo: self.lo[0],
            hi: self.hi[n.saturating_sub(1)],
            gap,
        }
    }

    /// Computes this node's summary. The node must not be empty.
    pub(crate) fn summary(&self) -> Summary {
        let n = self.count();
        debug_assert!(n > 0);
        let mut gap = 0;
        for k in 0..n {
            gap = gap.max(self.pl(k).gap());
            if k + 1 < n {
                // The order invariant makes `lo[k + 1] > hi[k]`, so this
                // cannot underflow.
                gap = gap.max(self.lo[k + 1] - self.hi[k] - 1);
            }
        }
        Summary {
            lo: self.lo[0],
            hi: self.hi[n.saturating_sub(1)],
            gap,
        }
    }
}

/// A pointer to a live node.
///
/// # Invariants
///
/// Points to a node allocated with [`node_layout`] for the tree's `V`, whose
/// header is initialised and whose `leaf` flag tells its kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct NodePtr(pub(crate) NonNull<Hdr>);

impl NodePtr {
    /// Header of the node.
    #[inline]
    pub(crate) fn hdr<'a>(self) -> &'a Hdr {
        // SAFETY: By the type invariant the header is initialised; callers
        // keep the node alive for `'a` (a read guard, or writer ownership).
        unsafe { self.0.as_ref() }
    }

    /// Whether it is a leaf.
    #[inline]
    pub(crate) fn is_leaf(self) -> bool {
        self.hdr().leaf
    }

    /// Used slots.
    #[inline]
    pub(crate) fn count(self) -> usize {
        usize::from(self.hdr().count)
    }

    /// The node as a leaf.
    ///
    /// # Safety
    ///
    /// The node is a leaf of a tree with values `V`, alive for `'a`, and not
    /// changed during `'a`.
    #[inline]
    pub(crate) unsafe fn leaf<'a, V: Copy>(self) -> &'a Leaf<V> {
        debug_assert!(self.is_leaf());
        // SAFETY: The caller guarantees kind, liveness and immutability.
        unsafe { self.0.cast::<Leaf<V>>().as_ref() }
    }

    /// The node as an inner node.
    ///
    /// # Safety
    ///
    /// As for [`NodePtr::leaf`], for an inner node.
    #[inline]
    pub(crate) unsafe fn inner<'a>(self) -> &'a Inner {
        debug_assert!(!self.is_leaf());
        // SAFETY: The caller guarantees kind, liveness and immutability.
        unsafe { self.0.cast::<Inner>().as_ref() }
    }

    /// The node as a mutable leaf.
    ///
    /// # Safety
    ///
    /// The node is a leaf of a tree with values `V`, and nobody else (no
    /// reader either) accesses it during `'a`.
    #[inline]
    pub(crate) unsafe fn leaf_mut<'a, V: Copy>(self) -> &'a mut Leaf<V> {
        // SAFETY: The caller guarantees kind and exclusive access.
        unsafe { self.0.cast::<Leaf<V>>().as_mut() }
    }

    /// The node as a mutable inner node.
    ///
    /// # Safety
    ///
    /// As for [`NodePtr::leaf_mut`], for an inner node.
    #[inline]
    pub(crate) unsafe fn inner_mut<'a>(self) -> &'a mut Inner {
        // SAFETY: The caller guarantees kind and exclusive access.
        unsafe { self.0.cast::<Inner>().as_mut() }
    }

    /// The raw pointer of an optional node (null for `None`), for the
    /// root and the writer's intrusive lists.
    #[inline]
    pub(crate) fn as_raw(n: Option<Self>) -> *mut Hdr {
        n.map_or(core::ptr::null_mut(), |n| n.0.as_ptr())
    }
}

/// A node of a tree with values `V`, readable for `'a`: the read paths'
/// view of a node.
///
/// # Invariants
///
/// `ptr` points to a node of a tree with values `V` which, like every node
/// below it, stays alive and unchanged during `'a`.
#[derive(Clone, Copy)]
pub(crate) struct NodeRef<'a, V> {
    ptr: NodePtr,
    _p: PhantomData<&'a Leaf<V>>,
}

/// What a [`NodeRef`] points to, by kind.
pub(crate) enum View<'a, V> {
    /// A leaf.
    Leaf(&'a Leaf<V>),
    /// An inner node.
    Inner(InnerRef<'a, V>),
}

/// An inner node of a tree with values `V`, readable for `'a` with its
/// children (it dereferences to the node).
///
/// # Invariants
///
/// `node` is an inner node of a tree with values `V` whose descendants stay
/// alive and unchanged during `'a`.
#[derive(Clone, Copy)]
pub(crate) struct InnerRef<'a, V> {
    node: &'a Inner,
    _v: PhantomData<V>,
}

impl<'a, V: Copy> NodeRef<'a, V> {
    /// Wraps `n` for reading.
    ///
    /// # Safety
    ///
    /// `n` points to a node of a tree with values `V` which, like every node
    /// below it, stays alive and is not changed during `'a`.
    #[inline]
    pub(crate) unsafe fn new(n: NodePtr) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            ptr: n,
            _p: PhantomData,
        }
    }

    /// The node as a pointer (for walks remembered past `'a`).
    #[inline]
    pub(crate) fn ptr(self) -> NodePtr {
        self.ptr
    }

    /// Used slots.
    #[inline]
    pub(crate) fn count(self) -> usize {
        self.ptr.count()
    }

    /// Whether it is a leaf.
    #[inline]
    pub(crate) fn is_leaf(self) -> bool {
        self.ptr.is_leaf()
    }

    /// The node, by the kind its header gives.
    #[inline]
    pub(crate) fn view(self) -> View<'a, V> {
        if self.ptr.is_leaf() {
            // SAFETY: The header says it is a leaf; by the type invariant it
            // belongs to a tree with values `V` and stays alive and unchanged
            // for `'a`.
            View::Leaf(unsafe { self.ptr.leaf::<V>() })
        } else {
            // INVARIANT: It is an inner node (header), and by our own
            // invariant its descendants stay alive and unchanged for `'a`.
            View::Inner(InnerRef {
                // SAFETY: The header says it is an inner node; by the type
                // invariant it stays alive and unchanged for `'a`.
                node: unsafe { self.ptr.inner() },
                _v: PhantomData,
            })
        }
    }

    /// The node as a leaf, if it is one.
    #[inline]
    pub(crate) fn leaf(self) -> Option<&'a Leaf<V>> {
        match self.view() {
            View::Leaf(l) => Some(l),
            View::Inner(_) => None,
        }
    }

    /// The node as an inner node, if it is one.
    #[inline]
    pub(crate) fn inner(self) -> Option<InnerRef<'a, V>> {
        match self.view() {
            View::Leaf(_) => None,
            View::Inner(i) => Some(i),
        }
    }

    /// Summary of the node. The node must not be empty.
    #[inline]
    pub(crate) fn summary(self) -> Summary {
        match self.view() {
            View::Leaf(l) => l.summary(),
            View::Inner(i) => i.summary(),
        }
    }
}

impl<'a, V: Copy> InnerRef<'a, V> {
    /// Child `k < count`.
    #[inline]
    pub(crate) fn child(self, k: usize) -> NodeRef<'a, V> {
        // SAFETY: The child is a node of the same tree below `self.node`, so
        // by the type invariant it and its descendants stay alive and
        // unchanged for `'a`.
        unsafe { NodeRef::new(self.node.pl(k).child) }
    }

    /// The node itself, for `'a`.
    #[inline]
    pub(crate) fn node(self) -> &'a Inner {
        self.node
    }
}

impl<V> core::ops::Deref for InnerRef<'_, V> {
    type Target = Inner;

    #[inline]
    fn deref(&self) -> &Inner {
        self.node
    }
}

/// A fixed-capacity list of slots, used to assemble a node's new content.
///
/// Every array is left uninitialised beyond `n`: a buffer is a stack
/// object of several KiB in the store path, and zeroing its bounds (and
/// the temporary a zeroed array is built in) grew the frame under some
/// compilers.
///
/// # Invariants
///
/// Slots `0..n` of `lo`, `hi` and `pl` are initialised.
pub(crate) struct Buf<T, const M: usize> {
    pub(crate) n: usize,
    lo: [MaybeUninit<usize>; M],
    hi: [MaybeUninit<usize>; M],
    pl: [MaybeUninit<T>; M],
}

impl<T: Payload, const M: usize> Buf<T, M> {
    /// An empty list.
    #[inline]
    pub(crate) fn new() -> Self {
        // INVARIANT: `n == 0`: no slot needs to be initialised.
        Self {
            n: 0,
            lo: [const { MaybeUninit::uninit() }; M],
            hi: [const { MaybeUninit::uninit() }; M],
            pl: [const { MaybeUninit::uninit() }; M],
        }
    }

    /// An empty list in `slot`, made where it lies: the list is several
    /// KiB in the store path, and a `new()` moved into place can cost a
    /// second copy in the frame (rustc 1.85 did: 8.8 KB for `try_sibling`
    /// instead of 5).
    #[inline(always)]
    pub(crate) fn init_in(slot: &mut MaybeUninit<Self>) -> &mut Self {
        let p = slot.as_mut_ptr();
        // SAFETY: `p` points to `slot`; `n` is written before the value is
        // used, and every other field is an array of `MaybeUninit`, valid
        // uninitialised.
        // INVARIANT: `n == 0`: no slot needs to be initialised.
        unsafe {
            core::ptr::addr_of_mut!((*p).n).write(0);
            slot.assume_init_mut()
        }
    }

    /// Bounds of slot `k < n`.
    #[inline]
    pub(crate) fn range(&self, k: usize) -> (usize, usize) {
        debug_assert!(k < self.n);
        // SAFETY: Slots `0..n` are initialised (type invariant).
        unsafe { (self.lo[k].assume_init(), self.hi[k].assume_init()) }
    }

    /// Appends a slot. Callers size `M` for the worst case; a push past it
    /// is a bug and is dropped (caught by `debug_assert` and `validate`).
    #[inline]
    pub(crate) fn push(&mut self, lo: usize, hi: usize, pl: T) {
        debug_assert!(self.n < M);
        if self.n < M {
            self.lo[self.n] = MaybeUninit::new(lo);
            self.hi[self.n] = MaybeUninit::new(hi);
            self.pl[self.n] = MaybeUninit::new(pl);
            // INVARIANT: slot `n` was initialised above.
            self.n += 1;
        }
    }

    /// Payload of slot `k < n`.
    #[inline]
    pub(crate) fn pl(&self, k: usize) -> T {
        debug_assert!(k < self.n);
        // SAFETY: Slots `0..n` are initialised by `push`/`set`.
        unsafe { self.pl[k].assume_init() }
    }

    /// Overwrites slot `k < n`.
    #[inline]
    pub(crate) fn set(&mut self, k: usize, lo: usize, hi: usize, pl: T) {
        self.lo[k] = MaybeUninit::new(lo);
        self.hi[k] = MaybeUninit::new(hi);
        self.pl[k] = MaybeUninit::new(pl);
    }

    /// Removes slot `k < n`, shifting later slots down.
    pub(crate) fn remove(&mut self, k: usize) {
        for i in k..self.n.saturating_sub(1) {
            self.lo[i] = self.lo[i + 1];
            self.hi[i] = self.hi[i + 1];
            self.pl[i] = self.pl[i + 1];
        }
        self.n -= 1;
    }

    /// Appends all used slots of `node`.
    pub(crate) fn extend_from<const N: usize>(&mut self, node: &Node<T, N>) {
        for k in 0..node.count() {
            self.push(node.lo[k], node.hi[k], node.pl(k));
        }
    }

    /// Writes slots `from..to` into `node` (which must be exclusively ours)
    /// as its whole content.
    pub(crate) fn write_to<const N: usize>(&self, node: &mut Node<T, N>, from: usize, to: usize) {
        debug_assert!(to - from <= N && to <= self.n);
        let mut c = 0;
        for k in from..to {
            if c < N {
                let (lo, hi) = self.range(k);
                node.set(c, lo, hi, self.pl(k));
                c += 1;
            }
        }
        // `c <= N <= u8::MAX` by the geometry.
        node.hdr.count = c as u8;
    }
}

/// A list of children with their summaries that underflow fixes work on:
/// an assembly buffer, or an inner node the writer owns (fixed in place, so
/// that no buffer is needed on the stack).
pub(crate) trait Kids {
    /// Number of children.
    fn len(&self) -> usize;
    /// Child `k < len`.
    fn kid(&self, k: usize) -> Kid;
    /// Overwrites child `k < len`.
    fn set_kid(&mut self, k: usize, lo: usize, hi: usize, kid: Kid);
    /// Removes child `k < len`, shifting later ones down.
    fn remove_kid(&mut self, k: usize);
}

impl<const M: usize> Kids for Buf<Kid, M> {
    #[inline]
    fn len(&self) -> usize {
        self.n
    }
    #[inline]
    fn kid(&self, k: usize) -> Kid {
        self.pl(k)
    }
    #[inline]
    fn set_kid(&mut self, k: usize, lo: usize, hi: usize, kid: Kid) {
        self.set(k, lo, hi, kid)
    }
    #[inline]
    fn remove_kid(&mut self, k: usize) {
        self.remove(k)
    }
}

impl Kids for Inner {
    #[inline]
    fn len(&self) -> usize {
        self.count()
    }
    #[inline]
    fn kid(&self, k: usize) -> Kid {
        self.pl(k)
    }
    #[inline]
    fn set_kid(&mut self, k: usize, lo: usize, hi: usize, kid: Kid) {
        self.set(k, lo, hi, kid)
    }
    #[inline]
    fn remove_kid(&mut self, k: usize) {
        self.remove(k)
    }
}
