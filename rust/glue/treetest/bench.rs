// SPDX-License-Identifier: GPL-2.0

//! The `bench` debugfs file: the host benchmark's workloads, run in the
//! kernel against the kernel's own C maple tree in the same boot.
//!
//! One line per workload, size and mode, in the project's bench format:
//! `bench WORKLOAD N=n mode=rcu|plain ours_ns=X best_peer=NAME best_peer_ns=Y ratio=R`
//! with min ns per operation over [`ROUNDS`] rounds and R = Y / X. The C
//! tree's API functions take its spinlock on every call (`mtree_*`); that
//! is the cost a kernel user of that API pays, so it is measured as is.
//! Under QEMU's TCG the absolute numbers mean little; the ratios are what
//! to read.

use core::fmt;
use kernel::{
    prelude::*,
    time::{Instant, Monotonic},
};

use super::maple_peer::CMapleTree;
use crate::glue::platform::KernelPlatform;
use crate::rangetree::{Gfp, Platform, RangeTree, RcuRangeTree};
use crate::selftest::rng::Rng;

const PAGE: usize = 4096;
/// Rounds per measurement; the minimum is reported.
const ROUNDS: usize = 3;

/// Range `i` of the layout: one page, then a one-page gap (so random
/// lookups hit half the time and every gap is exactly one page).
fn range(i: usize) -> (usize, usize) {
    (i * 2 * PAGE, i * 2 * PAGE + PAGE - 1)
}

/// Nanoseconds `f` took.
fn time(f: impl FnOnce()) -> i64 {
    let t = Instant::<Monotonic>::now();
    f();
    t.elapsed().as_nanos()
}

/// One subject of the comparison: either of our trees or the C maple tree.
enum Subject {
    Plain(RangeTree<usize, KernelPlatform>),
    Rcu(RcuRangeTree<usize, KernelPlatform>),
    C(CMapleTree),
}

impl Subject {
    fn new(ours: bool, rcu: bool) -> Result<Self> {
        Ok(match (ours, rcu) {
            (true, false) => Subject::Plain(RangeTree::new(KernelPlatform)),
            (true, true) => Subject::Rcu(RangeTree::new(KernelPlatform).into_rcu()),
            (false, rcu) => Subject::C(CMapleTree::new(rcu)?),
        })
    }

    fn store(&mut self, first: usize, last: usize, v: Option<usize>) -> Result {
        match self {
            Subject::Plain(t) => t.store(first, last, v, Gfp::Kernel).map_err(|_| ENOMEM),
            Subject::Rcu(t) => t
                .try_write()
                .ok_or(EBUSY)?
                .store(first, last, v, Gfp::Kernel)
                .map_err(|_| ENOMEM),
            Subject::C(t) => t.store(first, last, v),
        }
    }

    fn erase(&mut self, index: usize) -> Result {
        match self {
            Subject::Plain(t) => t.erase(index, Gfp::Kernel).map(|_| ()).map_err(|_| ENOMEM),
            Subject::Rcu(t) => t
                .try_write()
                .ok_or(EBUSY)?
                .erase(index, Gfp::Kernel)
                .map(|_| ())
                .map_err(|_| ENOMEM),
            Subject::C(t) => {
                t.erase(index);
                Ok(())
            }
        }
    }

    fn load(&self, index: usize) -> Option<usize> {
        match self {
            Subject::Plain(t) => t.load(index),
            Subject::Rcu(t) => t.load(index, &KernelPlatform.read_lock()),
            Subject::C(t) => t.load(index),
        }
    }

    fn iterate(&self) -> usize {
        match self {
            Subject::Plain(t) => t.iter().count(),
            Subject::Rcu(t) => t.iter(&KernelPlatform.read_lock()).count(),
            Subject::C(t) => t.for_each(|_, _, _| ()),
        }
    }

    fn empty_area(&self, min: usize, max: usize, size: usize, rev: bool) -> Option<usize> {
        match (self, rev) {
            (Subject::Plain(t), false) => t.empty_area(min, max, size),
            (Subject::Plain(t), true) => t.empty_area_rev(min, max, size),
            (Subject::Rcu(t), false) => t.empty_area(min, max, size, &KernelPlatform.read_lock()),
            (Subject::Rcu(t), true) => {
                t.empty_area_rev(min, max, size, &KernelPlatform.read_lock())
            }
            (Subject::C(t), false) => t.empty_area(min, max, size),
            (Subject::C(t), true) => t.empty_area_rev(min, max, size),
        }
    }

    fn dup(&self) -> Result<Self> {
        Ok(match self {
            Subject::Plain(t) => Subject::Plain(t.dup(Gfp::Kernel).map_err(|_| ENOMEM)?),
            Subject::Rcu(t) => {
                // As the writer: a reader's copy could not sleep to allocate.
                let w = t.try_write().ok_or(EBUSY)?;
                Subject::Rcu(w.dup(Gfp::Kernel).map_err(|_| ENOMEM)?.into_rcu())
            }
            Subject::C(t) => Subject::C(t.dup()?),
        })
    }
}

