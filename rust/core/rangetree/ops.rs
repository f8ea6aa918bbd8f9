// SPDX-License-Identifier: GPL-2.0

//! The operations both modes share, below both: a store and an erase
//! through a writer state, and counting and freeing a subtree. The plain
//! tree (`tree.rs`), the RCU tree (`rcu.rs`) and the builders (`build.rs`)
//! call down into these; nothing here names either tree type.

use core::ptr::NonNull;

use super::node::{node_layout, NodePtr, NodeRef, View};
use super::pool::{Shared, WState, Wr};
use super::read;
use super::write::Path;
use super::{AllocError, Gfp, Platform, StoreError};

/// Stores `value` over `[first, last]` through the writer state `st`.
pub(crate) fn do_store<V: Copy, P: Platform>(
    sh: &Shared<V, P>,
    st: &mut WState,
    first: usize,
    last: usize,
    value: Option<V>,
    gfp: Gfp,
) -> Result<(), StoreError> {
    if first > last {
        return Err(StoreError::InvalidRange);
    }
    if value.is_none() && read::find(sh.root_ref(st), first, last).is_none() {
        return Ok(());
    }
    Wr::<V, P>::reserve(sh, st, gfp)?;
    let mut w = Wr::new(sh, st, gfp);
    if w.store(first, last, value).is_none() {
        w.abort();
        return Err(StoreError::Alloc);
    }
    Ok(())
}

/// Erases the entry containing `index` through the writer state `st`.
///
/// One walk: the walk that finds the entry is the one the store starts
/// from (the fast path, when the leaf keeps its fill limits).
pub(crate) fn do_erase<V: Copy, P: Platform>(
    sh: &Shared<V, P>,
    st: &mut WState,
    index: usize,
    gfp: Gfp,
) -> Result<Option<(usize, usize, V)>, AllocError> {
    let mut path = Path::new();
    let l = match path.descend(sh.root_ref(st), index) {
        Some(l) => l,
        None => return Ok(None),
    };
    let k = l.find_hi(index);
    if k >= l.count() || l.lo[k] > index {
        return Ok(None);
    }
    let e = (l.lo[k], l.hi[k], l.pl(k).0);
    Wr::<V, P>::reserve(sh, st, gfp)?;
    let mut w = Wr::new(sh, st, gfp);
    if w.store_at(&mut path, e.0, e.1, None).is_none() {
        w.abort();
        return Err(AllocError);
    }
    Ok(Some(e))
}

/// Counts the nodes below `n`.
pub(crate) fn count_nodes<V: Copy>(n: Option<NodeRef<'_, V>>) -> usize {
    let i = match n.map(NodeRef::view) {
        Some(View::Inner(i)) => i,
        Some(View::Leaf(_)) => return 1,
        None => return 0,
    };
    1 + (0..i.count())
        .map(|k| count_nodes(Some(i.child(k))))
        .sum::<usize>()
}

/// Frees every node below `n`, at once or after a grace period.
pub(crate) fn free_subtree<V: Copy, P: Platform>(p: &P, n: NodePtr, deferred: bool) {
    if !n.is_leaf() {
        // SAFETY: The caller owns the tree; nothing else changes it.
        let i = unsafe { n.inner() };
        for k in 0..i.count() {
            free_subtree::<V, P>(p, i.pl(k).child, deferred);
        }
    }
    let mem = n.0.cast::<u8>();
    if deferred {
        // SAFETY: The node came from `alloc` with this layout, is unreachable
        // from the (cleared) root, and is not touched again.
        unsafe { p.free_after_grace_period(mem, node_layout::<V>(), NonNull::from(&n.hdr().rcu)) };
    } else {
        // SAFETY: The node came from `alloc` with this layout and nobody can
        // reach it any more.
        unsafe { p.free(mem, node_layout::<V>()) };
    }
}
