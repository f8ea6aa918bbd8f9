//! Merge statistics: the merge rules and the store classifier against the
//! outcomes of the kernel's own tests (tools/testing/vma/tests/merge.c and
//! tools/testing/selftests/mm/merge.c, Linux 7.3), and the store sequences
//! of mm/vma.c replayed one store at a time.

use vmatrack_core::engine::{
    merge::{
        classify_store, flags as f, moved_reasons, three_way_reasons, unmerged_reasons,
        write_stats, write_unmerged_line, Arch, Cause, MergeStats, Placed, Reason, Reasons,
        ShadowView, StoreEffect, StoreKind, Totals,
    },
    record::{FileRef, ObjectId, VmaRecord},
};

const RW: u64 = f::READ | f::WRITE | f::MAYREAD | f::MAYWRITE;
const P: usize = 0x1000;

/// x86_64, as the glue describes it there.
const X86: Arch = Arch {
    page_shift: 12,
    flag_names: &f::X86_64_NAMES,
};

fn anon(id: u64, pgoff: u64) -> VmaRecord {
    VmaRecord {
        vma: ObjectId(id),
        flags: RW,
        pgoff,
        ..VmaRecord::default()
    }
}

/// Pages `[a, b)` as the tree's inclusive range.
fn r(a: usize, b: usize) -> (usize, usize) {
    (a * P, b * P - 1)
}

fn pair(prev: &VmaRecord, pr: (usize, usize), next: &VmaRecord, nr: (usize, usize)) -> Reasons {
    unmerged_reasons(&X86, prev, pr.0, pr.1, next, nr.0, nr.1)
}

fn reasons(list: &[Reason]) -> Reasons {
    let mut out = Reasons::NONE;
    for r in list {
        out.add(*r);
    }
    out
}

fn placed(rec: &VmaRecord, range: (usize, usize)) -> Placed<'_> {
    Placed {
        rec,
        first: range.0,
        last: range.1,
    }
}

// tools/testing/vma merge.c test_merge_existing, "Merge left case - full
// span": PPPVVVV merges.
#[test]
fn eligible_when_everything_matches() {
    let res = pair(&anon(1, 0), r(0, 3), &anon(2, 3), r(3, 7));
    assert!(res.is_eligible());
    assert_eq!(res.to_string(), "eligible");
}

// test_vma_merge_special_flags: each VM_SPECIAL flag stops the merge, even
// with prev carrying it too.
#[test]
fn special_flags_never_merge() {
    for flag in [f::IO, f::DONTEXPAND, f::PFNMAP, f::MIXEDMAP] {
        let mut a = anon(1, 0);
        let mut b = anon(2, 3);
        a.flags |= flag;
        b.flags |= flag;
        assert_eq!(pair(&a, r(0, 3), &b, r(3, 4)), reasons(&[Reason::Special]));
        assert_eq!(pair(&a, r(0, 3), &b, r(3, 4)).to_string(), "special");
    }
}

// is_mergeable_vma(): mpol_equal().
#[test]
fn mempolicy_differs() {
    let a = anon(1, 0);
    let mut b = anon(2, 3);
    b.merge.mempolicy = 0xbeef;
    assert_eq!(pair(&a, r(0, 3), &b, r(3, 4)).to_string(), "mempolicy");
}

// selftests merge.c mprotect_* tests: RW beside RO stays apart until the
// protections match.
#[test]
fn flags_differ_and_are_listed() {
    let a = anon(1, 0);
    let mut b = anon(2, 3);
    b.flags &= !f::WRITE;
    b.flags |= f::LOCKED;
    let res = pair(&a, r(0, 3), &b, r(3, 4));
    assert_eq!(res, {
        let mut x = Reasons::NONE;
        x.add_flags(f::WRITE | f::LOCKED);
        x
    });
    assert_eq!(res.flags_diff(), f::WRITE | f::LOCKED);
    assert_eq!(res.to_string(), "flags:write|locked");
}

// selftests merge.c merge_vmas_with_mseal: RWE beside RWES does not merge
// until both are sealed; high, 64-bit-only bits are named too.
#[test]
fn flags_sealed_and_high_bits() {
    let mut a = anon(1, 0);
    a.flags |= f::EXEC;
    let mut b = a;
    b.vma = ObjectId(2);
    b.pgoff = 1;
    b.flags |= f::SEALED;
    assert_eq!(pair(&a, r(0, 1), &b, r(1, 2)).to_string(), "flags:sealed");
    a.flags |= f::SEALED;
    assert!(pair(&a, r(0, 1), &b, r(1, 2)).is_eligible());
    b.flags |= f::UFFD_RWP | (1 << 50) | f::PKEY_BIT0;
    let res = pair(&a, r(0, 1), &b, r(1, 2));
    assert_eq!(
        res.display(&X86).to_string(),
        "flags:pkey_bit0|uffd_rwp|bit50"
    );
    // Without a table the architecture's own bits are not given x86_64's
    // names.
    assert_eq!(res.to_string(), "flags:arch_bit32|uffd_rwp|bit50");
    assert_eq!(
        res.display(&Arch::generic(12)).to_string(),
        "flags:arch_bit32|uffd_rwp|bit50"
    );
}

