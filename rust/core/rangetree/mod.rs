// SPDX-License-Identifier: GPL-2.0

//! Range trees: a B-tree of non-overlapping inclusive ranges.
//!
//! This is vmatrack's platform-free core. It plays the role the maple tree
//! (C header: `include/linux/maple_tree.h`, implementation: `lib/maple_tree.c`,
//! reference: <https://docs.kernel.org/core-api/maple_tree.html>) plays for the
//! kernel's VMA tree: it maps non-overlapping ranges `[first, last]` (both ends
//! inclusive, so a range may end at `usize::MAX`) to copyable values, finds
//! free gaps in `O(log n)` and lets lockless readers walk the tree while one
//! writer changes it.
//!
//! The core imports only from `core`: every allocation, every deferred free
//! and every read-side critical section goes through one trait, [`Platform`].
//! The same files build inside the kernel module (with a platform made of
//! `kvmalloc`/`kvfree_call_rcu`/`rcu_read_lock`) and under cargo on the host.
//!
//! # Shape
//!
//! * Leaves hold up to [`LEAF_SLOTS`] entries `(first, last, value)` in order.
//! * Inner nodes hold up to [`INNER_SLOTS`] children, and for every child a
//!   summary: the lowest `first` and highest `last` below it and the largest
//!   free gap strictly inside it (the augmented data that makes
//!   [`RangeTree::empty_area`] logarithmic, like `maple_arange_64`).
//! * All leaves are at the same depth; every node except the root and the
//!   rightmost node of each level is at least a minimum fill (see
//!   [`GEOMETRY`]), so the height is logarithmic.
//!
//! # Modes
//!
//! [`RangeTree`] is the plain mode: no concurrent readers, updates happen in
//! place and freed nodes are reused through a node pool. [`RangeTree::into_rcu`]
//! switches (for good, like `MT_FLAGS_USE_RCU`) to [`RcuRangeTree`]: nodes are
//! immutable once published, a write copies the path it changes and publishes
//! the new root with release ordering, and replaced nodes are freed after a
//! grace period.
//!
//! # Examples
//!
//! ```
//! # use vmatrack_core::rangetree::{Gfp, RangeTree, StoreError};
//! # fn main() -> Result<(), StoreError> {
//! # // On the host (a doctest of rust/host/core), the host platform.
//! # let platform = vmatrack_testkit::StdPlatform::new();
//! let mut t = RangeTree::new(platform);
//! t.store(0x1000, 0x1fff, Some(1), Gfp::Kernel)?;
//! t.store(0x3000, 0x3fff, Some(2), Gfp::Kernel)?;
//! assert_eq!(t.load(0x1800), Some(1));
//! assert_eq!(t.empty_area(0, usize::MAX, 0x1000), Some(0));
//! assert_eq!(t.empty_area(0x1000, usize::MAX, 0x1000), Some(0x2000));
//! # Ok(())
//! # }
//! ```

mod build;
mod cursor;
mod dump;
mod gap;
mod node;
mod ops;
mod pool;
mod rcu;
mod read;
mod tree;
mod validate;
mod write;

use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::fmt;
use core::ptr::{self, NonNull};

use node::{Hdr, NodePtr};

pub use cursor::Cursor;
pub use node::{node_layout, Geometry, GEOMETRY, INNER_SLOTS, LEAF_SLOTS, MAX_HEIGHT};
pub use rcu::{RcuRangeTree, RcuWriter};
pub use read::Iter;
pub use tree::RangeTree;

/// How a write may get memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gfp {
    /// The platform may sleep to find memory (`GFP_KERNEL`).
    Kernel,
    /// The platform must not sleep (`GFP_ATOMIC` / `GFP_NOWAIT`).
    Atomic,
    /// No allocation at all: only nodes already in the tree's pool may be used.
    PoolOnly,
}

/// Memory could not be had; the tree is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError;

/// Why [`RangeTree::store`] failed. In both cases the tree is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// Memory could not be had (like `-ENOMEM`).
    Alloc,
    /// `first > last` (like `-EINVAL`).
    InvalidRange,
}

impl From<AllocError> for StoreError {
    fn from(_: AllocError) -> Self {
        StoreError::Alloc
    }
}

/// Why [`RangeTree::bulk_build`] failed. Nothing is leaked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// Memory could not be had.
    Alloc,
    /// The entry with this position in the input had `first > last`, or did
    /// not start after the previous entry's `last`.
    Unsorted(usize),
}

