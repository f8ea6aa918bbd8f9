// SPDX-License-Identifier: GPL-2.0

//! Invariant checks, the counterpart of `mt_validate()`.
//!
//! Nodes are read through [`NodeRef`]s, as in [`super::read`].

use super::node::{geo, NodeRef, Summary, View, MAX_HEIGHT};
use super::ValidateError;

struct Ctx {
    next_id: usize,
    entries: usize,
    height: usize,
}

/// Height of the tree below `root`, by its leftmost path.
pub(crate) fn height_of<V: Copy>(root: Option<NodeRef<'_, V>>) -> usize {
    let mut h = 0;
    let mut n = root;
    while let Some(x) = n {
        h += 1;
        if h > MAX_HEIGHT {
            break;
        }
        n = x.inner().map(|i| i.child(0));
    }
    h
}

/// Checks the whole tree, including that it holds `len` entries.
pub(crate) fn validate<V: Copy>(
    root: Option<NodeRef<'_, V>>,
    height: usize,
    len: usize,
) -> Result<(), ValidateError> {
    let found = check_tree(root, height)?;
    if found != len {
        return Err(ValidateError::Len {
            expected: len,
            found,
        });
    }
    Ok(())
}

/// Checks the tree's structure (not the entry count).
pub(crate) fn validate_snapshot<V: Copy>(
    root: Option<NodeRef<'_, V>>,
    height: usize,
) -> Result<(), ValidateError> {
    check_tree(root, height).map(|_| ())
}

/// Checks the tree and returns how many entries it holds.
fn check_tree<V: Copy>(
    root: Option<NodeRef<'_, V>>,
    height: usize,
) -> Result<usize, ValidateError> {
    if height > MAX_HEIGHT {
        return Err(ValidateError::Height);
    }
    let root = match root {
        Some(r) => r,
        None if height == 0 => return Ok(0),
        None => return Err(ValidateError::Height),
    };
    let mut ctx = Ctx {
        next_id: 0,
        entries: 0,
        height,
    };
    check(&mut ctx, root, 1, true, true)?;
    Ok(ctx.entries)
}

/// Checks the subtree `n` at `depth` (1 for the root) and returns its summary.
fn check<V: Copy>(
    ctx: &mut Ctx,
    n: NodeRef<'_, V>,
    depth: usize,
    is_root: bool,
    rightmost: bool,
) -> Result<Summary, ValidateError> {
    let id = ctx.next_id;
    ctx.next_id += 1;
    let cnt = n.count();
    let g = geo(n.is_leaf());
    if cnt == 0 || cnt > g.slots || (is_root && !n.is_leaf() && cnt < 2) {
        return Err(ValidateError::Count {
            node: id,
            count: cnt,
        });
    }
    if !is_root && !rightmost && cnt < g.min {
        return Err(ValidateError::Underfull {
            node: id,
            count: cnt,
        });
    }
    let i = match n.view() {
        View::Leaf(l) => {
            if depth != ctx.height {
                return Err(ValidateError::Depth { node: id });
            }
            for k in 0..cnt {
                if l.lo[k] > l.hi[k] || (k > 0 && l.lo[k] <= l.hi[k - 1]) {
                    return Err(ValidateError::Order { node: id, slot: k });
                }
            }
            ctx.entries += cnt;
            return Ok(l.summary());
        }
        View::Inner(i) => i,
    };
    if depth >= ctx.height {
        return Err(ValidateError::Depth { node: id });
    }
    for k in 0..cnt {
        if i.lo[k] > i.hi[k] || (k > 0 && i.lo[k] <= i.hi[k - 1]) {
            return Err(ValidateError::Order { node: id, slot: k });
        }
        let kid = i.pl(k);
        let s = check(ctx, i.child(k), depth + 1, false, rightmost && k + 1 == cnt)?;
        if s.lo != i.lo[k] || s.hi != i.hi[k] || s.gap != kid.gap {
            return Err(ValidateError::Summary { node: id, slot: k });
        }
    }
    Ok(i.summary())
}
