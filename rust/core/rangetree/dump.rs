// SPDX-License-Identifier: GPL-2.0

//! Text dump of the node structure, in the spirit of `mt_dump()`.
//!
//! Nodes are named by their number in depth-first order, never by address,
//! so the output can be shown to users (it backs the debugfs `tree` file).
//! Nodes are read as in [`super::read`]: the caller keeps them alive and
//! unchanged, which is the argument for every `unsafe` below.

use core::fmt::{self, Write};

use super::node::NodePtr;

/// Writes the tree below `root`.
pub(crate) fn dump<V: Copy + fmt::Debug>(
    root: Option<NodePtr>,
    height: usize,
    len: usize,
    out: &mut impl Write,
) -> fmt::Result {
    writeln!(out, "rangetree height={} ranges={}", height, len)?;
    let mut id = 0;
    match root {
        Some(r) => node::<V>(r, 0, &mut id, out),
        None => writeln!(out, "(empty)"),
    }
}

/// Writes `n` and its subtree at `depth`.
fn node<V: Copy + fmt::Debug>(
    n: NodePtr,
    depth: usize,
    id: &mut usize,
    out: &mut impl Write,
) -> fmt::Result {
    let me = *id;
    *id += 1;
    for _ in 0..depth {
        out.write_str("  ")?;
    }
    // SAFETY: See the module documentation.
    let s = unsafe { n.summary::<V>() };
    if n.is_leaf() {
        writeln!(
            out,
            "node {} depth {} leaf count={} [{:#x}-{:#x}] gap={:#x}",
            me,
            depth,
            n.count(),
            s.lo,
            s.hi,
            s.gap
        )?;
        // SAFETY: See the module documentation.
        let l = unsafe { n.leaf::<V>() };
        for k in 0..l.count() {
            for _ in 0..=depth {
                out.write_str("  ")?;
            }
            writeln!(out, "{:#x}-{:#x}: {:?}", l.lo[k], l.hi[k], l.pl(k).0)?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "node {} depth {} inner count={} [{:#x}-{:#x}] gap={:#x}",
        me,
        depth,
        n.count(),
        s.lo,
        s.hi,
        s.gap
    )?;
    // SAFETY: See the module documentation.
    let i = unsafe { n.inner() };
    for k in 0..i.count() {
        node::<V>(i.pl(k).child, depth + 1, id, out)?;
    }
    Ok(())
}