/// What [`RangeTree::validate`] found wrong. Describes the first problem met,
/// with node numbers as [`RangeTree::dump`] prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidateError {
    /// A node holds more entries than its kind allows, or none.
    Count {
        /// Node number in depth-first order.
        node: usize,
        /// Its entry count.
        count: usize,
    },
    /// A node other than the root or the rightmost of its level is below
    /// minimum fill.
    Underfull {
        /// Node number in depth-first order.
        node: usize,
        /// Its entry count.
        count: usize,
    },
    /// Entries (or children) are not in increasing, non-overlapping order.
    Order {
        /// Node number in depth-first order.
        node: usize,
        /// The slot whose range is out of order.
        slot: usize,
    },
    /// A summary (lowest first, highest last, largest gap) kept for a child
    /// differs from the child's content.
    Summary {
        /// Node number (of the parent) in depth-first order.
        node: usize,
        /// The child slot.
        slot: usize,
    },
    /// Leaves are not all at the tree's height.
    Depth {
        /// Node number in depth-first order.
        node: usize,
    },
    /// The number of entries differs from the tree's count.
    Len {
        /// What the tree's count says.
        expected: usize,
        /// What the leaves hold.
        found: usize,
    },
    /// The tree is higher than [`MAX_HEIGHT`] or its height field is wrong.
    Height,
}

impl fmt::Display for ValidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Space reserved in every node for the platform's deferred free.
///
/// It has the size and alignment of the kernel's `struct rcu_head` (two
/// pointers). The tree never reads it while a node is published; the
/// platform may write it from [`Platform::free_after_grace_period`] while
/// readers still read the rest of the node, which is why it is an
/// [`UnsafeCell`].
///
/// While the writer keeps a node on one of its lists, the words hold the
/// links as pointers, not addresses: a node taken from a list is then
/// reached through a pointer with the provenance of its allocation.
#[repr(C)]
pub struct RcuHead {
    words: [UnsafeCell<*mut Hdr>; 2],
}

impl RcuHead {
    /// A head whose links are both empty.
    pub(crate) const fn new() -> Self {
        Self {
            words: [const { UnsafeCell::new(ptr::null_mut()) }; 2],
        }
    }

    /// Reads the first word. Used by the tree to chain nodes that are in its
    /// pool or waiting to be retired; never for a node readers may see.
    pub(crate) fn link(&self) -> Option<NodePtr> {
        // SAFETY: Only the writer touches the words of a node, and it does so
        // while it has exclusive access to that node's head (a node in the
        // pool or the retire list is reachable by the writer only).
        NonNull::new(unsafe { *self.words[0].get() }).map(NodePtr)
    }

    /// Writes the first word, see [`RcuHead::link`].
    pub(crate) fn set_link(&self, v: Option<NodePtr>) {
        // SAFETY: As in `link`: the writer is the only one touching the head.
        unsafe { *self.words[0].get() = NodePtr::as_raw(v) }
    }

    /// Reads the second word: the link of the list of nodes taken by the
    /// write in progress (RCU mode). Such nodes are unpublished, so only the
    /// writer can reach their head.
    pub(crate) fn fresh_link(&self) -> Option<NodePtr> {
        // SAFETY: As in `link`: the writer is the only one touching the head
        // of a node it took during the current write.
        NonNull::new(unsafe { *self.words[1].get() }).map(NodePtr)
    }

    /// Writes the second word, see [`RcuHead::fresh_link`].
    pub(crate) fn set_fresh_link(&self, v: Option<NodePtr>) {
        // SAFETY: As in `fresh_link`.
        unsafe { *self.words[1].get() = NodePtr::as_raw(v) }
    }
}

/// What the tree needs from its surroundings.
///
/// # Safety
///
/// Implementors must guarantee:
/// * `alloc` returns either `None` or memory valid for reads and writes of
///   `layout.size()` bytes, aligned to `layout.align()`, not in use elsewhere,
///   and it honours `gfp` (never sleeps for [`Gfp::Atomic`]; the tree never
///   calls it with [`Gfp::PoolOnly`]).
/// * `free` and `free_after_grace_period` accept memory returned by `alloc`
///   of the same `layout`, from any value of the implementing type (a tree
///   may free nodes another tree of the same type allocated, see
///   [`RcuWriter::replace`]).
/// * `free_after_grace_period` does not free the memory before every read
///   guard that existed when it was called has been dropped (a grace period),
///   and does not sleep.
/// * A `ReadGuard` proves a read-side critical section: between
///   `read_lock()` and the guard's drop, memory passed to
///   `free_after_grace_period` after `read_lock()` returned is not freed.
pub unsafe trait Platform {
    /// Proves a read-side critical section (kernel: `kernel::sync::rcu::Guard`).
    type ReadGuard;

    /// Enters a read-side critical section.
    fn read_lock(&self) -> Self::ReadGuard;

    /// Allocates memory for one node.
    fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>>;

    /// Frees memory at once.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`Platform::alloc`] with the same `layout`, and nobody
    /// uses it any more.
    unsafe fn free(&self, ptr: NonNull<u8>, layout: Layout);

    /// Frees `ptr` after a grace period; `head` points inside the object
    /// (kernel: `kvfree_call_rcu(head, ptr)`).
    ///
    /// # Safety
    ///
    /// `ptr` came from [`Platform::alloc`] with the same `layout`, `head`
    /// points to an [`RcuHead`] inside that memory that the caller will not
    /// touch again, and no new reader can reach `ptr` any more.
    unsafe fn free_after_grace_period(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        head: NonNull<RcuHead>,
    );
}
