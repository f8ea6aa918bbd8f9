// SPDX-License-Identifier: GPL-2.0

//! The `selftest` file of the m68k module: randomized checks of the range
//! tree and the sync path, run inside the ColdFire kernel through wasm2c,
//! printed as KTAP.
//!
//! The x86_64 and riscv64 modules check the tree against the kernel's C
//! maple tree; here the reference is a plain model that cannot share a
//! bug with the tree: one value per page slot. Every store gets a fresh
//! value, so the model's runs of equal values are exactly the tree's
//! entries. The seed is printed; reading the file again with the same
//! seed (module parameter `selftest_seed`) replays a failure.

use core::fmt::{self, Write};

use super::buf::Buf;
use super::platform::{self, LinearPlatform};
use crate::engine::{
    record::{ObjectId, VmaRecord},
    sync::sync,
};
use crate::rangetree::{Gfp, Platform, RangeTree, RcuRangeTree};
use crate::selftest::{self as cases, rng::Rng, Case, CaseResult, Failure, Op};

/// Operations per random case (TCG-emulated ColdFire is slow).
const OPS: usize = 1500;
/// Page slots the model covers, and the page size of the keys.
const SLOTS: usize = 1 << 10;
const PAGE: usize = 4096;

/// One value (0: empty) per page slot.
struct Model(Buf<u32>);

impl Model {
    fn new() -> Result<Self, Failure> {
        let mut b = Buf::new();
        b.resize(SLOTS, 0)
            .map_err(|()| Failure("model allocation failed", SLOTS, 0))?;
        Ok(Model(b))
    }

    fn store(&mut self, first: usize, last: usize, v: Option<usize>) {
        let val = v.map_or(0, |v| v as u32 + 1);
        for s in &mut self.0.as_mut_slice()[first / PAGE..=last / PAGE] {
            *s = val;
        }
    }

    /// Clears the run of equal values around `slot` (an erase), returns it.
    fn erase(&mut self, slot: usize) -> Option<usize> {
        let m = self.0.as_mut_slice();
        let v = m[slot];
        if v == 0 {
            return None;
        }
        let (mut lo, mut hi) = (slot, slot);
        while lo > 0 && m[lo - 1] == v {
            lo -= 1;
        }
        while hi + 1 < SLOTS && m[hi + 1] == v {
            hi += 1;
        }
        for s in &mut m[lo..=hi] {
            *s = 0;
        }
        Some(v as usize - 1)
    }

    /// The model's entries, as `(first, last, value)` runs, in order.
    fn runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let m = self.0.as_slice();
        let mut s = 0;
        core::iter::from_fn(move || {
            while s < SLOTS && m[s] == 0 {
                s += 1;
            }
            if s == SLOTS {
                return None;
            }
            let start = s;
            while s + 1 < SLOTS && m[s + 1] == m[start] {
                s += 1;
            }
            s += 1;
            Some((start * PAGE, s * PAGE - 1, m[start] as usize - 1))
        })
    }

    fn is_free(&self, first: usize, last: usize) -> bool {
        self.0.as_slice()[first / PAGE..=last / PAGE]
            .iter()
            .all(|&v| v == 0)
    }
}

/// Mostly stores of one to 32 pages, some clearing stores and erases.
fn random_op(rng: &mut Rng, serial: usize) -> Op {
    let first = rng.below(SLOTS) * PAGE;
    let len = (1 + rng.below(32)) * PAGE;
    let last = (first + len - 1).min(SLOTS * PAGE - 1);
    match rng.below(100) {
        0..=14 => Op::Store(first, last, None),
        15..=29 => Op::Erase(first + rng.below(last - first + 1)),
        _ => Op::Store(first, last, Some(serial)),
    }
}

/// The tree's entries equal the model's runs.
fn same_contents(
    model: &Model,
    mut ours: impl Iterator<Item = (usize, usize, usize)>,
) -> CaseResult {
    for (f, l, v) in model.runs() {
        match ours.next() {
            Some(e) if e == (f, l, v) => {}
            Some((a, b, _)) => return Err(Failure("entry differs from the model at", a, b)),
            None => return Err(Failure("entry missing from the tree at", f, l)),
        }
    }
    match ours.next() {
        Some((a, b, _)) => Err(Failure("entry not in the model at", a, b)),
        None => Ok(()),
    }
}

