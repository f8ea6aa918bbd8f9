// SPDX-License-Identifier: GPL-2.0

//! What the in-kernel checks of the range tree share: the Rust module's
//! KUnit suite and `selftest` file (`glue::treetest`, the latter against
//! the kernel's C maple tree) and the m68k module's `selftest` file
//! (`rust/wasm/model_cases.rs`, against a plain model). Platform-free, like
//! the tree: the failure and case types, the KTAP printer, the seeded
//! generator, and the cases that need no reference at all.

pub mod rng;

use core::fmt::{self, Write};

use super::rangetree::{Gfp, Platform, RangeTree};

/// A failed expectation: what went wrong and two numbers to print with it
/// (addresses, counts, operation numbers).
pub struct Failure(pub &'static str, pub usize, pub usize);

/// What a case returns.
pub type CaseResult = Result<(), Failure>;

/// A named case: it gets a seed and passes or says what went wrong.
pub type Case = (&'static str, fn(u64) -> CaseResult);

/// One random operation on a tree (and on its reference).
pub enum Op {
    /// `store(first, last, value)`; `None` clears.
    Store(usize, usize, Option<usize>),
    /// `erase(index)`.
    Erase(usize),
}

/// Runs every case with its own seed (`seed` + its position) and prints
/// KTAP: the header, a plan of `cases.len() + more` (the caller prints
/// `more` results of its own after these), the seed, and one result per
/// case with the failure's description before a `not ok`.
pub fn run_ktap(seed: u64, cases: &[Case], more: usize, out: &mut impl Write) -> fmt::Result {
    writeln!(out, "TAP version 13")?;
    writeln!(out, "1..{}", cases.len() + more)?;
    writeln!(out, "# seed={seed}")?;
    for (i, (name, case)) in cases.iter().enumerate() {
        match case(seed.wrapping_add(i as u64)) {
            Ok(()) => writeln!(out, "ok {} {name}", i + 1)?,
            Err(Failure(what, a, b)) => {
                writeln!(out, "# {what} {a:#x} {b:#x}")?;
                writeln!(out, "not ok {} {name}", i + 1)?;
            }
        }
    }
    Ok(())
}

/// After `fill_pool(worst_case_nodes_per_store())`, a store that may not
/// allocate (`Gfp::PoolOnly`, the probe-context case) always succeeds, for
/// `ops` operations from `next_op` (an erase becomes a clearing store of
/// one byte).
pub fn preallocated_store_cannot_fail<P: Platform>(
    platform: P,
    ops: usize,
    mut next_op: impl FnMut(usize) -> Op,
) -> CaseResult {
    let mut t = RangeTree::<usize, _>::new(platform);
    for i in 0..ops {
        let need = t.worst_case_nodes_per_store();
        t.fill_pool(need, Gfp::Kernel)
            .map_err(|_| Failure("fill_pool failed", need, 0))?;
        let (f, l, v) = match next_op(i) {
            Op::Store(f, l, v) => (f, l, v),
            Op::Erase(x) => (x, x, None),
        };
        t.store(f, l, v, Gfp::PoolOnly)
            .map_err(|_| Failure("pool-only store failed (op, pool)", i, t.pool_len()))?;
    }
    t.validate().map_err(|_| Failure("validate() failed", 0, 0))
}

/// `dup()` of `t` is a copy of its own: it validates, `same` (the caller's
/// comparison with its reference) finds it equal, and clearing it leaves
/// `t` as it was (`same` again).
pub fn dup_is_a_separate_copy<P: Platform + Clone>(
    t: &RangeTree<usize, P>,
    same: impl Fn(&RangeTree<usize, P>) -> CaseResult,
) -> CaseResult {
    let mut d = t
        .dup(Gfp::Kernel)
        .map_err(|_| Failure("dup failed", 0, 0))?;
    d.validate()
        .map_err(|_| Failure("validate() failed on the dup", 0, 0))?;
    same(&d)?;
    d.store(0, usize::MAX, None, Gfp::Kernel)
        .map_err(|_| Failure("clearing the dup failed", 0, 0))?;
    if !d.is_empty() {
        return Err(Failure("dup not empty after clearing it", d.len(), 0));
    }
    same(t)
}
