// SPDX-License-Identifier: GPL-2.0

//! The `selftest` debugfs file: randomized checks of the range tree inside
//! the kernel, against the kernel's own C maple tree on the same inputs,
//! printed as KTAP. The cases that need no C maple tree are the KUnit
//! suite's (`super::kunit`), which shares the operations generated here.
//!
//! Every case replays a seeded sequence of operations on both trees and
//! then demands the same contents (and, for gap search, the same answers
//! as `mas_empty_area[_rev]`). The seed is printed, so a failure can be
//! replayed by reading the file again with the same seed (module parameter
//! `selftest_seed`; 0 picks one from the clock).

use core::fmt;
use kernel::prelude::*;

use super::maple_peer::CMapleTree;
use crate::glue::platform::KernelPlatform;
use crate::rangetree::{Gfp, Platform, RangeTree, RcuRangeTree};
use crate::selftest::{self as cases, rng::Rng, Case, CaseResult, Failure, Op};

/// Operations per random case: enough to split, merge and re-grow nodes
/// several levels deep, yet a second or two under QEMU's TCG.
pub(crate) const OPS: usize = 3000;

/// The key space the random ranges live in: page-sized slots, small enough
/// that stores overlap often.
const SLOTS: usize = 1 << 12;
const PAGE: usize = 4096;

/// A random operation: mostly stores of one to 64 pages, sometimes a
/// clearing store or an erase, now and then a range touching `usize::MAX`
/// (where `last + 1` overflows) or 0.
pub(crate) fn random_op(rng: &mut Rng, serial: usize) -> Op {
    let first = rng.below(SLOTS) * PAGE;
    let len = (1 + rng.below(64)) * PAGE;
    let last = first.saturating_add(len - 1);
    match rng.below(100) {
        0 => Op::Store(usize::MAX - len + 1, usize::MAX, Some(serial)),
        1 => Op::Store(0, len - 1, Some(serial)),
        2..=14 => Op::Store(first, last, None),
        15..=29 => Op::Erase(first + rng.below(len)),
        _ => Op::Store(first, last, Some(serial)),
    }
}

/// Checks that `load_range` of ours agrees with every entry of the C tree,
/// and that both hold the same number of entries (together: same contents).
fn same_contents(
    c: &CMapleTree,
    ours_len: usize,
    load_range: impl Fn(usize) -> Option<(usize, usize, usize)>,
) -> CaseResult {
    let mut bad = None;
    let n = c.for_each(|first, last, v| {
        if bad.is_none() && load_range(first) != Some((first, last, v)) {
            bad = Some(Failure(
                "entry differs from the C maple tree at",
                first,
                last,
            ));
        }
    });
    if let Some(f) = bad {
        return Err(f);
    }
    if n != ours_len {
        return Err(Failure("entry count differs (C, ours)", n, ours_len));
    }
    Ok(())
}

/// Random stores and erases in plain mode, `validate()` after every one,
/// contents compared with the C maple tree every 100 operations and at the end.
fn plain_matches_c(seed: u64) -> CaseResult {
    let mut rng = Rng::new(seed);
    let c = CMapleTree::new(false).map_err(|_| Failure("C tree allocation failed", 0, 0))?;
    let mut t = RangeTree::<usize, _>::new(KernelPlatform);
    for i in 0..OPS {
        match random_op(&mut rng, i) {
            Op::Store(f, l, v) => {
                t.store(f, l, v, Gfp::Kernel)
                    .map_err(|_| Failure("store failed", f, l))?;
                c.store(f, l, v)
                    .map_err(|_| Failure("C store failed", f, l))?;
            }
            Op::Erase(x) => {
                let ours = t
                    .erase(x, Gfp::Kernel)
                    .map_err(|_| Failure("erase failed", x, 0))?;
                let theirs = c.erase(x);
                if ours.map(|e| e.2) != theirs {
                    return Err(Failure("erase returned a different value at", x, 0));
                }
            }
        }
        t.validate()
            .map_err(|_| Failure("validate() failed after op", i, 0))?;
        if i % 100 == 99 {
            same_contents(&c, t.len(), |x| t.load_range(x))?;
        }
    }
    same_contents(&c, t.len(), |x| t.load_range(x))
}

