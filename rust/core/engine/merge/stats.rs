// SPDX-License-Identifier: GPL-2.0

//! Counters over stores and unmerged pairs, and the `stats` and `unmerged`
//! files.
//!
//! [`write_stats`] writes one `name value` line per counter. What each
//! counter means, in the order printed, is the table in the README's
//! "Merge statistics" section, written once for users: the host test
//! `rust/host/testkit/tests/readme.rs` renders [`write_stats`] and fails
//! if that table and the printed names differ in any name or in order.
//!
//! [`write_unmerged_line`] writes one line of the `unmerged` file:
//! `START-END START-END reason[,reason] anon_vma=ID/ID file=ID/ID
//! fixed_by=SETS`, addresses as `/proc/PID/maps` shows them, ids opaque.

use core::fmt::{self, Write};

use super::super::record::ObjectId;
use super::{
    arch::Arch,
    cause::Cause,
    classify::{StoreEffect, StoreKind},
    rules::{unmerged_reasons_under, Placed, Reason, Reasons, Relax},
};

/// Merge statistics: plain counters, each named by the `stats` line it
/// prints (the README's "Merge statistics" table says what each counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// `stores`.
    pub stores: u64,
    /// `clears`.
    pub clears: u64,
    /// `new_merge_none`.
    pub new_merge_none: u64,
    /// `new_merge_prev`.
    pub new_merge_prev: u64,
    /// `new_merge_next`.
    pub new_merge_next: u64,
    /// `new_merge_both`.
    pub new_merge_both: u64,
    /// `new_merge_over_mapped`.
    pub new_merge_over_mapped: u64,
    /// `existing_merge_left`.
    pub existing_merge_left: u64,
    /// `existing_merge_right`.
    pub existing_merge_right: u64,
    /// `existing_merge_both`.
    pub existing_merge_both: u64,
    /// `noop`.
    pub noop: u64,
    /// `expanded`.
    pub expanded: u64,
    /// `shrunk`.
    pub shrunk: u64,
    /// `split`.
    pub split: u64,
    /// `removed`.
    pub removed: u64,
    /// `replaced`.
    pub replaced: u64,
    /// `partial_clear`.
    pub partial_clear: u64,
    /// `unknown`.
    pub unknown: u64,
    /// `stack_growth`.
    pub stack_growth: u64,
    /// `kernel_new_merges`: filled by the kernel side.
    pub kernel_new_merges: u64,
    /// `kernel_existing_merges`: filled by the kernel side.
    pub kernel_existing_merges: u64,
    /// `merges_after_<cause>`, indexed like [`Cause::ALL`].
    pub merges_after: [u64; Cause::ALL.len()],
    /// `unmerged_<reason>`, indexed like [`Reason::ALL`].
    pub unmerged: [u64; Reason::ALL.len()],
}

impl MergeStats {
    /// All counters back to 0.
    pub fn reset(&mut self) {
        *self = MergeStats::default();
    }

    /// Counts one classified store (`is_clear`: the store was a clear).
    pub fn count_store(&mut self, is_clear: bool, e: &StoreEffect) {
        fn add(c: &mut u64, n: u64) {
            *c = c.saturating_add(n);
        }
        add(
            if is_clear {
                &mut self.clears
            } else {
                &mut self.stores
            },
            1,
        );
        // Shrunk and Removed are counted per VMA, below.
        let counter = match e.kind {
            StoreKind::Noop => Some(&mut self.noop),
            StoreKind::NewVma => Some(&mut self.new_merge_none),
            StoreKind::MergePrev => Some(&mut self.new_merge_prev),
            StoreKind::MergeNext => Some(&mut self.new_merge_next),
            StoreKind::MergeBoth => Some(&mut self.new_merge_both),
            StoreKind::StackGrowth => Some(&mut self.stack_growth),
            StoreKind::MergeOverMapped => Some(&mut self.new_merge_over_mapped),
            StoreKind::ExistingLeft => Some(&mut self.existing_merge_left),
            StoreKind::ExistingRight => Some(&mut self.existing_merge_right),
            StoreKind::ExistingBoth => Some(&mut self.existing_merge_both),
            StoreKind::Split => Some(&mut self.split),
            StoreKind::Replaced => Some(&mut self.replaced),
            StoreKind::PartialClear => Some(&mut self.partial_clear),
            StoreKind::Unknown => Some(&mut self.unknown),
            StoreKind::Shrunk | StoreKind::Removed => None,
        };
        if let Some(c) = counter {
            add(c, 1);
        }
        if e.is_merge() || e.kind == StoreKind::StackGrowth {
            add(&mut self.expanded, 1);
        }
        add(&mut self.removed, u64::from(e.removed));
        add(&mut self.shrunk, u64::from(e.shrunk));
    }

    /// Counts a merge under the system call (or fault) it happened in;
    /// other stores are not counted.
    pub fn count_cause(&mut self, e: &StoreEffect, cause: Cause) {
        if e.is_merge() {
            if let Some(c) = self.merges_after.get_mut(cause as usize) {
                *c = c.saturating_add(1);
            }
        }
    }

    /// Zeroes the `unmerged_*` counters, before a pass over the shadow
    /// counts the pairs it has now.
    pub fn reset_unmerged(&mut self) {
        self.unmerged = [0; Reason::ALL.len()];
    }

    /// Counts each reason of one unmerged pair.
    pub fn count_unmerged(&mut self, reasons: &Reasons) {
        for (c, r) in self.unmerged.iter_mut().zip(Reason::ALL) {
            if reasons.contains(r) {
                *c = c.saturating_add(1);
            }
        }
    }

    /// The `unmerged_*` counter for `r`.
    pub fn unmerged_count(&self, r: Reason) -> u64 {
        self.unmerged.get(r as usize).copied().unwrap_or(0)
    }

