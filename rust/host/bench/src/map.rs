// SPDX-License-Identifier: GPL-2.0
//! The one interface every contestant implements, and the inputs.
//!
//! Every method takes a whole batch so that one timed call covers many
//! operations and the call shape is the same for Rust and C (the C peer
//! crosses FFI once per batch). Return values are checksums: the harness
//! compares them between contestants, so a contestant with different
//! semantics is caught instead of silently winning.

/// Inputs of a store batch, struct-of-arrays so the C peer reads them as is.
/// `val[i] == 0` is never used (C stores values as `v << 1 | 1`).
#[derive(Clone, Default)]
pub(crate) struct Stores {
    pub first: Vec<usize>,
    pub last: Vec<usize>,
    pub val: Vec<usize>,
}

impl Stores {
    pub(crate) fn len(&self) -> usize {
        self.first.len()
    }
}

/// Gap queries: lowest (or highest) `size`-byte free range inside `[min, max]`.
#[derive(Clone, Default)]
pub(crate) struct GapQueries {
    pub min: Vec<usize>,
    pub max: Vec<usize>,
    pub size: Vec<usize>,
}

/// What a contestant can do. Unsupported operations return `None`; a
/// contestant that returns `None` gets no number for that workload.
pub(crate) trait RangeMap {
    /// Stores `[first, last] -> val`, overwriting (splitting) what was there.
    fn store_many(&mut self, s: &Stores);
    /// Sum of the values found at the indices (misses add 0).
    fn load_many(&self, idx: &[usize]) -> usize;
    /// Erases the range containing each index; sum of erased values.
    fn erase_many(&mut self, idx: &[usize]) -> Option<usize>;
    /// (entries, sum of (first ^ last) + value) over a full in-order walk.
    fn iter_sum(&self) -> (usize, usize);
    /// (found, sum of start + 1 over found) for each query, lowest fit
    /// (`rev == false`) or highest fit (`rev == true`).
    fn empty_area_many(&self, rev: bool, q: &GapQueries) -> Option<(usize, usize)>;
    /// A full copy.
    fn dup(&self) -> Option<Box<dyn RangeMap>>;
    /// Bytes the structure says it uses, if it can tell.
    fn self_bytes(&self) -> Option<usize> {
        None
    }
    /// Called (untimed) before a write workload that will create up to
    /// `ranges` ranges: a contestant may pre-fill a node pool here.
    fn reserve(&mut self, _ranges: usize) {}
    /// Called (untimed) after each repetition: drain deferred frees etc.
    fn quiesce(&mut self) {}
}

/// A kind of contestant: makes empty maps.
pub(crate) struct Contestant {
    pub name: &'static str,
    /// Offers mode=rcu semantics (lockless readers during writes).
    pub rcu: bool,
    /// Ours (the others are peers).
    pub ours: bool,
    pub make: Box<dyn Fn() -> Box<dyn RangeMap>>,
}

/// splitmix64: deterministic inputs without a dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

pub(crate) const PAGE: usize = 4096;
/// Range i covers 10 pages of a 16-page cell: `[base_i, base_i + 10 pages)`,
/// then a 6-page gap (VMA-like: nothing adjacent).
pub(crate) const CELL: usize = 16 * PAGE;
pub(crate) const USED: usize = 10 * PAGE;

pub(crate) fn range_of(i: usize) -> (usize, usize) {
    let first = (i + 1) * CELL;
    (first, first + USED - 1)
}

/// The N ascending ranges, value i + 1.
pub(crate) fn ascending(n: usize) -> Stores {
    let mut s = Stores::default();
    for i in 0..n {
        let (f, l) = range_of(i);
        s.first.push(f);
        s.last.push(l);
        s.val.push(i + 1);
    }
    s
}

/// n point lookups, half inside ranges and half inside gaps.
pub(crate) fn lookups(n: usize, rng: &mut Rng) -> Vec<usize> {
    (0..n)
        .map(|k| {
            let (f, _) = range_of(rng.below(n));
            if k % 2 == 0 {
                f + rng.below(USED)
            } else {
                f + USED + rng.below(CELL - USED)
            }
        })
        .collect()
}

/// n stores strictly inside random existing ranges, whole pages, so each
/// splits the range it hits (into three when it was still whole).
pub(crate) fn overwrites(n: usize, rng: &mut Rng) -> Stores {
    let mut s = Stores::default();
    for j in 0..n {
        let (f, _) = range_of(rng.below(n));
        let a = 1 + rng.below(8); // 1..=8
        let b = a + 1 + rng.below(9 - a); // a+1..=9
        s.first.push(f + a * PAGE);
        s.last.push(f + b * PAGE - 1);
        s.val.push(n + 1 + j);
    }
    s
}

/// One index inside each of the n ranges, in random order.
pub(crate) fn erase_order(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        v.swap(i, rng.below(i + 1));
    }
    v.into_iter()
        .map(|i| range_of(i).0 + rng.below(USED))
        .collect()
}

/// q gap queries: a 64-page window at a random place in (or just past) the
/// populated span, sizes 1..=8 pages (the in-tree gaps are 6 pages, so sizes
/// 7 and 8 only fit past the last range and mostly fail).
pub(crate) fn gap_queries(n: usize, q: usize, rng: &mut Rng) -> GapQueries {
    let mut g = GapQueries::default();
    let span = (n + 2) * CELL;
    for _ in 0..q {
        let min = rng.below(span);
        g.min.push(min);
        g.max.push(min + 64 * PAGE - 1);
        g.size.push((1 + rng.below(8)) * PAGE);
    }
    g
}