/// Applies `op` to the model; `ok` says whether the tree took it.
fn apply(model: &mut Model, op: &Op) {
    match *op {
        Op::Store(f, l, v) => model.store(f, l, v),
        Op::Erase(x) => {
            model.erase(x / PAGE);
        }
    }
}

/// Random stores and erases in plain mode, `validate()` after each,
/// contents compared with the model every 100 operations and at the end.
fn plain_random_ops(seed: u64) -> CaseResult {
    let mut rng = Rng::new(seed);
    let mut model = Model::new()?;
    let mut t = RangeTree::<usize, _>::new(LinearPlatform);
    for i in 0..OPS {
        let op = random_op(&mut rng, i);
        match op {
            Op::Store(f, l, v) => t
                .store(f, l, v, Gfp::Kernel)
                .map_err(|_| Failure("store failed", f, l))?,
            Op::Erase(x) => {
                let ours = t
                    .erase(x, Gfp::Kernel)
                    .map_err(|_| Failure("erase failed", x, 0))?;
                if ours.map(|e| e.2) != model.erase(x / PAGE) {
                    return Err(Failure("erase returned a different value at", x, 0));
                }
            }
        }
        if let Op::Store(..) = op {
            apply(&mut model, &op);
        }
        t.validate()
            .map_err(|_| Failure("validate() failed after op", i, 0))?;
        if i % 100 == 99 {
            same_contents(&model, t.iter())?;
        }
    }
    same_contents(&model, t.iter())
}

/// A random layout in the model and the tree (through `bulk_build`).
fn random_layout(seed: u64) -> Result<(Model, RangeTree<usize, LinearPlatform>), Failure> {
    let mut rng = Rng::new(seed);
    let mut model = Model::new()?;
    for i in 0..OPS / 4 {
        let op = random_op(&mut rng, i);
        apply(&mut model, &op);
    }
    let t = RangeTree::bulk_build(LinearPlatform, model.runs(), Gfp::Kernel)
        .map_err(|_| Failure("bulk_build failed", 0, 0))?;
    t.validate()
        .map_err(|_| Failure("validate() failed after bulk_build", 0, 0))?;
    same_contents(&model, t.iter())?;
    Ok((model, t))
}

/// `empty_area` and `empty_area_rev` give the model's lowest and highest
/// fits for random windows and sizes.
fn gap_search(seed: u64) -> CaseResult {
    let (model, t) = random_layout(seed)?;
    let mut rng = Rng::new(seed ^ 0x5eed);
    for _ in 0..OPS {
        let a = rng.below(SLOTS);
        let b = rng.below(SLOTS);
        let (lo, hi) = (a.min(b), a.max(b));
        let pages = 1 + rng.below(8);
        let (min, max, size) = (lo * PAGE, (hi + 1) * PAGE - 1, pages * PAGE);
        let fits = |s: usize| model.is_free(s * PAGE, (s + pages) * PAGE - 1);
        let slots = || (lo..=hi).filter(move |s| s + pages <= hi + 1);
        let want = slots().find(|&s| fits(s)).map(|s| s * PAGE);
        if t.empty_area(min, max, size) != want {
            return Err(Failure(
                "empty_area differs from the model (min, size)",
                min,
                size,
            ));
        }
        let want = slots().rev().find(|&s| fits(s)).map(|s| s * PAGE);
        if t.empty_area_rev(min, max, size) != want {
            return Err(Failure(
                "empty_area_rev differs from the model (max, size)",
                max,
                size,
            ));
        }
    }
    Ok(())
}

/// `bulk_build` then `dup()`: the copy validates and holds the same
/// entries, and clearing it leaves the original alone.
fn bulk_build_and_dup(seed: u64) -> CaseResult {
    let (model, t) = random_layout(seed)?;
    cases::dup_is_a_separate_copy(&t, |d| same_contents(&model, d.iter()))
}

/// RCU mode: the same random operations through the writer, reads under
/// a read guard.
fn rcu_random_ops(seed: u64) -> CaseResult {
    let mut rng = Rng::new(seed);
    let mut model = Model::new()?;
    let t: RcuRangeTree<usize, _> = RangeTree::new(LinearPlatform).into_rcu();
    for i in 0..OPS {
        let op = random_op(&mut rng, i);
        {
            let mut w = t
                .try_write()
                .ok_or(Failure("writer busy with no other writer", i, 0))?;
            match op {
                Op::Store(f, l, v) => w
                    .store(f, l, v, Gfp::Kernel)
                    .map_err(|_| Failure("store failed", f, l))?,
                Op::Erase(x) => {
                    w.erase(x, Gfp::Kernel)
                        .map_err(|_| Failure("erase failed", x, 0))?;
                }
            }
        }
        apply(&mut model, &op);
        if i % 100 == 99 {
            let g = LinearPlatform.read_lock();
            same_contents(&model, t.iter(&g))?;
        }
    }
    let g = LinearPlatform.read_lock();
    t.validate(&g)
        .map_err(|_| Failure("validate() failed in RCU mode", 0, 0))?;
    same_contents(&model, t.iter(&g))
}

