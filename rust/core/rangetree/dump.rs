// SPDX-License-Identifier: GPL-2.0

//! Text dump of the node structure, in the spirit of `mt_dump()`.
//!
//! Nodes are named by their number in depth-first order, never by address,
//! so the output can be shown to users (it backs the debugfs `tree` file).
//! Nodes are read through [`NodeRef`]s, as in [`super::read`].

use core::fmt::{self, Write};

use super::node::{NodeRef, View};

/// Writes the tree below `root`.
pub(crate) fn dump<V: Copy + fmt::Debug>(
    root: Option<NodeRef<'_, V>>,
    height: usize,
    len: usize,
    out: &mut impl Write,
) -> fmt::Result {
    writeln!(out, "rangetree height={} ranges={}", height, len)?;
    let mut id = 0;
    match root {
        Some(r) => node(r, 0, &mut id, out),
        None => writeln!(out, "(empty)"),
    }
}

/// Writes `n` and its subtree at `depth`.
fn node<V: Copy + fmt::Debug>(
    n: NodeRef<'_, V>,
    depth: usize,
    id: &mut usize,
    out: &mut impl Write,
) -> fmt::Result {
    let me = *id;
    *id += 1;
    for _ in 0..depth {
        out.write_str("  ")?;
    }
    let s = n.summary();
    let view = n.view();
    let kind = match view {
        View::Leaf(_) => "leaf",
        View::Inner(_) => "inner",
    };
    writeln!(
        out,
        "node {} depth {} {} count={} [{:#x}-{:#x}] gap={:#x}",
        me,
        depth,
        kind,
        n.count(),
        s.lo,
        s.hi,
        s.gap
    )?;
    let i = match view {
        View::Leaf(l) => {
            for k in 0..l.count() {
                for _ in 0..=depth {
                    out.write_str("  ")?;
                }
                writeln!(out, "{:#x}-{:#x}: {:?}", l.lo[k], l.hi[k], l.pl(k).0)?;
            }
            return Ok(());
        }
        View::Inner(i) => i,
    };
    for k in 0..i.count() {
        node(i.child(k), depth + 1, id, out)?;
    }
    Ok(())
}
