// SPDX-License-Identifier: GPL-2.0

//! `engine::sync`: a shadow brought to random snapshots equals each
//! snapshot, and the counts say what differed.

use proptest::prelude::*;
use vmatrack_core::{
    engine::{
        record::{ObjectId, VmaRecord},
        sync::{sync, SyncCounts, SyncError},
    },
    rangetree::{Gfp, RangeTree},
};
use vmatrack_testkit::StdPlatform;

fn rec(id: u64) -> VmaRecord {
    VmaRecord {
        vma: ObjectId(id),
        flags: 0x73,
        ..VmaRecord::default()
    }
}

fn tree_of(entries: &[(usize, usize, VmaRecord)]) -> RangeTree<VmaRecord, StdPlatform> {
    let mut t = RangeTree::new(StdPlatform::new());
    for &(f, l, r) in entries {
        t.store(f, l, Some(r), Gfp::Kernel).unwrap();
    }
    t
}

fn entries(t: &RangeTree<VmaRecord, StdPlatform>) -> Vec<(usize, usize, VmaRecord)> {
    t.iter().collect()
}

#[test]
fn sync_counts_kept_changed_added_removed() {
    let mut t = tree_of(&[
        (0x1000, 0x1fff, rec(1)),
        (0x3000, 0x3fff, rec(2)),
        (0x5000, 0x8fff, rec(3)),
        (0xa000, 0xafff, rec(4)),
    ]);
    let mut changed = rec(2);
    changed.flags = 0x71;
    let snap = [
        (0x1000, 0x1fff, rec(1)),  // kept
        (0x3000, 0x3fff, changed), // changed (mprotect)
        (0x5000, 0x5fff, rec(3)),  // [0x5000, 0x8fff] split: added
        (0x6000, 0x8fff, rec(5)),  // added
        (0xc000, 0xcfff, rec(6)),  // added; 0xa000 removed
    ];
    let c = sync(&mut t, snap, Gfp::Kernel).unwrap();
    assert_eq!(
        c,
        SyncCounts {
            kept: 1,
            changed: 1,
            added: 3,
            removed: 2
        }
    );
    assert_eq!(entries(&t), snap.to_vec());
    t.validate().unwrap();
}

#[test]
fn a_trimmed_remainder_is_not_kept() {
    // [0x0, 0x9fff] shrinks from below: the remainder left by clearing
    // [0x0, 0x4fff] has the snapshot's range but is not a VMA the shadow had.
    let mut t = tree_of(&[(0, 0x9fff, rec(1))]);
    let c = sync(&mut t, [(0x5000, 0x9fff, rec(1))], Gfp::Kernel).unwrap();
    assert_eq!((c.kept, c.added, c.removed), (0, 1, 1));
    // Split in two: the upper half is the remainder of the first store.
    let mut t = tree_of(&[(0, 0x9fff, rec(1))]);
    let c = sync(
        &mut t,
        [(0, 0x4fff, rec(1)), (0x5000, 0x9fff, rec(1))],
        Gfp::Kernel,
    )
    .unwrap();
    assert_eq!((c.kept, c.added, c.removed), (0, 2, 1));
}

#[test]
fn sync_rejects_unsorted_snapshots() {
    let mut t = tree_of(&[]);
    let r = sync(
        &mut t,
        [(0x2000, 0x2fff, rec(1)), (0x1000, 0x1fff, rec(2))],
        Gfp::Kernel,
    );
    assert_eq!(r, Err(SyncError::Unsorted(1)));
    let r = sync(&mut t, [(0x2000, 0x1fff, rec(1))], Gfp::Kernel);
    assert_eq!(r, Err(SyncError::Unsorted(0)));
}

#[test]
fn sync_reaches_the_top_of_the_address_space() {
    let mut t = tree_of(&[(usize::MAX - 0xfff, usize::MAX, rec(1)), (0, 0xfff, rec(2))]);
    let c = sync(
        &mut t,
        [(usize::MAX - 0xfff, usize::MAX, rec(1))],
        Gfp::Kernel,
    )
    .unwrap();
    assert_eq!((c.kept, c.removed), (1, 1));
    assert_eq!(t.len(), 1);
}

#[test]
fn sync_failing_allocation_reports_alloc() {
    let p = StdPlatform::new();
    let mut t = RangeTree::new(p);
    t.store(0, 0xfff, Some(rec(1)), Gfp::Kernel).unwrap();
    t.platform().fail_nth(0, true);
    let snap: Vec<_> = (0..200)
        .map(|i| (i * 0x2000, i * 0x2000 + 0xfff, rec(i as u64)))
        .collect();
    assert_eq!(sync(&mut t, snap, Gfp::Kernel), Err(SyncError::Alloc));
    t.platform().heal();
    t.validate().unwrap();
}

/// A layout: sorted, disjoint page ranges from (gap, length) pairs.
fn layout(parts: &[(usize, usize, u8)]) -> Vec<(usize, usize, VmaRecord)> {
    let mut at = 0;
    let mut out = Vec::new();
    for &(gap, len, id) in parts {
        let first = at + gap * 0x1000;
        let last = first + (len + 1) * 0x1000 - 1;
        out.push((first, last, rec(u64::from(id % 4))));
        at = last + 1;
    }
    out
}

proptest! {
    #[test]
    fn sync_makes_the_shadow_equal_each_snapshot(
        snaps in prop::collection::vec(
            prop::collection::vec((0usize..3, 0usize..4, any::<u8>()), 0..60),
            1..6,
        )
    ) {
        let mut t = tree_of(&[]);
        let mut prev: Vec<(usize, usize, VmaRecord)> = Vec::new();
        for parts in &snaps {
            let snap = layout(parts);
            let c = sync(&mut t, snap.iter().copied(), Gfp::Kernel).unwrap();
            prop_assert_eq!(entries(&t), snap.clone());
            t.validate().unwrap();
            // Counts against a plain comparison of the two lists.
            let same_range = |e: &(usize, usize, VmaRecord)| {
                prev.iter().find(|p| p.0 == e.0 && p.1 == e.1).map(|p| p.2 == e.2)
            };
            let kept = snap.iter().filter(|e| same_range(e) == Some(true)).count();
            let changed = snap.iter().filter(|e| same_range(e) == Some(false)).count();
            prop_assert_eq!(c.kept, kept);
            prop_assert_eq!(c.changed, changed);
            prop_assert_eq!(c.added, snap.len() - kept - changed);
            prop_assert_eq!(c.removed, prev.len() - kept - changed);
            prev = snap;
        }
    }
}
