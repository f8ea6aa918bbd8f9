// SPDX-License-Identifier: GPL-2.0

//! Free-gap search: `mas_empty_area()` and `mas_empty_area_rev()`.
//!
//! The free space of the tree is everything not covered by an entry,
//! including before the first and after the last entry. Every inner node
//! keeps, per child, the largest free gap strictly inside the child, and the
//! gap between two neighbouring children follows from their `hi`/`lo`, so a
//! search skips any child whose gap is too small. Only children cut by the
//! window's ends can be entered without success, so a search is
//! `O(log n)` node visits.
//!
//! Nodes are read through [`NodeRef`]s, as in [`super::read`].

use super::node::{NodeRef, View};

/// Checks the arguments like `mas_empty_area()`: `-EINVAL` cases give `false`.
#[inline]
fn args_ok(min: usize, max: usize, size: usize) -> bool {
    min <= max && size != 0 && max - min >= size - 1
}

/// Lowest start of `size` free units in `[a, b] ∩ [min, max]`.
#[inline]
fn fit_low(a: usize, b: usize, min: usize, max: usize, size: usize) -> Option<usize> {
    let s = a.max(min);
    let e = b.min(max);
    (s <= e && e - s >= size - 1).then_some(s)
}

/// Highest start of `size` free units in `[a, b] ∩ [min, max]`.
#[inline]
fn fit_high(a: usize, b: usize, min: usize, max: usize, size: usize) -> Option<usize> {
    let s = a.max(min);
    let e = b.min(max);
    (s <= e && e - s >= size - 1).then(|| e - (size - 1))
}

/// Lowest fit strictly inside node `n` (between its first and last entry).
fn low_in<V: Copy>(n: NodeRef<'_, V>, min: usize, max: usize, size: usize) -> Option<usize> {
    let i = match n.view() {
        View::Leaf(l) => {
            for k in 1..l.count() {
                if l.lo[k] - 1 < min {
                    continue;
                }
                if l.hi[k - 1] + 1 > max {
                    return None;
                }
                if let Some(s) = fit_low(l.hi[k - 1] + 1, l.lo[k] - 1, min, max, size) {
                    return Some(s);
                }
            }
            return None;
        }
        View::Inner(i) => i,
    };
    for k in 0..i.count() {
        if k > 0 {
            // The gap between children `k - 1` and `k`.
            if i.hi[k - 1] + 1 > max {
                return None;
            }
            if i.lo[k] > min {
                if let Some(s) = fit_low(i.hi[k - 1] + 1, i.lo[k] - 1, min, max, size) {
                    return Some(s);
                }
            }
        }
        if i.lo[k] > max {
            return None;
        }
        let kid = i.pl(k);
        if kid.gap >= size && i.hi[k] > min && i.lo[k] < max {
            if let Some(s) = low_in(i.child(k), min, max, size) {
                return Some(s);
            }
        }
    }
    None
}

/// Highest fit strictly inside node `n`.
fn high_in<V: Copy>(n: NodeRef<'_, V>, min: usize, max: usize, size: usize) -> Option<usize> {
    let i = match n.view() {
        View::Leaf(l) => {
            for k in (1..l.count()).rev() {
                if l.hi[k - 1] + 1 > max {
                    continue;
                }
                if l.lo[k] - 1 < min {
                    return None;
                }
                if let Some(s) = fit_high(l.hi[k - 1] + 1, l.lo[k] - 1, min, max, size) {
                    return Some(s);
                }
            }
            return None;
        }
        View::Inner(i) => i,
    };
    for k in (0..i.count()).rev() {
        if i.hi[k] < min {
            return None;
        }
        let kid = i.pl(k);
        if kid.gap >= size && i.hi[k] > min && i.lo[k] < max {
            if let Some(s) = high_in(i.child(k), min, max, size) {
                return Some(s);
            }
        }
        if k > 0 && i.hi[k - 1] < max {
            if let Some(s) = fit_high(i.hi[k - 1] + 1, i.lo[k] - 1, min, max, size) {
                return Some(s);
            }
        }
    }
    None
}

/// `(lo, hi)` of the whole tree.
fn bounds<V: Copy>(root: NodeRef<'_, V>) -> (usize, usize) {
    // A root is never empty.
    let s = root.summary();
    (s.lo, s.hi)
}

/// Lowest `s` with `[s, s + size - 1]` free and inside `[min, max]`.
///
/// `None` where `mas_empty_area()` returns `-EINVAL` (`min > max`,
/// `size == 0`, window smaller than `size`) or `-EBUSY` (no such gap).
pub(crate) fn empty_area<V: Copy>(
    root: Option<NodeRef<'_, V>>,
    min: usize,
    max: usize,
    size: usize,
) -> Option<usize> {
    if !args_ok(min, max, size) {
        return None;
    }
    let root = match root {
        Some(r) => r,
        None => return Some(min),
    };
    let (lo, hi) = bounds(root);
    if lo > 0 {
        if let Some(s) = fit_low(0, lo - 1, min, max, size) {
            return Some(s);
        }
    }
    if lo < max && hi > min {
        if let Some(s) = low_in(root, min, max, size) {
            return Some(s);
        }
    }
    if hi < usize::MAX {
        return fit_low(hi + 1, usize::MAX, min, max, size);
    }
    None
}

/// Highest `s` with `[s, s + size - 1]` free and inside `[min, max]`
/// (`mas_empty_area_rev()`; `None` as for [`empty_area`]).
pub(crate) fn empty_area_rev<V: Copy>(
    root: Option<NodeRef<'_, V>>,
    min: usize,
    max: usize,
    size: usize,
) -> Option<usize> {
    if !args_ok(min, max, size) {
        return None;
    }
    let root = match root {
        Some(r) => r,
        None => return Some(max - (size - 1)),
    };
    let (lo, hi) = bounds(root);
    if hi < usize::MAX {
        if let Some(s) = fit_high(hi + 1, usize::MAX, min, max, size) {
            return Some(s);
        }
    }
    if lo < max && hi > min {
        if let Some(s) = high_in(root, min, max, size) {
            return Some(s);
        }
    }
    if lo > 0 {
        return fit_high(0, lo - 1, min, max, size);
    }
    None
}