/// After `fill_pool(worst_case_nodes_per_store())`, a store that may not
/// allocate (`Gfp::PoolOnly`) always succeeds.
fn preallocated_store_cannot_fail(seed: u64) -> CaseResult {
    let mut rng = Rng::new(seed);
    cases::preallocated_store_cannot_fail(LinearPlatform, OPS, |i| random_op(&mut rng, i))
}

/// With one of the next few allocations failing at every operation, a
/// failed store or erase leaves the tree exactly as it was.
fn alloc_failure_leaves_tree_unchanged(seed: u64) -> CaseResult {
    let mut rng = Rng::new(seed);
    let mut model = Model::new()?;
    let mut t = RangeTree::<usize, _>::new(LinearPlatform);
    let mut failed = 0;
    for i in 0..OPS {
        let op = random_op(&mut rng, i);
        platform::fail_allocation(1 + rng.below(4), false);
        let ok = match op {
            Op::Store(f, l, v) => t.store(f, l, v, Gfp::Kernel).is_ok(),
            Op::Erase(x) => t.erase(x, Gfp::Kernel).is_ok(),
        };
        platform::fail_allocation(0, false);
        if ok {
            apply(&mut model, &op);
        } else {
            failed += 1;
        }
        t.validate()
            .map_err(|_| Failure("validate() failed after op", i, 0))?;
        same_contents(&model, t.iter())?;
    }
    if failed == 0 {
        return Err(Failure(
            "no operation failed: the case tested nothing",
            0,
            0,
        ));
    }
    Ok(())
}

/// `engine::sync` brings a shadow to each of a series of random
/// snapshots (the m68k mirror's only update path).
fn sync_reaches_each_snapshot(seed: u64) -> CaseResult {
    let mut rng = Rng::new(seed);
    let mut model = Model::new()?;
    let mut t = RangeTree::<VmaRecord, _>::new(LinearPlatform);
    let rec = |v: usize| VmaRecord {
        vma: ObjectId(v as u64 + 1),
        ..VmaRecord::default()
    };
    for i in 0..OPS / 50 {
        for j in 0..50 {
            let op = random_op(&mut rng, i * 50 + j);
            apply(&mut model, &op);
        }
        sync(
            &mut t,
            model.runs().map(|(f, l, v)| (f, l, rec(v))),
            Gfp::Kernel,
        )
        .map_err(|_| Failure("sync failed at snapshot", i, 0))?;
        t.validate()
            .map_err(|_| Failure("validate() failed after sync", i, 0))?;
        same_contents(
            &model,
            t.iter().map(|(f, l, r)| (f, l, r.vma.0 as usize - 1)),
        )?;
    }
    Ok(())
}

/// The cases, in the order they are reported.
const CASES: [Case; 7] = [
    ("plain_random_ops_match_model", plain_random_ops),
    ("gap_search_matches_model", gap_search),
    ("bulk_build_and_dup_match", bulk_build_and_dup),
    ("rcu_mode_random_ops_match_model", rcu_random_ops),
    (
        "preallocated_store_cannot_fail",
        preallocated_store_cannot_fail,
    ),
    (
        "alloc_failure_leaves_tree_unchanged",
        alloc_failure_leaves_tree_unchanged,
    ),
    ("sync_reaches_each_snapshot", sync_reaches_each_snapshot),
];

/// Renders the `selftest` file: runs every case with `seed`, prints KTAP,
/// and checks that the cases gave back every block they took.
pub(crate) fn run(seed: u64, out: &mut impl Write) -> fmt::Result {
    let before = platform::heap_usage();
    cases::run_ktap(seed, &CASES, 1, out)?;
    let after = platform::heap_usage();
    if after != before {
        writeln!(
            out,
            "# blocks/bytes in use before {before:?}, after {after:?}"
        )?;
    }
    let ok = if after == before { "ok" } else { "not ok" };
    writeln!(out, "{ok} {} no_block_leaked", CASES.len() + 1)
}