// test_merge_new (every permutation of sticky flags) and
// test_merge_existing: VMA_STICKY_FLAGS (soft-dirty, maybe-guard) never
// stop a merge.
#[test]
fn sticky_flags_are_ignored() {
    for (fa, fb) in [
        (f::SOFTDIRTY, 0),
        (0, f::MAYBE_GUARD),
        (f::SOFTDIRTY | f::MAYBE_GUARD, 0),
    ] {
        let mut a = anon(1, 0);
        let mut b = anon(2, 3);
        a.flags |= fa;
        b.flags |= fb;
        assert!(pair(&a, r(0, 3), &b, r(3, 4)).is_eligible());
    }
}

fn file(id: u64) -> Option<FileRef> {
    Some(FileRef {
        file: ObjectId(id),
        dev: 8,
        ino: 12,
    })
}

// is_mergeable_vma(): vm_file must be the same struct file; two opens of
// one inode are not.
#[test]
fn file_differs() {
    let mut a = anon(1, 0);
    let mut b = anon(2, 3);
    a.flags |= f::SHARED | f::MAYSHARE;
    b.flags |= f::SHARED | f::MAYSHARE;
    a.file = file(10);
    b.file = file(11);
    assert_eq!(pair(&a, r(0, 3), &b, r(3, 4)).to_string(), "file");
    b.file = file(10);
    assert!(pair(&a, r(0, 3), &b, r(3, 4)).is_eligible());
}

// is_mergeable_vm_userfaultfd_ctx().
#[test]
fn uffd_ctx_differs() {
    let a = anon(1, 0);
    let mut b = anon(2, 3);
    b.merge.uffd_ctx = ObjectId(77);
    assert_eq!(pair(&a, r(0, 3), &b, r(3, 4)).to_string(), "uffd_ctx");
}

// anon_vma_name_eq().
#[test]
fn anon_name_differs() {
    let a = anon(1, 0);
    let mut b = anon(2, 3);
    b.anon_name = ObjectId(5);
    assert_eq!(pair(&a, r(0, 3), &b, r(3, 4)).to_string(), "anon_name");
}

// test_anon_vma_non_mergeable, and is_mergeable_anon_vma() case 3: two
// different anon_vmas never merge.
#[test]
fn anon_vma_differs() {
    let mut a = anon(1, 0);
    let mut b = anon(2, 3);
    a.anon_vma = ObjectId(100);
    b.anon_vma = ObjectId(200);
    assert_eq!(pair(&a, r(0, 3), &b, r(3, 7)).to_string(), "anon_vma");
    // One faulted, one not (not forked): case 1/2 allow it.
    b.anon_vma = ObjectId::NONE;
    assert!(pair(&a, r(0, 3), &b, r(3, 7)).is_eligible());
}

// selftests merge.c forked_target_vma: a forked, faulted VMA does not take
// in an unfaulted neighbour (case 2); forked_source_vma: nor is it merged
// into one (case 1).
#[test]
fn anon_vma_fork_child() {
    let mut forked = anon(1, 1);
    forked.anon_vma = ObjectId(100);
    forked.merge.anon_vma_fork_child = true;
    let fresh = anon(2, 6);
    assert_eq!(
        pair(&forked, r(1, 6), &fresh, r(6, 11)).to_string(),
        "anon_vma_fork_child"
    );
    let mut before = anon(3, 0);
    before.pgoff = 0;
    assert_eq!(
        pair(&before, r(0, 1), &forked, r(1, 6)).to_string(),
        "anon_vma_fork_child"
    );
    // The flag means nothing without an anon_vma (vma_is_fork_child()).
    let mut stale = fresh;
    stale.merge.anon_vma_fork_child = true;
    assert!(pair(&anon(4, 1), r(1, 6), &stale, r(6, 11)).is_eligible());
}

