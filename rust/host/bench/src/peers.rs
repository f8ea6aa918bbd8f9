// SPDX-License-Identifier: GPL-2.0
//! The peers: the kernel's C maple tree (plain and RCU mode), a BTreeMap
//! range map written here, and the `rangemap` and `nodit` crates.

use crate::map::{GapQueries, RangeMap, Stores};
use std::collections::BTreeMap;
use std::ffi::c_int;
use std::hint::black_box;

// ---------------------------------------------------------------------------
// C maple tree (rust/host/bench/c/maple_peer.c, built by scripts/bench)

#[repr(C)]
pub(crate) struct MapleTree {
    _p: [u8; 0],
}

extern "C" {
    fn mp_init() -> c_int;
    fn mp_layout(inner: c_int) -> c_int;
    fn mp_new(rcu: c_int) -> *mut MapleTree;
    fn mp_destroy(mt: *mut MapleTree);
    fn mp_barrier();
    fn mp_tree_nodes(mt: *mut MapleTree) -> usize;
    fn mp_store_many(
        mt: *mut MapleTree,
        f: *const usize,
        l: *const usize,
        v: *const usize,
        n: usize,
    ) -> c_int;
    fn mp_erase_many(mt: *mut MapleTree, idx: *const usize, n: usize) -> usize;
    fn mp_load_many(mt: *mut MapleTree, idx: *const usize, n: usize) -> usize;
    fn mp_iter(mt: *mut MapleTree, count: *mut usize) -> usize;
    fn mp_empty_area_many(
        mt: *mut MapleTree,
        rev: c_int,
        min: *const usize,
        max: *const usize,
        size: *const usize,
        n: usize,
        found: *mut usize,
    ) -> usize;
    fn mp_dup(mt: *mut MapleTree) -> *mut MapleTree;
}

/// Initialises the C side (registers this thread with liburcu, creates the
/// node cache); returns (node size, leaf slots, allocation-inner slots).
/// Every C call must come from the thread that called this.
pub(crate) fn maple_init() -> (usize, usize, usize) {
    // SAFETY: No arguments; the C side may be initialised more than once.
    unsafe {
        (
            mp_init() as usize,
            mp_layout(0) as usize,
            mp_layout(1) as usize,
        )
    }
}

/// A C maple tree.
///
/// # Invariants
///
/// `mt` is a live tree made by `mp_new` or `mp_dup`, owned by this value.
pub(crate) struct CMaple {
    mt: *mut MapleTree,
}

impl CMaple {
    pub(crate) fn new(rcu: bool) -> Self {
        // SAFETY: No pointer arguments.
        let mt = unsafe { mp_new(c_int::from(rcu)) };
        assert!(!mt.is_null(), "C maple tree allocation failed");
        // INVARIANT: `mt` is a new tree, owned by nobody else.
        CMaple { mt }
    }
}

impl Drop for CMaple {
    fn drop(&mut self) {
        // SAFETY: `self.mt` is live and ours (type invariant), and not used
        // again.
        unsafe {
            mp_destroy(self.mt);
            mp_barrier();
        }
    }
}

impl RangeMap for CMaple {
    fn store_many(&mut self, s: &Stores) {
        // SAFETY: `self.mt` is live (type invariant); the three arrays hold
        // `s.len()` elements each.
        let r = unsafe {
            mp_store_many(
                self.mt,
                s.first.as_ptr(),
                s.last.as_ptr(),
                s.val.as_ptr(),
                s.len(),
            )
        };
        assert_eq!(r, 0, "C maple store failed");
    }
    fn load_many(&self, idx: &[usize]) -> usize {
        // SAFETY: `self.mt` is live (type invariant); `idx` is a whole slice.
        unsafe { mp_load_many(self.mt, idx.as_ptr(), idx.len()) }
    }
    fn erase_many(&mut self, idx: &[usize]) -> Option<usize> {
        // SAFETY: As for `load_many`.
        Some(unsafe { mp_erase_many(self.mt, idx.as_ptr(), idx.len()) })
    }
    fn iter_sum(&self) -> (usize, usize) {
        let mut c = 0;
        // SAFETY: `self.mt` is live (type invariant); `c` is a local.
        let s = unsafe { mp_iter(self.mt, &mut c) };
        (c, s)
    }
    fn empty_area_many(&self, rev: bool, q: &GapQueries) -> Option<(usize, usize)> {
        let mut found = 0;
        // SAFETY: `self.mt` is live (type invariant); the three query arrays
        // have `q.min.len()` elements; `found` is a local.
        let s = unsafe {
            mp_empty_area_many(
                self.mt,
                c_int::from(rev),
                q.min.as_ptr(),
                q.max.as_ptr(),
                q.size.as_ptr(),
                q.min.len(),
                &mut found,
            )
        };
        Some((found, s))
    }
    fn dup(&self) -> Option<Box<dyn RangeMap>> {
        // SAFETY: `self.mt` is live (type invariant).
        let mt = unsafe { mp_dup(self.mt) };
        assert!(!mt.is_null(), "C maple dup failed");
        // INVARIANT: The copy is new and owned by nobody else.
        Some(Box::new(CMaple { mt }))
    }
    fn self_bytes(&self) -> Option<usize> {
        // Nodes reachable from the root, each a 256-byte slab object.
        // SAFETY: `self.mt` is live (type invariant).
        Some(unsafe { mp_tree_nodes(self.mt) } * 256)
    }
    fn quiesce(&mut self) {
        // SAFETY: No arguments.
        unsafe { mp_barrier() }
    }
}