/// Builds the same random layout in both trees (through `bulk_build` for
/// ours, from the C tree's entries).
fn random_layout(
    seed: u64,
) -> core::result::Result<(CMapleTree, RangeTree<usize, KernelPlatform>), Failure> {
    let mut rng = Rng::new(seed);
    let c = CMapleTree::new(false).map_err(|_| Failure("C tree allocation failed", 0, 0))?;
    for i in 0..OPS {
        let r = match random_op(&mut rng, i) {
            Op::Store(f, l, v) => c.store(f, l, v),
            Op::Erase(x) => {
                c.erase(x);
                Ok(())
            }
        };
        r.map_err(|_| Failure("C store failed", i, 0))?;
    }
    // `for_each` calls back under the C tree's spinlock, where allocating
    // could sleep: room for every entry is made first, so the pushes
    // never allocate.
    let mut entries = KVec::new();
    let n = c.for_each(|_, _, _| ());
    entries
        .reserve(n, GFP_KERNEL)
        .map_err(|_| Failure("out of memory for the layout", 0, 0))?;
    let mut push_failed = false;
    c.for_each(|f, l, v| {
        push_failed |= entries
            .push((f, l, v), kernel::alloc::flags::GFP_NOWAIT)
            .is_err()
    });
    if push_failed {
        return Err(Failure("out of memory for the layout", 0, 0));
    }
    let t = RangeTree::bulk_build(KernelPlatform, entries.iter().copied(), Gfp::Kernel)
        .map_err(|_| Failure("bulk_build failed", entries.len(), 0))?;
    t.validate()
        .map_err(|_| Failure("validate() failed after bulk_build", 0, 0))?;
    same_contents(&c, t.len(), |x| t.load_range(x))?;
    Ok((c, t))
}

/// `empty_area` / `empty_area_rev` give exactly `mas_empty_area[_rev]`'s
/// answers for random windows and sizes on a random layout.
fn gap_search_matches_c(seed: u64) -> CaseResult {
    let (c, t) = random_layout(seed)?;
    let mut rng = Rng::new(seed ^ 0x5eed);
    let top = (SLOTS + 64) * PAGE;
    for _ in 0..2000 {
        let a = rng.below(top);
        let b = rng.below(top);
        let (min, max) = if a <= b { (a, b) } else { (b, a) };
        // Sizes from one byte to a few dozen pages, page multiples mostly.
        let size = if rng.below(4) == 0 {
            1 + rng.below(3 * PAGE)
        } else {
            (1 + rng.below(48)) * PAGE
        };
        if t.empty_area(min, max, size) != c.empty_area(min, max, size) {
            return Err(Failure("empty_area differs (min, size)", min, size));
        }
        if t.empty_area_rev(min, max, size) != c.empty_area_rev(min, max, size) {
            return Err(Failure("empty_area_rev differs (max, size)", max, size));
        }
    }
    Ok(())
}

/// `bulk_build` then `dup()`: the copy validates and holds the same entries,
/// and changing the copy leaves the original alone.
fn bulk_build_and_dup(seed: u64) -> CaseResult {
    let (c, t) = random_layout(seed)?;
    cases::dup_is_a_separate_copy(&t, |d| same_contents(&c, d.len(), |x| d.load_range(x)))
}

/// RCU mode: the same random operations through the writer, reads under
/// the RCU read lock, contents equal to the C tree in RCU mode.
fn rcu_matches_c(seed: u64) -> CaseResult {
    let mut rng = Rng::new(seed);
    let c = CMapleTree::new(true).map_err(|_| Failure("C tree allocation failed", 0, 0))?;
    let t: RcuRangeTree<usize, _> = RangeTree::new(KernelPlatform).into_rcu();
    for i in 0..OPS {
        let op = random_op(&mut rng, i);
        {
            let mut w = t
                .try_write()
                .ok_or(Failure("writer busy with no other writer", i, 0))?;
            match op {
                Op::Store(f, l, v) => {
                    w.store(f, l, v, Gfp::Kernel)
                        .map_err(|_| Failure("store failed", f, l))?;
                    c.store(f, l, v)
                        .map_err(|_| Failure("C store failed", f, l))?;
                }
                Op::Erase(x) => {
                    let ours = w
                        .erase(x, Gfp::Kernel)
                        .map_err(|_| Failure("erase failed", x, 0))?;
                    if ours.map(|e| e.2) != c.erase(x) {
                        return Err(Failure("erase returned a different value at", x, 0));
                    }
                }
            }
        }
        if i % 100 == 99 {
            let g = KernelPlatform.read_lock();
            same_contents(&c, t.len(&g), |x| t.load_range(x, &g))?;
        }
    }
    let g = KernelPlatform.read_lock();
    t.validate(&g)
        .map_err(|_| Failure("validate() failed in RCU mode", 0, 0))?;
    same_contents(&c, t.len(&g), |x| t.load_range(x, &g))
}

/// The cases, in the order they are reported.
const CASES: [Case; 4] = [
    ("plain_random_ops_match_c_maple_tree", plain_matches_c),
    ("gap_search_matches_mas_empty_area", gap_search_matches_c),
    ("bulk_build_and_dup_match", bulk_build_and_dup),
    ("rcu_mode_random_ops_match_c_maple_tree", rcu_matches_c),
];

/// Renders the `selftest` file: runs every case with `seed` and prints KTAP.
pub(crate) fn run(seed: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    cases::run_ktap(seed, &CASES, 0, f)
}