// can_vma_merge_after(): vma_end_pgoff(prev) must be next's pgoff (here a
// shared file mapping with a hole in its offsets).
#[test]
fn pgoff_not_contiguous() {
    let mut a = anon(1, 0);
    a.flags |= f::SHARED | f::MAYSHARE;
    a.file = file(10);
    let mut b = a;
    b.vma = ObjectId(2);
    b.pgoff = 5;
    assert_eq!(pair(&a, r(0, 3), &b, r(3, 4)).to_string(), "pgoff");
    b.pgoff = 3;
    assert!(pair(&a, r(0, 3), &b, r(3, 4)).is_eligible());
}

// selftests merge.c anon_and_page_offset_mismatch_memfd: the faulted
// MAP_PRIVATE memfd mapping moved from page 10 to page 5 keeps file offsets
// contiguous but not anonymous ones.
#[test]
fn anon_pgoff_not_contiguous() {
    let mut a = anon(1, 0);
    a.file = file(10);
    let mut b = a;
    b.vma = ObjectId(2);
    b.pgoff = 5;
    b.anon_vma = ObjectId(100);
    // vma_start_anon_pgoff = page 10 while at page 5.
    b.merge.anon_pgoff_shift = 5;
    assert_eq!(pair(&a, r(0, 5), &b, r(5, 10)).to_string(), "anon_pgoff");
    // A shared mapping does not need it (needs_adjacent_anon_pgoff()).
    a.flags |= f::SHARED | f::MAYSHARE;
    b.flags |= f::SHARED | f::MAYSHARE;
    b.anon_vma = ObjectId::NONE;
    assert!(pair(&a, r(0, 5), &b, r(5, 10)).is_eligible());
}

// test_anon_vma_non_mergeable: PPPVVVVNNN with prev and next on different
// anon_vmas and V unfaulted merges one side only (PPPPPPPNNN).
#[test]
fn anon_vma_3way() {
    let mut p = anon(1, 0);
    let v = anon(2, 3);
    let mut n = anon(3, 7);
    p.anon_vma = ObjectId(100);
    n.anon_vma = ObjectId(200);
    let (pr, vr, nr) = (r(0, 3), r(3, 7), r(7, 9));
    assert!(pair(&p, pr, &v, vr).is_eligible());
    assert_eq!(
        three_way_reasons(&X86, placed(&p, pr), placed(&v, vr), placed(&n, nr)).to_string(),
        "anon_vma_3way"
    );
    // What is left after the kernel merged left: P+V beside N.
    assert_eq!(pair(&p, r(0, 7), &n, nr).to_string(), "anon_vma");
    n.anon_vma = ObjectId(100);
    assert!(three_way_reasons(&X86, placed(&p, pr), placed(&v, vr), placed(&n, nr)).is_eligible());
}

// test_vma_merge_with_close: a VMA with vm_ops->close cannot be removed, so
// PPPVV with V's close hook does not merge; prev's hook has no impact; and
// for merge both, next's hook stops the three-way merge.
#[test]
fn close_hook() {
    let p = anon(1, 0);
    let mut v = anon(2, 3);
    v.merge.has_close = true;
    assert_eq!(pair(&p, r(0, 3), &v, r(3, 5)).to_string(), "close_hook");
    let mut p2 = p;
    p2.merge.has_close = true;
    assert!(pair(&p2, r(0, 3), &anon(2, 3), r(3, 5)).is_eligible());
    let mut n = anon(3, 5);
    n.merge.has_close = true;
    let v = anon(2, 3);
    assert_eq!(
        three_way_reasons(
            &X86,
            placed(&p, r(0, 3)),
            placed(&v, r(3, 5)),
            placed(&n, r(5, 9))
        )
        .to_string(),
        "close_hook"
    );
}

// vma_merge_copied_range(): a VMA registered with userfaultfd without
// UFFD_FEATURE_EVENT_REMAP is not merged when mremap() moves it; without
// that, the move merges as a new range does.
#[test]
fn uffd_no_remap() {
    let p = anon(1, 0);
    let mut m = anon(2, 3);
    assert!(moved_reasons(&X86, placed(&p, r(0, 3)), placed(&m, r(3, 5))).is_eligible());
    m.merge.uffd_no_event_remap = true;
    assert_eq!(
        moved_reasons(&X86, placed(&p, r(0, 3)), placed(&m, r(3, 5))).to_string(),
        "uffd_no_remap"
    );
    // Existing-range merges do not look at it.
    assert!(pair(&p, r(0, 3), &m, r(3, 5)).is_eligible());
}

