// SPDX-License-Identifier: GPL-2.0

//! Address ranges whose VMAs may have changed in place since the shadow
//! last read them.
//!
//! Flags, `anon_vma`, names and the like change without a tree store
//! (mprotect without a split, madvise, prctl, ...), but never without the
//! VMA being write-locked first (`__vma_start_write`). The probe marks the
//! VMA's range here; readers re-read those ranges from the kernel's tree
//! under the mmap read lock. The set has a fixed size because probes cannot
//! allocate: when full, the two closest ranges are merged, which only ever
//! makes it re-read more, never less.

/// How many disjoint ranges are kept before neighbours merge.
pub const DIRTY_SLOTS: usize = 32;

/// A bounded set of inclusive ranges, sorted and disjoint (not even touching).
#[derive(Clone, Copy, Debug)]
pub struct DirtySet {
    ranges: [(usize, usize); DIRTY_SLOTS],
    len: usize,
}

impl Default for DirtySet {
    fn default() -> Self {
        Self::new()
    }
}

impl DirtySet {
    /// An empty set.
    pub const fn new() -> Self {
        Self {
            ranges: [(0, 0); DIRTY_SLOTS],
            len: 0,
        }
    }

    /// Whether nothing is dirty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> &[(usize, usize)] {
        self.ranges.get(..self.len).unwrap_or(&[])
    }

    /// Forgets every range.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Marks `[first, last]` dirty (`first > last` is ignored).
    pub fn insert(&mut self, first: usize, last: usize) {
        if first > last {
            return;
        }
        // The common case (the same VMA written again): already covered,
        // nothing to rebuild.
        if self.ranges().iter().any(|&(f, l)| f <= first && last <= l) {
            return;
        }
        let (mut first, mut last) = (first, last);
        // One slot more than kept, for the moment before coalescing.
        let mut out = [(0usize, 0usize); DIRTY_SLOTS + 1];
        let mut n = 0;
        let mut placed = false;
        for &(f, l) in self.ranges() {
            if f <= last.saturating_add(1) && first <= l.saturating_add(1) {
                // Overlaps or touches: absorb it.
                first = first.min(f);
                last = last.max(l);
                continue;
            }
            if !placed && f > last {
                out[n] = (first, last);
                n += 1;
                placed = true;
            }
            out[n] = (f, l);
            n += 1;
        }
        if !placed {
            out[n] = (first, last);
            n += 1;
        }
        if n > DIRTY_SLOTS {
            // Full: merge the two neighbours with the smallest gap between them.
            let mut best = 0;
            for i in 1..n - 1 {
                if out[i + 1].0 - out[i].1 < out[best + 1].0 - out[best].1 {
                    best = i;
                }
            }
            out[best].1 = out[best + 1].1;
            for i in best + 1..n - 1 {
                out[i] = out[i + 1];
            }
            n -= 1;
        }
        // Loops, not copy_from_slice/copy_within: no panic paths in the
        // module beyond plain bounds checks.
        for (d, s) in self.ranges.iter_mut().zip(out.iter()) {
            *d = *s;
        }
        self.len = n;
    }
}