// ---------------------------------------------------------------------------
// BTreeMap keyed by first, value (last, v): the same overwrite/erase/gap
// semantics as the maple tree, written the obvious way.

#[derive(Clone, Default)]
pub(crate) struct BTreeRanges {
    m: BTreeMap<usize, (usize, usize)>,
}

impl BTreeRanges {
    pub(crate) fn store(&mut self, first: usize, last: usize, v: usize) {
        // A range starting before `first` that reaches into it: trim it, and
        // keep its tail if it also reaches past `last`.
        if let Some((&s, &(e, ov))) = self.m.range(..first).next_back() {
            if e >= first {
                self.m.insert(s, (first - 1, ov));
                if e > last {
                    self.m.insert(last + 1, (e, ov));
                }
            }
        }
        // Ranges starting inside [first, last]: remove; keep a tail.
        while let Some((&s, &(e, ov))) = self.m.range(first..=last).next() {
            self.m.remove(&s);
            if e > last {
                self.m.insert(last + 1, (e, ov));
            }
        }
        self.m.insert(first, (last, v));
    }

    pub(crate) fn find(&self, idx: usize) -> Option<(usize, usize, usize)> {
        match self.m.range(..=idx).next_back() {
            Some((&s, &(e, v))) if e >= idx => Some((s, e, v)),
            _ => None,
        }
    }

    pub(crate) fn empty_area(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        if size == 0 || max < min || max - min < size - 1 {
            return None;
        }
        let mut cur = min;
        if let Some((_, e, _)) = self.find(min) {
            cur = e.checked_add(1)?;
        }
        for (&s, &(e, _)) in self.m.range(cur..) {
            if s > max {
                break;
            }
            if s - cur >= size {
                return Some(cur);
            }
            cur = e.checked_add(1)?;
        }
        (cur <= max && max - cur >= size - 1).then_some(cur)
    }

    pub(crate) fn empty_area_rev(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        if size == 0 || max < min || max - min < size - 1 {
            return None;
        }
        let mut hi = max;
        for (&s, &(e, _)) in self.m.range(..=max).rev() {
            if e < hi {
                let lo = (e + 1).max(min);
                if hi >= lo && hi - lo >= size - 1 {
                    return Some(hi - size + 1);
                }
            }
            hi = s.checked_sub(1)?;
            if hi < min {
                return None;
            }
        }
        (hi >= min && hi - min >= size - 1).then(|| hi - size + 1)
    }
}

impl RangeMap for BTreeRanges {
    fn store_many(&mut self, s: &Stores) {
        for i in 0..s.len() {
            self.store(s.first[i], s.last[i], s.val[i]);
        }
    }
    fn load_many(&self, idx: &[usize]) -> usize {
        idx.iter().map(|&i| self.find(i).map_or(0, |r| r.2)).sum()
    }
    fn erase_many(&mut self, idx: &[usize]) -> Option<usize> {
        let mut sum = 0;
        for &i in idx {
            if let Some((s, _, v)) = self.find(i) {
                self.m.remove(&s);
                sum += v;
            }
        }
        Some(sum)
    }
    fn iter_sum(&self) -> (usize, usize) {
        let mut sum = 0usize;
        for (&s, &(e, v)) in &self.m {
            sum = sum.wrapping_add((s ^ e).wrapping_add(v));
        }
        (self.m.len(), sum)
    }
    fn empty_area_many(&self, rev: bool, q: &GapQueries) -> Option<(usize, usize)> {
        let (mut f, mut sum) = (0, 0usize);
        for i in 0..q.min.len() {
            let r = if rev {
                self.empty_area_rev(q.min[i], q.max[i], q.size[i])
            } else {
                self.empty_area(q.min[i], q.max[i], q.size[i])
            };
            if let Some(s) = r {
                f += 1;
                sum = sum.wrapping_add(s + 1);
            }
        }
        Some((f, sum))
    }
    fn dup(&self) -> Option<Box<dyn RangeMap>> {
        Some(Box::new(self.clone()))
    }
}