// All failing rules are collected, in the kernel's order.
#[test]
fn all_reasons_collected_in_order() {
    let mut a = anon(1, 0);
    let mut b = anon(2, 9);
    a.anon_vma = ObjectId(100);
    b.anon_vma = ObjectId(200);
    b.flags &= !f::WRITE;
    b.merge.has_close = true;
    b.merge.uffd_ctx = ObjectId(3);
    let res = pair(&a, r(0, 3), &b, r(3, 7));
    assert_eq!(
        res.to_string(),
        "flags:write,uffd_ctx,anon_vma,pgoff,close_hook"
    );
    let mut line = String::new();
    let at = |rec, first, last| Placed { rec, first, last };
    write_unmerged_line(
        &mut line,
        &X86,
        at(&a, 0, 0x2fff),
        at(&b, 0x3000, 0x6fff),
        &res,
    )
    .unwrap();
    assert_eq!(
        line,
        "00000000-00003000 00003000-00007000 flags:write,uffd_ctx,anon_vma,pgoff,close_hook \
         anon_vma=000000000064/0000000000c8 file=-/- fixed_by=-\n"
    );
    let mut line = String::new();
    let none = anon(1, 0);
    write_unmerged_line(
        &mut line,
        &X86,
        at(&none, 0x7f00_0000_0000, 0x7f00_0000_0fff),
        at(&none, 0x7f00_0000_1000, 0x7f00_0000_1fff),
        &Reasons::NONE,
    )
    .unwrap();
    assert_eq!(
        line,
        "7f0000000000-7f0000001000 7f0000001000-7f0000002000 eligible anon_vma=-/- file=-/- fixed_by=-\n"
    );
}

// Ids are printed as their low 48 bits, 12 hex digits: never the 16 of a
// 64-bit kernel address.
#[test]
fn unmerged_ids_are_12_digits() {
    let mut a = anon(1, 0);
    let b = anon(2, 1);
    a.anon_vma = ObjectId(0xffff_8880_1234_5678);
    let at = |rec, first, last| Placed { rec, first, last };
    let mut line = String::new();
    write_unmerged_line(
        &mut line,
        &X86,
        at(&a, 0, 0xfff),
        at(&b, 0x1000, 0x1fff),
        &Reasons::NONE,
    )
    .unwrap();
    assert!(
        line.ends_with(" anon_vma=888012345678/- file=-/- fixed_by=-\n"),
        "{line}"
    );
}

// fixed_by names the relaxed rule sets under which the pair alone merges:
// two unshared anon_vmas, offsets following the addresses: r2 and r1+r2.
#[test]
fn unmerged_fixed_by() {
    let mut a = anon(1, 0);
    let mut b = anon(2, 1);
    a.anon_vma = ObjectId(100);
    b.anon_vma = ObjectId(200);
    a.merge.anon_vma_unshared = true;
    b.merge.anon_vma_unshared = true;
    let at = |rec, first, last| Placed { rec, first, last };
    let (pa, pb) = (at(&a, 0, 0xfff), at(&b, 0x1000, 0x1fff));
    let res = unmerged_reasons(&X86, &a, 0, 0xfff, &b, 0x1000, 0x1fff);
    assert_eq!(res.to_string(), "anon_vma");
    let mut line = String::new();
    write_unmerged_line(&mut line, &X86, pa, pb, &res).unwrap();
    assert!(line.ends_with(" fixed_by=r2,r1+r2\n"), "{line}");
}

/// A shadow as a sorted list, with the tree's store semantics.
#[derive(Default)]
struct Shadow(Vec<(usize, usize, ObjectId)>);

impl ShadowView for Shadow {
    fn find(&self, from: usize, max: usize) -> Option<(usize, usize, ObjectId)> {
        self.0
            .iter()
            .copied()
            .find(|&(f, l, _)| l >= from && f <= max)
    }
}

impl Shadow {
    fn apply(&mut self, first: usize, last: usize, v: Option<ObjectId>) {
        let mut out = Vec::new();
        for &(f, l, id) in &self.0 {
            if l < first || f > last {
                out.push((f, l, id));
                continue;
            }
            if f < first {
                out.push((f, first - 1, id));
            }
            if l > last {
                out.push((last + 1, l, id));
            }
        }
        if let Some(id) = v {
            out.push((first, last, id));
        }
        out.sort();
        self.0 = out;
    }

    /// Classifies then applies, as the kernel side does; counts in `s`.
    fn store(&mut self, s: &mut MergeStats, pages: (usize, usize), v: Option<u64>) -> StoreEffect {
        let (first, last) = r(pages.0, pages.1);
        let v = v.map(ObjectId);
        let e = classify_store(self, first, last, v);
        s.count_store(v.is_none(), &e);
        self.apply(first, last, v);
        e
    }

    fn pages(&self) -> Vec<(usize, usize, u64)> {
        self.0
            .iter()
            .map(|&(f, l, id)| (f / P, (l + 1) / P, id.0))
            .collect()
    }
}