/// The workloads, named as in the host bench.
const WORKLOADS: [&str; 8] = [
    "load",
    "lookup",
    "overwrite",
    "erase",
    "iterate",
    "empty_area",
    "empty_area_rev",
    "dup",
];

/// A subject holding the ascending layout of `n` ranges.
fn loaded(ours: bool, rcu: bool, n: usize) -> Result<Subject> {
    let mut s = Subject::new(ours, rcu)?;
    for i in 0..n {
        let (f, l) = range(i);
        s.store(f, l, Some(i))?;
    }
    Ok(s)
}

/// Nanoseconds per operation of workload `w` on a fresh subject, one round.
fn measure_once(w: &str, ours: bool, rcu: bool, n: usize, seed: u64) -> Result<i64> {
    let mut rng = Rng::new(seed);
    let top = 2 * PAGE * n;
    let mut r: Result = Ok(());
    let ns = match w {
        "load" => {
            let mut s = Subject::new(ours, rcu)?;
            time(|| {
                for i in 0..n {
                    let (f, l) = range(i);
                    r = r.and(s.store(f, l, Some(i)));
                }
            })
        }
        "lookup" => {
            let s = loaded(ours, rcu, n)?;
            let mut keys = KVec::with_capacity(n, GFP_KERNEL)?;
            for _ in 0..n {
                keys.push(rng.below(top), GFP_KERNEL)?;
            }
            let mut hits = 0usize;
            let ns = time(|| {
                for &k in keys.iter() {
                    hits += usize::from(s.load(k).is_some());
                }
            });
            // Half the keys fall in a range; far off means a broken tree.
            if hits < n / 4 || hits > 3 * n / 4 + 1 {
                return Err(EINVAL);
            }
            ns
        }
        "overwrite" => {
            let mut s = loaded(ours, rcu, n)?;
            time(|| {
                for j in 0..n {
                    // A store inside range i: splits it in three.
                    let (f, _) = range(rng.below(n));
                    let a = f + 64 * rng.below(PAGE / 128);
                    r = r.and(s.store(a, a + 63, Some(n + j)));
                }
            })
        }
        "erase" => {
            let mut s = loaded(ours, rcu, n)?;
            let mut order = KVec::with_capacity(n, GFP_KERNEL)?;
            for i in 0..n {
                order.push(i, GFP_KERNEL)?;
            }
            for i in (1..n).rev() {
                order.swap(i, rng.below(i + 1));
            }
            time(|| {
                for &i in order.iter() {
                    r = r.and(s.erase(range(i).0));
                }
            })
        }
        "iterate" => {
            let s = loaded(ours, rcu, n)?;
            let mut count = 0;
            let ns = time(|| count = s.iterate());
            if count != n {
                return Err(EINVAL);
            }
            ns
        }
        "empty_area" | "empty_area_rev" => {
            let s = loaded(ours, rcu, n)?;
            let rev = w == "empty_area_rev";
            let mut found = 0usize;
            let ns = time(|| {
                for _ in 0..n {
                    let min = rng.below(top / 2);
                    found += usize::from(s.empty_area(min, top, PAGE, rev).is_some());
                }
            });
            if found != n {
                return Err(EINVAL);
            }
            ns
        }
        _ => {
            let s = loaded(ours, rcu, n)?;
            let mut d = None;
            let ns = time(|| d = Some(s.dup()));
            d.ok_or(EINVAL)??;
            ns
        }
    };
    r?;
    let ops = i64::try_from(n).map_err(|_| EINVAL)?.max(1);
    Ok(ns.checked_div(ops).unwrap_or(ns))
}

/// The minimum over [`ROUNDS`] rounds.
fn measure(w: &str, ours: bool, rcu: bool, n: usize) -> Result<i64> {
    let mut best = i64::MAX;
    for round in 0..ROUNDS {
        best = best.min(measure_once(w, ours, rcu, n, 1 + round as u64)?);
    }
    Ok(best.max(1))
}

/// Renders the `bench` file for the sizes in `sizes`.
pub(crate) fn run(sizes: &[usize], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for &n in sizes {
        for rcu in [false, true] {
            let mode = if rcu { "rcu" } else { "plain" };
            let peer = if rcu { "c_maple_rcu" } else { "c_maple" };
            for w in WORKLOADS {
                match (measure(w, true, rcu, n), measure(w, false, rcu, n)) {
                    (Ok(ours), Ok(theirs)) => {
                        // checked_div: `ours` is at least 1, and no panic path
                        // is left for objtool to trip over.
                        let r100 = theirs.saturating_mul(100).checked_div(ours).unwrap_or(0);
                        writeln!(
                            f,
                            "bench {w} N={n} mode={mode} ours_ns={ours} best_peer={peer} best_peer_ns={theirs} ratio={}.{:02}",
                            r100 / 100,
                            r100 % 100
                        )?;
                    }
                    (o, t) => writeln!(
                        f,
                        "# bench {w} N={n} mode={mode} failed: ours={:?} peer={:?}",
                        o.err(),
                        t.err()
                    )?,
                }
            }
        }
    }
    Ok(())
}