// ---------------------------------------------------------------------------
// rangemap::RangeInclusiveMap (coalesces touching ranges with equal values;
// every value here is unique, so it never does).

#[derive(Clone, Default)]
pub(crate) struct RangeMapCrate {
    m: rangemap::RangeInclusiveMap<usize, usize>,
}

impl RangeMap for RangeMapCrate {
    fn store_many(&mut self, s: &Stores) {
        for i in 0..s.len() {
            self.m.insert(s.first[i]..=s.last[i], s.val[i]);
        }
    }
    fn load_many(&self, idx: &[usize]) -> usize {
        idx.iter()
            .map(|i| self.m.get(i).copied().unwrap_or(0))
            .sum()
    }
    fn erase_many(&mut self, idx: &[usize]) -> Option<usize> {
        let mut sum = 0;
        for i in idx {
            if let Some((r, &v)) = self.m.get_key_value(i) {
                let r = r.clone();
                self.m.remove(r);
                sum += v;
            }
        }
        Some(sum)
    }
    fn iter_sum(&self) -> (usize, usize) {
        let (mut c, mut sum) = (0, 0usize);
        for (r, &v) in self.m.iter() {
            c += 1;
            sum = sum.wrapping_add((r.start() ^ r.end()).wrapping_add(v));
        }
        (c, sum)
    }
    fn empty_area_many(&self, rev: bool, q: &GapQueries) -> Option<(usize, usize)> {
        // Through the public gaps() iterator (linear in the window).
        let (mut f, mut sum) = (0, 0usize);
        for i in 0..q.min.len() {
            let (min, max, size) = (q.min[i], q.max[i], q.size[i]);
            let outer = min..=max;
            let fits = |g: &std::ops::RangeInclusive<usize>| g.end() - g.start() >= size - 1;
            let r = if rev {
                self.m
                    .gaps(&outer)
                    .filter(fits)
                    .last()
                    .map(|g| g.end() - size + 1)
            } else {
                self.m.gaps(&outer).find(fits).map(|g| *g.start())
            };
            if let Some(s) = r {
                f += 1;
                sum = sum.wrapping_add(s + 1);
            }
        }
        Some((f, sum))
    }
    fn dup(&self) -> Option<Box<dyn RangeMap>> {
        Some(Box::new(self.clone()))
    }
}

// ---------------------------------------------------------------------------
// nodit::NoditMap with inclusive intervals.

type NI = nodit::Interval<usize>;

#[derive(Clone)]
pub(crate) struct NoditCrate {
    m: nodit::NoditMap<usize, NI, usize>,
}

impl Default for NoditCrate {
    fn default() -> Self {
        NoditCrate {
            m: nodit::NoditMap::new(),
        }
    }
}

impl RangeMap for NoditCrate {
    fn store_many(&mut self, s: &Stores) {
        for i in 0..s.len() {
            black_box(
                self.m
                    .insert_overwrite(nodit::interval::ii(s.first[i], s.last[i]), s.val[i])
                    .count(),
            );
        }
    }
    fn load_many(&self, idx: &[usize]) -> usize {
        idx.iter()
            .map(|i| self.m.get_at_point(i).copied().unwrap_or(0))
            .sum()
    }
    fn erase_many(&mut self, idx: &[usize]) -> Option<usize> {
        let mut sum = 0;
        for &i in idx {
            for (_, v) in self.m.remove_overlapping(&nodit::interval::ii(i, i)) {
                sum += v;
            }
        }
        Some(sum)
    }
    fn iter_sum(&self) -> (usize, usize) {
        let (mut c, mut sum) = (0, 0usize);
        for (k, &v) in self.m.iter() {
            c += 1;
            sum = sum.wrapping_add((k.start() ^ k.end()).wrapping_add(v));
        }
        (c, sum)
    }
    fn empty_area_many(&self, rev: bool, q: &GapQueries) -> Option<(usize, usize)> {
        let (mut f, mut sum) = (0, 0usize);
        for i in 0..q.min.len() {
            let (min, max, size) = (q.min[i], q.max[i], q.size[i]);
            let w = nodit::interval::ii(min, max);
            let fits = |g: &NI| g.end() - g.start() >= size - 1;
            let r = if rev {
                self.m
                    .gaps_trimmed(&w)
                    .filter(fits)
                    .last()
                    .map(|g| g.end() - size + 1)
            } else {
                self.m.gaps_trimmed(&w).find(fits).map(|g| *g.start())
            };
            if let Some(s) = r {
                f += 1;
                sum = sum.wrapping_add(s + 1);
            }
        }
        Some((f, sum))
    }
    fn dup(&self) -> Option<Box<dyn RangeMap>> {
        Some(Box::new(self.clone()))
    }
}