fn eff(kind: StoreKind, removed: u32, shrunk: u32) -> StoreEffect {
    StoreEffect {
        kind,
        removed,
        shrunk,
    }
}

fn shadow(v: &[((usize, usize), u64)]) -> Shadow {
    let mut s = Shadow::default();
    for &((a, b), id) in v {
        let (f, l) = r(a, b);
        s.apply(f, l, Some(ObjectId(id)));
    }
    s
}

// tools/testing/vma merge.c __test_merge_new, replayed store by store:
// every new-range merge case, ending with one VMA.
#[test]
fn merge_new_sequence() {
    let (a, b, c, d) = (1, 2, 3, 4);
    // AA B       CC
    let mut sh = shadow(&[((0, 2), a), ((3, 4), b), ((0xb, 0xc), c)]);
    let mut s = MergeStats::default();
    // NO merge: D at 7-9 (__mmap_new_vma()).
    assert_eq!(
        sh.store(&mut s, (7, 9), Some(d)),
        eff(StoreKind::NewVma, 0, 0)
    );
    // Merge BOTH: A grows over the gap and all of B (B removed).
    assert_eq!(
        sh.store(&mut s, (0, 4), Some(a)),
        eff(StoreKind::MergeBoth, 1, 0)
    );
    // Merge to PREVIOUS: A grows right.
    assert_eq!(
        sh.store(&mut s, (0, 5), Some(a)),
        eff(StoreKind::MergePrev, 0, 0)
    );
    // Merge to NEXT: D grows left.
    assert_eq!(
        sh.store(&mut s, (6, 9), Some(d)),
        eff(StoreKind::MergeNext, 0, 0)
    );
    // Merge BOTH: A over the gap and D.
    assert_eq!(
        sh.store(&mut s, (0, 9), Some(a)),
        eff(StoreKind::MergeBoth, 1, 0)
    );
    // Merge to NEXT: C grows left.
    assert_eq!(
        sh.store(&mut s, (0xa, 0xc), Some(c)),
        eff(StoreKind::MergeNext, 0, 0)
    );
    // Merge BOTH: A over the gap and C.
    assert_eq!(
        sh.store(&mut s, (0, 0xc), Some(a)),
        eff(StoreKind::MergeBoth, 1, 0)
    );
    assert_eq!(sh.pages(), vec![(0, 0xc, a)]);
    assert_eq!(s.stores, 7);
    assert_eq!(s.new_merge_none, 1);
    assert_eq!(s.new_merge_prev, 1);
    assert_eq!(s.new_merge_next, 2);
    assert_eq!(s.new_merge_both, 3);
    assert_eq!(s.expanded, 6);
    assert_eq!(s.removed, 3);
    assert_eq!(s.new_merges(), 6);
    s.kernel_new_merges = 6;
    assert_eq!(s.disagreements(), 0);
}

// test_vma_merge_new_with_close: prev and next both have close hooks, so
// the new range only extends prev (PPPPPNN), next stays.
#[test]
fn merge_new_with_close_extends_prev_only() {
    let mut sh = shadow(&[((0, 2), 1), ((5, 7), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0, 5), Some(1)),
        eff(StoreKind::MergePrev, 0, 0)
    );
    assert_eq!(sh.pages(), vec![(0, 5, 1), (5, 7, 2)]);
}