    /// Stores we took for `vma_merge_new_range()` merges.
    pub fn new_merges(&self) -> u64 {
        self.new_merge_prev
            .saturating_add(self.new_merge_next)
            .saturating_add(self.new_merge_both)
            .saturating_add(self.new_merge_over_mapped)
    }

    /// `|new_merges - kernel_new_merges|`: how far our reading of the stores
    /// is from the kernel's own count.
    pub fn disagreements(&self) -> u64 {
        self.new_merges().abs_diff(self.kernel_new_merges)
    }

    /// Stores we took for `vma_merge_existing_range()` merges.
    pub fn existing_merges(&self) -> u64 {
        self.existing_merge_left
            .saturating_add(self.existing_merge_right)
            .saturating_add(self.existing_merge_both)
    }

    /// `|existing_merges - kernel_existing_merges|`.
    pub fn existing_disagreements(&self) -> u64 {
        self.existing_merges().abs_diff(self.kernel_existing_merges)
    }
}

/// Current totals the caller computes over the shadow for [`write_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// VMAs in the shadow.
    pub vmas: u64,
    /// Pairs of VMAs with no gap between them.
    pub touching_pairs: u64,
    /// Touching pairs [`unmerged_reasons`](super::unmerged_reasons) does not find eligible.
    pub unmerged_pairs: u64,
}

/// Writes every statistic as a `name value` line, in the module doc's order.
pub fn write_stats(out: &mut impl Write, s: &MergeStats, t: &Totals) -> fmt::Result {
    let lines: [(&str, u64); 28] = [
        ("vmas", t.vmas),
        ("touching_pairs", t.touching_pairs),
        ("unmerged_pairs", t.unmerged_pairs),
        ("stores", s.stores),
        ("clears", s.clears),
        ("new_merge_none", s.new_merge_none),
        ("new_merge_prev", s.new_merge_prev),
        ("new_merge_next", s.new_merge_next),
        ("new_merge_both", s.new_merge_both),
        ("new_merge_over_mapped", s.new_merge_over_mapped),
        ("stack_growth", s.stack_growth),
        ("existing_merge_left", s.existing_merge_left),
        ("existing_merge_right", s.existing_merge_right),
        ("existing_merge_both", s.existing_merge_both),
        ("noop", s.noop),
        ("expanded", s.expanded),
        ("shrunk", s.shrunk),
        ("split", s.split),
        ("removed", s.removed),
        ("replaced", s.replaced),
        ("partial_clear", s.partial_clear),
        ("unknown", s.unknown),
        ("new_merges", s.new_merges()),
        ("kernel_new_merges", s.kernel_new_merges),
        ("new_merge_disagreements", s.disagreements()),
        ("existing_merges", s.existing_merges()),
        ("kernel_existing_merges", s.kernel_existing_merges),
        ("existing_merge_disagreements", s.existing_disagreements()),
    ];
    for (name, value) in lines {
        writeln!(out, "{name} {value}")?;
    }
    for (c, n) in Cause::ALL.iter().zip(s.merges_after) {
        writeln!(out, "merges_after_{} {n}", c.name())?;
    }
    for r in Reason::ALL {
        writeln!(out, "unmerged_{} {}", r.name(), s.unmerged_count(r))?;
    }
    Ok(())
}

/// Writes one line of the `unmerged` file: both VMAs as `/proc/PID/maps`
/// shows them (`%08lx`, end exclusive), then `reasons` (the pair's, under
/// the kernel's rules), with the flags named as on `arch`, then the opaque
/// ids of both VMAs' `anon_vma` and file (`anon_vma=PREV/NEXT
/// file=PREV/NEXT`, `-` for none), so that user space can group pairs by
/// object without ever seeing an address, then `fixed_by=`: the relaxed
/// rule sets of the what-if under which this pair alone would merge
/// (`r1`, `r2`, `r1+r2`, comma-separated; `-` for none).
pub fn write_unmerged_line(
    out: &mut impl Write,
    arch: &Arch,
    prev: Placed<'_>,
    next: Placed<'_>,
    reasons: &Reasons,
) -> fmt::Result {
    write!(
        out,
        "{:08x}-{:08x} {:08x}-{:08x} {} anon_vma={}/{} file={}/{} fixed_by=",
        prev.first,
        prev.last.wrapping_add(1),
        next.first,
        next.last.wrapping_add(1),
        reasons.display(arch),
        IdText(prev.rec.anon_vma),
        IdText(next.rec.anon_vma),
        IdText(prev.rec.file.map_or(ObjectId::NONE, |f| f.file)),
        IdText(next.rec.file.map_or(ObjectId::NONE, |f| f.file)),
    )?;
    let mut any = false;
    for relax in [Relax::R1, Relax::R2, Relax::BOTH] {
        if !reasons.is_eligible() && unmerged_reasons_under(arch, relax, prev, next).is_eligible() {
            if any {
                out.write_char(',')?;
            }
            out.write_str(relax.name())?;
            any = true;
        }
    }
    if !any {
        out.write_char('-')?;
    }
    out.write_char('\n')
}

/// An [`ObjectId`] as the files print it: its low 48 bits as 12 hex
/// digits, `-` for none. Never 16 digits, the length of a 64-bit kernel
/// address, so that nothing (no reader, no address scanner) can take one
/// for an address; two of a process's objects share a printed id with a
/// chance of about n²/2⁴⁹ (6 in a million at 60,000 objects).
struct IdText(ObjectId);

impl fmt::Display for IdText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_some() {
            write!(f, "{:012x}", self.0 .0 & 0xffff_ffff_ffff)
        } else {
            f.write_str("-")
        }
    }
}
