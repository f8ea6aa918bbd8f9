// SPDX-License-Identifier: GPL-2.0

//! Bringing the shadow to a snapshot of the kernel's VMA tree.
//!
//! A snapshot mirror (the m68k-nommu module, which has no probes) calls
//! [`sync`] at every read with the target's VMAs as the kernel's tree holds
//! them. Only what differs is written, so the shadow keeps its nodes and
//! the counts say what changed between two snapshots: VMAs that appeared,
//! went away or changed attributes. What happened *between* the snapshots
//! (how many operations, which merges) is out of sight by construction.

use super::super::rangetree::{Gfp, Platform, RangeTree, StoreError};

use super::record::VmaRecord;

/// What one [`sync`] found, counted against the shadow it started from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Snapshot VMAs the shadow held with the same range and record.
    pub kept: usize,
    /// Snapshot VMAs the shadow held with the same range, another record
    /// (flags, offset, file, anon_vma, ...).
    pub changed: usize,
    /// Snapshot VMAs whose range the shadow did not hold.
    pub added: usize,
    /// Shadow VMAs whose range the snapshot does not hold.
    pub removed: usize,
}

/// Why [`sync`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncError {
    /// Memory ran out. The tree is valid but holds part of the snapshot:
    /// the caller must sync again before trusting it.
    Alloc,
    /// The snapshot entry with this position had `first > last` or did not
    /// start after the previous one's `last`. The tree is as for `Alloc`.
    Unsorted(usize),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Alloc => SyncError::Alloc,
            // `sync` checks every range before it stores it.
            StoreError::InvalidRange => SyncError::Unsorted(usize::MAX),
        }
    }
}

/// Makes `tree` hold exactly `snapshot`: `(first, last, record)` entries,
/// inclusive and sorted by address, as the kernel's tree holds them.
///
/// Entries already equal are not written. Space between snapshot entries
/// is cleared, trimming or removing whatever the shadow held there.
///
/// Return: the counts of what differed, or [`SyncError`].
pub fn sync<P: Platform>(
    tree: &mut RangeTree<VmaRecord, P>,
    snapshot: impl IntoIterator<Item = (usize, usize, VmaRecord)>,
    gfp: Gfp,
) -> Result<SyncCounts, SyncError> {
    let before = tree.len();
    let mut c = SyncCounts::default();
    // Everything below `pos` is in sync; `None` once `usize::MAX` is.
    let mut pos = Some(0usize);
    // Where the remainder of a shadow VMA trimmed by this sync starts: it
    // is not a VMA the shadow held, even when its range now matches.
    let mut remainder = None;
    for (i, (first, last, rec)) in snapshot.into_iter().enumerate() {
        let from = match pos {
            Some(p) if p <= first && first <= last => p,
            _ => return Err(SyncError::Unsorted(i)),
        };
        if from < first && tree.find(from, first - 1).is_some() {
            if tree
                .load_range(first - 1)
                .is_some_and(|(_, l, _)| l >= first)
            {
                remainder = Some(first);
            }
            tree.store(from, first - 1, None, gfp)?;
        }
        match tree.load_range(first) {
            Some((f, l, old)) if f == first && l == last && remainder != Some(first) => {
                if old == rec {
                    c.kept += 1;
                } else {
                    c.changed += 1;
                    tree.store(first, last, Some(rec), gfp)?;
                }
            }
            _ => {
                c.added += 1;
                if tree.load_range(last).is_some_and(|(_, l, _)| l > last) {
                    remainder = last.checked_add(1);
                }
                tree.store(first, last, Some(rec), gfp)?;
            }
        }
        pos = last.checked_add(1);
    }
    if let Some(p) = pos {
        if tree.find(p, usize::MAX).is_some() {
            tree.store(p, usize::MAX, None, gfp)?;
        }
    }
    // Shadow VMAs matched one snapshot entry each (kept or changed); every
    // other shadow VMA was trimmed, split or cleared away.
    c.removed = before - (c.kept + c.changed);
    Ok(c)
}