// __test_merge_existing "Merge right case - partial span": VVVVNNN with
// [3,6) changed: commit_merge() stores N over [3,9) (__adjust_next_start),
// V is left as [2,3).
#[test]
fn existing_merge_right_partial() {
    let mut sh = shadow(&[((2, 6), 1), ((6, 9), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (3, 9), Some(2)),
        eff(StoreKind::ExistingRight, 0, 1)
    );
    assert_eq!(sh.pages(), vec![(2, 3, 1), (3, 9, 2)]);
    assert_eq!((s.existing_merge_right, s.shrunk, s.expanded), (1, 1, 1));
}

// "Merge right case - full span": N stored over [2,9), V removed.
#[test]
fn existing_merge_right_full() {
    let mut sh = shadow(&[((2, 6), 1), ((6, 9), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (2, 9), Some(2)),
        eff(StoreKind::ExistingRight, 1, 0)
    );
    assert_eq!(sh.pages(), vec![(2, 9, 2)]);
}

// "Merge left case - partial span": PPPVVVV, [3,6) changed: P over [0,6),
// V left as [6,7) (__adjust_middle_start).
#[test]
fn existing_merge_left_partial() {
    let mut sh = shadow(&[((0, 3), 1), ((3, 7), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0, 6), Some(1)),
        eff(StoreKind::ExistingLeft, 0, 1)
    );
    assert_eq!(sh.pages(), vec![(0, 6, 1), (6, 7, 2)]);
}

// "Merge left case - full span": P over [0,7), V removed.
#[test]
fn existing_merge_left_full() {
    let mut sh = shadow(&[((0, 3), 1), ((3, 7), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0, 7), Some(1)),
        eff(StoreKind::ExistingLeft, 1, 0)
    );
}

// "Merge both case": PPPVVVVNNN, P over [0,10), V and N removed.
#[test]
fn existing_merge_both() {
    let mut sh = shadow(&[((0, 3), 1), ((3, 7), 2), ((7, 10), 3)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0, 10), Some(1)),
        eff(StoreKind::ExistingBoth, 2, 0)
    );
    assert_eq!(sh.pages(), vec![(0, 10, 1)]);
    assert_eq!(
        (s.existing_merge_both, s.removed, s.new_merges()),
        (1, 2, 0)
    );
}

// test_simple_modify: vma_modify() with no merge splits [0,3) at 1
// (new_below: the new VMA takes [0,1)) and at 2 (the new VMA takes [2,3)).
#[test]
fn split_both_ends() {
    let mut sh = shadow(&[((0, 3), 1)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0, 1), Some(2)),
        eff(StoreKind::Split, 0, 0)
    );
    assert_eq!(
        sh.store(&mut s, (2, 3), Some(3)),
        eff(StoreKind::Split, 0, 0)
    );
    assert_eq!(sh.pages(), vec![(0, 1, 2), (1, 2, 1), (2, 3, 3)]);
    assert_eq!(s.split, 2);
}

// test_simple_shrink: vma_shrink() of [0,3) to [0,1) clears [1,3).
#[test]
fn shrink_clears_the_tail() {
    let mut sh = shadow(&[((0, 3), 1)]);
    let mut s = MergeStats::default();
    assert_eq!(sh.store(&mut s, (1, 3), None), eff(StoreKind::Shrunk, 0, 1));
    assert_eq!((s.clears, s.shrunk), (1, 1));
}

// do_vmi_align_munmap() of the middle of a VMA: two splits
// (vms_gather_munmap_vmas()), then one clear of the whole middle VMA.
#[test]
fn munmap_middle_splits_then_removes() {
    let mut sh = shadow(&[((0, 6), 1)]);
    let mut s = MergeStats::default();
    // __split_vma(vma, start, 1): the new VMA takes [0,2).
    assert_eq!(
        sh.store(&mut s, (0, 2), Some(2)),
        eff(StoreKind::Split, 0, 0)
    );
    // __split_vma(next, end, 0): the new VMA takes [4,6).
    assert_eq!(
        sh.store(&mut s, (4, 6), Some(3)),
        eff(StoreKind::Split, 0, 0)
    );
    // vma_iter_clear_gfp(start, end).
    assert_eq!(
        sh.store(&mut s, (2, 4), None),
        eff(StoreKind::Removed, 1, 0)
    );
    assert_eq!(sh.pages(), vec![(0, 2, 2), (4, 6, 3)]);
}

// munmap() over several whole VMAs and the gaps between them: one clear.
#[test]
fn munmap_removes_whole_vmas() {
    let mut sh = shadow(&[((0, 2), 1), ((3, 4), 2), ((6, 8), 3)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0, 9), None),
        eff(StoreKind::Removed, 3, 0)
    );
    assert_eq!(s.removed, 3);
    // A clear of what is already empty changes nothing.
    assert_eq!(sh.store(&mut s, (0, 9), None), eff(StoreKind::Noop, 0, 0));
}

// A clear cutting the middle out of a VMA: no 7.3 sequence does this
// (munmap() splits first).
#[test]
fn partial_clear() {
    let mut sh = shadow(&[((0, 6), 1)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (2, 4), None),
        eff(StoreKind::PartialClear, 0, 1)
    );
    assert_eq!(s.partial_clear, 1);
}

// __mmap_region() with MAP_FIXED over two VMAs, no merge possible: splits
// at both ends, then __mmap_new_vma() stores the new VMA over the old
// (detached, still in the tree) ones.
#[test]
fn map_fixed_replaces() {
    let mut sh = shadow(&[((0, 4), 1), ((4, 8), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0, 2), Some(3)),
        eff(StoreKind::Split, 0, 0)
    );
    assert_eq!(
        sh.store(&mut s, (6, 8), Some(4)),
        eff(StoreKind::Split, 0, 0)
    );
    assert_eq!(
        sh.store(&mut s, (2, 6), Some(5)),
        eff(StoreKind::Replaced, 2, 0)
    );
    assert_eq!(sh.pages(), vec![(0, 2, 3), (2, 6, 5), (6, 8, 4)]);
}

// __mmap_region() with MAP_FIXED over a VMA and a gap, merging prev:
// vma_expand() stores prev over the detached VMA and the gap.
#[test]
fn map_fixed_merge_over_mapped() {
    let mut sh = shadow(&[((0, 2), 1), ((2, 3), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0, 4), Some(1)),
        eff(StoreKind::MergeOverMapped, 1, 0)
    );
    assert_eq!(s.new_merges(), 1);
}

// do_brk_flags(): vma_merge_new_range() in just_expand mode grows the brk
// VMA; expand_downwards(): the stack grows the same way a merge with next
// does, and cannot be told from it by the store alone.
#[test]
fn brk_and_stack_growth() {
    let mut sh = shadow(&[((0x10, 0x12), 1), ((0x7f0, 0x800), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (0x10, 0x13), Some(1)),
        eff(StoreKind::MergePrev, 0, 0)
    );
    assert_eq!(
        sh.store(&mut s, (0x7ef, 0x800), Some(2)),
        eff(StoreKind::MergeNext, 0, 0)
    );
    // The kernel counted only the brk one: stack growth is no merge.
    s.kernel_new_merges = 1;
    assert_eq!(s.disagreements(), 1);
}

// ...but the stored VMA's VM_GROWSDOWN tells them apart: expand_downwards()
// grows only VM_GROWSDOWN VMAs, and a new range merges with one only if it
// is VM_GROWSDOWN itself (is_mergeable_vma() compares the flags).
#[test]
fn stack_growth_told_apart_by_growsdown() {
    let e = eff(StoreKind::MergeNext, 0, 0);
    assert_eq!(
        e.stack_growth(RW | f::GROWSDOWN).kind,
        StoreKind::StackGrowth
    );
    assert_eq!(e.stack_growth(RW).kind, StoreKind::MergeNext);
    // Growing up is a merge with prev whatever the flags.
    let up = eff(StoreKind::MergePrev, 0, 0);
    assert_eq!(up.stack_growth(RW | f::GROWSDOWN), up);
    let mut s = MergeStats::default();
    let grown = e.stack_growth(RW | f::GROWSDOWN);
    s.count_store(false, &grown);
    s.count_cause(&grown, Cause::NoSyscall);
    assert_eq!((s.stack_growth, s.expanded, s.new_merges()), (1, 1, 0));
    assert_eq!(s.merges_after, [0; Cause::ALL.len()]);
    s.kernel_new_merges = 0;
    assert_eq!(s.disagreements(), 0);
}

// MAP_FIXED over several VMAs, merged with next: next grows down over all
// the detached VMAs at once, a shape vma_modify() never makes (seen in the
// guest: churn's MAP_FIXED mmaps).
#[test]
fn merged_over_several_whole_vmas() {
    let mut sh = shadow(&[((2, 4), 1), ((4, 6), 2), ((6, 9), 3)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (2, 9), Some(3)),
        eff(StoreKind::MergeOverMapped, 2, 0)
    );
    assert_eq!(s.new_merges(), 1);
}

// A MAP_FIXED mmap() that merges grows a VMA over the VMAs it detached,
// still in the tree: the store looks like an existing-range merge, but
// mmap() never calls vma_modify(), so it is a new range merged over
// mappings (__mmap_region(): vms_gather_munmap_vmas(), then
// vma_merge_new_range()).
#[test]
fn existing_shape_in_mmap_is_a_new_merge() {
    for kind in [
        StoreKind::ExistingLeft,
        StoreKind::ExistingRight,
        StoreKind::ExistingBoth,
    ] {
        let e = eff(kind, 1, 0);
        for c in [Cause::Mmap, Cause::Mremap, Cause::Brk] {
            assert_eq!(e.in_syscall(c), eff(StoreKind::MergeOverMapped, 1, 0));
        }
        for c in [Cause::Mprotect, Cause::Madvise, Cause::Mlock, Cause::Prctl] {
            assert_eq!(e.in_syscall(c), e);
        }
    }
    let split = eff(StoreKind::Split, 0, 0);
    assert_eq!(split.in_syscall(Cause::Mmap), split);
}

// The kernel side numbers causes in Cause::ALL order; anything else is
// "other".
#[test]
fn cause_from_index() {
    for (i, c) in Cause::ALL.iter().enumerate() {
        assert_eq!(Cause::from_index(i as u32), *c);
    }
    assert_eq!(Cause::from_index(99), Cause::Other);
    assert_eq!(Cause::from_index(u32::MAX), Cause::Other);
}

// A VMA stored again over exactly its own range changes nothing.
#[test]
fn restore_is_noop() {
    let mut sh = shadow(&[((0, 2), 1), ((2, 4), 2)]);
    let mut s = MergeStats::default();
    assert_eq!(
        sh.store(&mut s, (2, 4), Some(2)),
        eff(StoreKind::Noop, 0, 0)
    );
    assert_eq!((s.noop, s.stores), (1, 1));
}

// Stores no 7.3 sequence makes.
#[test]
fn unknown_stores() {
    let mut s = MergeStats::default();
    // A VMA shifted over its own old range.
    let mut sh = shadow(&[((0, 2), 1)]);
    assert_eq!(
        sh.store(&mut s, (1, 3), Some(1)),
        eff(StoreKind::Unknown, 0, 0)
    );
    // A new VMA in the middle of another (a split makes two pieces only).
    let mut sh = shadow(&[((0, 6), 1)]);
    assert_eq!(
        sh.store(&mut s, (2, 4), Some(2)),
        eff(StoreKind::Unknown, 0, 0)
    );
    // A VMA grown at both ends.
    let mut sh = shadow(&[((2, 4), 1)]);
    assert_eq!(
        sh.store(&mut s, (1, 5), Some(1)),
        eff(StoreKind::Unknown, 0, 0)
    );
    // A VMA stored beside where it is.
    let mut sh = shadow(&[((0, 2), 1)]);
    assert_eq!(
        sh.store(&mut s, (2, 4), Some(1)),
        eff(StoreKind::Unknown, 0, 0)
    );
    assert_eq!(s.unknown, 4);
}

// The stats file: every name, in order, with the computed lines.
#[test]
fn stats_render() {
    let mut s = MergeStats {
        new_merge_prev: 2,
        new_merge_both: 1,
        kernel_new_merges: 5,
        stores: 3,
        ..MergeStats::default()
    };
    let mut reasons = Reasons::NONE;
    reasons.add_flags(f::WRITE);
    reasons.add(Reason::AnonVma);
    s.count_unmerged(&reasons);
    s.count_unmerged(&reasons);
    // Only merges count under their cause.
    s.count_cause(&eff(StoreKind::ExistingLeft, 0, 1), Cause::Mprotect);
    s.count_cause(&eff(StoreKind::Split, 0, 0), Cause::Mprotect);
    let mut out = String::new();
    write_stats(
        &mut out,
        &s,
        &Totals {
            vmas: 10,
            touching_pairs: 4,
            unmerged_pairs: 2,
        },
    )
    .unwrap();
    let expected = "vmas 10\ntouching_pairs 4\nunmerged_pairs 2\nstores 3\nclears 0\n\
new_merge_none 0\nnew_merge_prev 2\nnew_merge_next 0\nnew_merge_both 1\n\
new_merge_over_mapped 0\nstack_growth 0\nexisting_merge_left 0\nexisting_merge_right 0\n\
existing_merge_both 0\nnoop 0\nexpanded 0\nshrunk 0\nsplit 0\nremoved 0\nreplaced 0\n\
partial_clear 0\nunknown 0\nnew_merges 3\nkernel_new_merges 5\n\
new_merge_disagreements 2\nexisting_merges 0\nkernel_existing_merges 0\n\
existing_merge_disagreements 0\nmerges_after_none 0\nmerges_after_mmap 0\n\
merges_after_munmap 0\nmerges_after_mprotect 1\nmerges_after_mremap 0\n\
merges_after_madvise 0\nmerges_after_mlock 0\nmerges_after_brk 0\n\
merges_after_prctl 0\nmerges_after_mbind 0\nmerges_after_mseal 0\n\
merges_after_ioctl 0\nmerges_after_other 0\nunmerged_special 0\nunmerged_mempolicy 0\n\
unmerged_flags 2\nunmerged_file 0\nunmerged_uffd_ctx 0\nunmerged_anon_name 0\n\
unmerged_anon_vma 2\nunmerged_anon_vma_fork_child 0\nunmerged_pgoff 0\n\
unmerged_anon_pgoff 0\nunmerged_anon_vma_3way 0\nunmerged_close_hook 0\n\
unmerged_uffd_no_remap 0\n";
    assert_eq!(out, expected);
    s.reset_unmerged();
    assert_eq!(s.unmerged_count(Reason::Flags), 0);
    assert_eq!(s.new_merge_prev, 2);
    s.reset();
    assert_eq!(s, MergeStats::default());
}
