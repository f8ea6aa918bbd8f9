//! The relaxed merge rules (R1, R2 of the 2022 RFC "Removing limitations
//! of merging anonymous VMAs") and the what-if built on them: each rule
//! against the plain one, the per-run counting, the text format, the
//! attempt verdict, and properties on random records (under
//! `Relax::NONE` the answers are the kernel's rules as before).

use proptest::prelude::*;
use vmatrack_core::engine::{
    merge::{
        attempt_verdict, flags as f, three_way_reasons, three_way_reasons_under, unmerged_reasons,
        unmerged_reasons_under, write_whatif, Arch, AttemptVerdict, Placed, Reason, Reasons, Relax,
        WhatIf, WhatIfResult,
    },
    record::{FileRef, MergeAttrs, ObjectId, VmaRecord},
};

const RW: u64 = f::READ | f::WRITE | f::MAYREAD | f::MAYWRITE;
const P: usize = 0x1000;
const X86: Arch = Arch {
    page_shift: 12,
    flag_names: &f::X86_64_NAMES,
};

/// An anonymous VMA at pages `[a, b)` with `anon_vma` `av` (0: none),
/// unshared or not, whose page offset is `shift` pages from its address.
fn anon(id: u64, a: usize, av: u64, unshared: bool, shift: u64) -> (VmaRecord, usize, usize) {
    let rec = VmaRecord {
        vma: ObjectId(id),
        flags: RW,
        pgoff: a as u64 + shift,
        anon_vma: ObjectId(av),
        merge: MergeAttrs {
            anon_pgoff_shift: shift,
            anon_vma_unshared: av != 0 && unshared,
            ..MergeAttrs::default()
        },
        ..VmaRecord::default()
    };
    (rec, a, 0)
}

/// `v` spanning pages `[a, b)` (`a` given to [`anon`]).
fn to(v: (VmaRecord, usize, usize), b: usize) -> (VmaRecord, usize, usize) {
    (v.0, v.1 * P, b * P - 1)
}

fn placed(v: &(VmaRecord, usize, usize)) -> Placed<'_> {
    Placed {
        rec: &v.0,
        first: v.1,
        last: v.2,
    }
}

fn under(relax: Relax, a: &(VmaRecord, usize, usize), b: &(VmaRecord, usize, usize)) -> String {
    unmerged_reasons_under(&X86, relax, placed(a), placed(b)).to_string()
}

/// The answer under none, r1, r2, r1+r2.
fn all(a: &(VmaRecord, usize, usize), b: &(VmaRecord, usize, usize)) -> [String; 4] {
    Relax::ALL.map(|r| under(r, a, b))
}

fn whatif(vmas: &[(VmaRecord, usize, usize)]) -> WhatIfResult {
    let mut w = WhatIf::new(&X86);
    for v in vmas {
        w.push(placed(v));
    }
    w.finish()
}

// R1: two moved VMAs (offsets 7 and 3 pages from their addresses) on one
// anon_vma keep `pgoff` unless both are linearizable.
#[test]
fn r1_clears_pgoff_only_when_both_linearizable() {
    let a = to(anon(1, 0, 100, true, 7), 3);
    let b = to(anon(2, 3, 100, true, 3), 5);
    assert_eq!(all(&a, &b), ["pgoff", "eligible", "pgoff", "eligible"]);
    // A shared anon_vma on either side keeps it.
    for (sa, sb) in [(false, true), (true, false), (false, false)] {
        let mut a = a;
        let mut b = b;
        a.0.merge.anon_vma_unshared = sa;
        b.0.merge.anon_vma_unshared = sb;
        assert_eq!(all(&a, &b), ["pgoff"; 4]);
    }
    // So does KSM (VM_MERGEABLE on both, or flags would differ).
    let mut ka = a;
    let mut kb = b;
    ka.0.flags |= f::MERGEABLE;
    kb.0.flags |= f::MERGEABLE;
    assert_eq!(all(&ka, &kb), ["pgoff"; 4]);
    // Without an anon_vma a VMA is not linearizable.
    let na = to(anon(1, 0, 0, true, 7), 3);
    let nb = to(anon(2, 3, 0, true, 3), 5);
    assert_eq!(all(&na, &nb), ["pgoff"; 4]);
}

// R1 makes a linearizable VMA's shift 0: beside a VMA never moved (shift
// 0) it merges even if that one is shared.
#[test]
fn r1_effective_shift_is_zero() {
    let a = to(anon(1, 0, 100, false, 0), 3);
    let b = to(anon(2, 3, 100, true, 9), 5);
    assert_eq!(all(&a, &b), ["pgoff", "eligible", "pgoff", "eligible"]);
    // A file's offsets never move: R1 leaves `pgoff` of files alone.
    let mut fa = a;
    let mut fb = b;
    let file = Some(FileRef {
        file: ObjectId(10),
        dev: 8,
        ino: 12,
    });
    fa.0.file = file;
    fb.0.file = file;
    fa.0.flags |= f::SHARED | f::MAYSHARE;
    fb.0.flags |= f::SHARED | f::MAYSHARE;
    assert_eq!(all(&fa, &fb), ["pgoff"; 4]);
}

// R1 covers `anon_pgoff` of a MAP_PRIVATE file mapping too (its anonymous
// offset is kept apart from the file's in 7.3).
#[test]
fn r1_covers_anon_pgoff() {
    let file = Some(FileRef {
        file: ObjectId(10),
        dev: 8,
        ino: 12,
    });
    let mut a = to(anon(1, 0, 0, false, 0), 5);
    a.0.file = file;
    a.0.pgoff = 0;
    let mut b = to(anon(2, 5, 100, true, 5), 10);
    b.0.file = file;
    b.0.pgoff = 5;
    assert_eq!(
        all(&a, &b),
        ["anon_pgoff", "eligible", "anon_pgoff", "eligible"]
    );
    b.0.merge.anon_vma_unshared = false;
    assert_eq!(all(&a, &b), ["anon_pgoff"; 4]);
}

// R2: two different anon_vmas merge only when both are unshared.
#[test]
fn r2_clears_anon_vma_only_when_both_unshared() {
    let a = to(anon(1, 0, 100, true, 0), 3);
    let b = to(anon(2, 3, 200, true, 0), 5);
    assert_eq!(
        all(&a, &b),
        ["anon_vma", "anon_vma", "eligible", "eligible"]
    );
    for (sa, sb) in [(false, true), (true, false), (false, false)] {
        let mut a = a;
        let mut b = b;
        a.0.merge.anon_vma_unshared = sa;
        b.0.merge.anon_vma_unshared = sb;
        assert_eq!(all(&a, &b), ["anon_vma"; 4]);
    }
    // anon_vma_3way is relaxed the same way.
    let p = to(anon(1, 0, 100, true, 0), 3);
    let v = to(anon(2, 3, 0, false, 0), 5);
    let mut n = to(anon(3, 5, 200, true, 0), 7);
    let three = |relax, n: &(VmaRecord, usize, usize)| {
        three_way_reasons_under(&X86, relax, placed(&p), placed(&v), placed(n)).to_string()
    };
    assert_eq!(
        three_way_reasons(&X86, placed(&p), placed(&v), placed(&n)).to_string(),
        "anon_vma_3way"
    );
    assert_eq!(three(Relax::NONE, &n), "anon_vma_3way");
    assert_eq!(three(Relax::R1, &n), "anon_vma_3way");
    assert_eq!(three(Relax::R2, &n), "eligible");
    n.0.merge.anon_vma_unshared = false;
    assert_eq!(three(Relax::BOTH, &n), "anon_vma_3way");
}

// anon_vma_fork_child is never relaxed, and counts as blocked by sharing
// under every rule set.
#[test]
fn fork_child_never_relaxed() {
    let mut a = to(anon(1, 0, 100, false, 0), 3);
    a.0.merge.anon_vma_fork_child = true;
    let b = to(anon(2, 3, 0, false, 0), 5);
    assert_eq!(all(&a, &b), ["anon_vma_fork_child"; 4]);
    let r = whatif(&[a, b]);
    for relax in Relax::ALL {
        let s = r.get(relax);
        assert_eq!((s.blocked_by_sharing, s.blocked_other, s.saved), (1, 0, 0));
    }
}

// A shared side keeps a relaxable reason, and the pair counts as blocked
// by sharing under the rule sets that relax it, as other elsewhere.
#[test]
fn shared_side_counts_as_blocked_by_sharing() {
    let a = to(anon(1, 0, 100, false, 7), 3);
    let b = to(anon(2, 3, 100, true, 3), 5);
    let r = whatif(&[a, b]);
    let by = |relax: Relax| {
        let s = r.get(relax);
        (s.fixed, s.blocked_by_sharing, s.blocked_other)
    };
    assert_eq!(by(Relax::NONE), (0, 0, 1));
    assert_eq!(by(Relax::R1), (0, 1, 0));
    assert_eq!(by(Relax::R2), (0, 0, 1));
    assert_eq!(by(Relax::BOTH), (0, 1, 0));
    // A reason no rule set relaxes (flags) makes it other everywhere.
    let mut c = b;
    c.0.flags &= !f::WRITE;
    let r = whatif(&[a, c]);
    for relax in Relax::ALL {
        assert_eq!(r.get(relax).blocked_other, 1);
    }
    // Both kinds of sharing at once: R2 alone leaves pgoff, which is
    // other under R2 but sharing under r1+r2.
    let a = to(anon(1, 0, 100, false, 7), 3);
    let b = to(anon(2, 3, 200, true, 3), 5);
    assert_eq!(under(Relax::BOTH, &a, &b), "anon_vma,pgoff");
    let r = whatif(&[a, b]);
    assert_eq!(r.get(Relax::R2).blocked_other, 1);
    assert_eq!(r.get(Relax::BOTH).blocked_by_sharing, 1);
}

// A run A-None-B (A and B on different anon_vmas): both pairs are
// eligible, but without R2 only one merge keeps one anon_vma per VMA.
#[test]
fn run_counting_keeps_one_anon_vma() {
    let a = to(anon(1, 0, 100, true, 0), 3);
    let n = to(anon(2, 3, 0, false, 0), 5);
    let b = to(anon(3, 5, 200, true, 0), 7);
    let r = whatif(&[a, n, b]);
    assert_eq!(r.vmas, 3);
    for relax in Relax::ALL {
        let s = r.get(relax);
        assert_eq!((s.touching, s.fixed), (2, 2), "{}", relax.name());
    }
    let saved = |r: &WhatIfResult| Relax::ALL.map(|x| r.get(x).saved);
    assert_eq!(saved(&r), [1, 1, 2, 2]);
    assert_eq!(r.get(Relax::NONE).cut, 1);
    assert_eq!(r.get(Relax::NONE).vmas_after, 2);
    assert_eq!(r.get(Relax::R2).cut, 0);
    assert_eq!(r.get(Relax::R2).vmas_after, 1);
    // A shared anon_vma in the group: R2 may not fold it.
    let mut shared = a;
    shared.0.merge.anon_vma_unshared = false;
    assert_eq!(saved(&whatif(&[shared, n, b])), [1, 1, 1, 1]);
    // Same anon_vma on both ends: one VMA under every rule set.
    let b_same = to(anon(3, 5, 100, false, 0), 7);
    assert_eq!(saved(&whatif(&[a, n, b_same])), [2, 2, 2, 2]);
    // A gap ends a run: nothing touches.
    let far = to(anon(3, 8, 100, true, 0), 9);
    let r = whatif(&[a, n, far]);
    assert_eq!(r.get(Relax::NONE).touching, 1);
    assert_eq!(saved(&r), [1, 1, 1, 1]);
}

// The text format, one line per rule set after a comment.
#[test]
fn whatif_text() {
    let a = to(anon(1, 0, 100, true, 7), 3);
    let b = to(anon(2, 3, 100, false, 3), 5);
    let c = to(anon(3, 5, 100, false, 0), 6);
    let mut d = to(anon(4, 6, 300, false, 1), 8);
    d.0.merge.anon_vma_fork_child = true;
    let e = to(anon(5, 9, 0, false, 0), 10);
    let mut out = String::new();
    write_whatif(&mut out, &whatif(&[a, b, c, d, e])).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("# r1: "));
    assert_eq!(
        &lines[1..],
        [
            "rules=none vmas=5 touching=3 fixed=0 cut=0 vmas_after=5 saved=0 \
             blocked_by_sharing=0 blocked_by_sharing_pct=0.0 blocked_other=3",
            "rules=r1 vmas=5 touching=3 fixed=0 cut=0 vmas_after=5 saved=0 \
             blocked_by_sharing=2 blocked_by_sharing_pct=100.0 blocked_other=1",
            "rules=r2 vmas=5 touching=3 fixed=0 cut=0 vmas_after=5 saved=0 \
             blocked_by_sharing=0 blocked_by_sharing_pct=0.0 blocked_other=3",
            "rules=r1+r2 vmas=5 touching=3 fixed=0 cut=0 vmas_after=5 saved=0 \
             blocked_by_sharing=3 blocked_by_sharing_pct=100.0 blocked_other=0",
        ]
    );
    // One in three blocked by sharing: 33.3 %.
    let x = to(anon(1, 0, 100, true, 0), 1);
    let y = to(anon(2, 1, 0, false, 0), 2);
    let mut z = to(anon(3, 2, 100, false, 0), 3);
    z.0.merge.anon_vma_fork_child = true;
    let w = to(anon(4, 3, 100, true, 0), 4);
    let mut out = String::new();
    write_whatif(&mut out, &whatif(&[x, y, z, w])).unwrap();
    assert_eq!(
        out.lines().nth(1),
        Some(
            "rules=none vmas=4 touching=3 fixed=2 cut=0 vmas_after=2 saved=2 \
             blocked_by_sharing=1 blocked_by_sharing_pct=33.3 blocked_other=0"
        )
    );
}

// The attempt verdict: a new unfaulted range between two VMAs on
// different, unshared anon_vmas merges on each side under every rule set,
// and with both only under R2.
#[test]
fn attempt_verdicts() {
    let p = to(anon(1, 0, 100, true, 0), 3);
    let n = to(anon(3, 5, 200, true, 0), 7);
    let new = to(anon(2, 3, 0, false, 0), 5);
    let v = attempt_verdict(
        &X86,
        placed(&new),
        false,
        Some(placed(&p)),
        Some(placed(&n)),
    );
    let r2 = Relax::R2.bit() | Relax::BOTH.bit();
    assert_eq!(
        v,
        AttemptVerdict {
            prev: 0b1111,
            next: 0b1111,
            both: r2,
        }
    );
    assert!(v.merges(Relax::NONE));
    // A neighbour that does not touch is not merged with.
    let far = to(anon(3, 6, 200, true, 0), 7);
    let v = attempt_verdict(
        &X86,
        placed(&new),
        false,
        Some(placed(&p)),
        Some(placed(&far)),
    );
    assert_eq!((v.prev, v.next, v.both), (0b1111, 0, 0));
    // Special: nothing.
    let mut special = new;
    special.0.flags |= f::PFNMAP;
    let v = attempt_verdict(
        &X86,
        placed(&special),
        false,
        Some(placed(&p)),
        Some(placed(&n)),
    );
    assert_eq!(v, AttemptVerdict::default());
    // An mremap() copy of a linearizable faulted VMA, with its old offset,
    // on prev's anon_vma: only R1 merges it with prev.
    let moved = to(anon(4, 3, 100, true, 40), 5);
    let v = attempt_verdict(&X86, placed(&moved), true, Some(placed(&p)), None);
    assert_eq!(v.prev, Relax::R1.bit() | Relax::BOTH.bit());
    // Without UFFD_FEATURE_EVENT_REMAP the copy never merges.
    let mut uffd = moved;
    uffd.0.merge.uffd_no_event_remap = true;
    let v = attempt_verdict(&X86, placed(&uffd), true, Some(placed(&p)), None);
    assert_eq!(v, AttemptVerdict::default());
}

// Relax's names and bits.
#[test]
fn relax_sets() {
    assert_eq!(Relax::ALL.map(Relax::name), ["none", "r1", "r2", "r1+r2"]);
    assert_eq!(Relax::R1.union(Relax::R2), Relax::BOTH);
    assert!(Relax::BOTH.contains(Relax::R1) && !Relax::R1.contains(Relax::R2));
    assert!(Relax::R1.contains(Relax::NONE));
}

/// The kernel's rules as written before the relaxed rules were threaded
/// through them (page size 4 KiB): the oracle for `Relax::NONE`.
fn oracle(prev: &VmaRecord, pr: (usize, usize), next: &VmaRecord, nr: (usize, usize)) -> Reasons {
    let pages = |r: (usize, usize)| ((r.1 - r.0 + 1) >> 12) as u64;
    let anon_pgoff = |rec: &VmaRecord, r: (usize, usize)| {
        ((r.0 >> 12) as u64).wrapping_add(rec.merge.anon_pgoff_shift)
    };
    let fork_child = |r: &VmaRecord| r.anon_vma.is_some() && r.merge.anon_vma_fork_child;
    let mut out = Reasons::NONE;
    if next.flags & f::SPECIAL != 0 {
        out.add(Reason::Special);
    }
    if prev.merge.mempolicy != next.merge.mempolicy {
        out.add(Reason::Mempolicy);
    }
    out.add_flags((prev.flags ^ next.flags) & !f::IGNORE_MERGE);
    if prev.file.map(|f| f.file) != next.file.map(|f| f.file) {
        out.add(Reason::File);
    }
    if prev.merge.uffd_ctx != next.merge.uffd_ctx {
        out.add(Reason::UffdCtx);
    }
    if prev.anon_name != next.anon_name {
        out.add(Reason::AnonName);
    }
    match (prev.anon_vma.is_some(), next.anon_vma.is_some()) {
        (false, true) if fork_child(next) => out.add(Reason::AnonVmaForkChild),
        (true, false) if fork_child(prev) => out.add(Reason::AnonVmaForkChild),
        (true, true) if prev.anon_vma != next.anon_vma => out.add(Reason::AnonVma),
        _ => {}
    }
    if prev.pgoff.wrapping_add(pages(pr)) != next.pgoff {
        out.add(Reason::Pgoff);
    }
    let cow = next.file.is_some() && next.flags & f::MAYWRITE != 0 && next.flags & f::SHARED == 0;
    if cow && anon_pgoff(prev, pr).wrapping_add(pages(pr)) != anon_pgoff(next, nr) {
        out.add(Reason::AnonPgoff);
    }
    if next.merge.has_close {
        out.add(Reason::CloseHook);
    }
    out
}

/// Records drawn from few values, so that they often agree.
fn record() -> impl Strategy<Value = VmaRecord> {
    let flag_bits = prop::sample::subsequence(
        vec![
            f::WRITE,
            f::SHARED,
            f::MAYWRITE,
            f::MERGEABLE,
            f::SOFTDIRTY,
            f::IO,
        ],
        0..3,
    );
    (
        (flag_bits, 0u64..12, 0u64..3, 0u64..3, 0u64..2),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(vec![0u64, 1, 4, 9]),
            0u64..2,
            0u64..2,
        ),
    )
        .prop_map(
            |((bits, pgoff, file, av, name), (fork, unshared, close, shift, pol, uffd))| {
                VmaRecord {
                    vma: ObjectId(1),
                    flags: RW | bits.iter().fold(0, |a, b| a | b),
                    pgoff,
                    file: (file != 0).then_some(FileRef {
                        file: ObjectId(file),
                        dev: 1,
                        ino: 2,
                    }),
                    anon_vma: ObjectId(av),
                    anon_name: ObjectId(name),
                    merge: MergeAttrs {
                        mempolicy: pol,
                        uffd_ctx: ObjectId(uffd),
                        anon_vma_fork_child: fork,
                        has_close: close,
                        anon_pgoff_shift: shift,
                        uffd_no_event_remap: false,
                        anon_vma_unshared: unshared && av != 0,
                    },
                    ..VmaRecord::default()
                }
            },
        )
}

/// Touching ranges: `(prev, next)` of 1-4 pages each from page `at`.
fn ranges() -> impl Strategy<Value = ((usize, usize), (usize, usize))> {
    (0usize..16, 1usize..5, 1usize..5).prop_map(|(at, a, b)| {
        (
            (at * P, (at + a) * P - 1),
            ((at + a) * P, (at + a + b) * P - 1),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    // Relax::NONE is the kernel's rules, the wrapper is the NONE entry
    // point, neither reads the new unshared flag, and each relaxation only
    // takes out the reasons it relaxes.
    #[test]
    fn none_is_the_kernels_rules(a in record(), b in record(), (pr, nr) in ranges()) {
        let plain = unmerged_reasons(&X86, &a, pr.0, pr.1, &b, nr.0, nr.1);
        prop_assert_eq!(plain, oracle(&a, pr, &b, nr));
        let pa = Placed { rec: &a, first: pr.0, last: pr.1 };
        let pb = Placed { rec: &b, first: nr.0, last: nr.1 };
        prop_assert_eq!(unmerged_reasons_under(&X86, Relax::NONE, pa, pb), plain);
        let mut a2 = a;
        let mut b2 = b;
        a2.merge.anon_vma_unshared = !a.merge.anon_vma_unshared;
        b2.merge.anon_vma_unshared = !b.merge.anon_vma_unshared;
        prop_assert_eq!(unmerged_reasons(&X86, &a2, pr.0, pr.1, &b2, nr.0, nr.1), plain);
        for (relax, relaxable) in [
            (Relax::R1, &[Reason::Pgoff, Reason::AnonPgoff][..]),
            (Relax::R2, &[Reason::AnonVma][..]),
            (Relax::BOTH, &[Reason::Pgoff, Reason::AnonPgoff, Reason::AnonVma][..]),
        ] {
            let got = unmerged_reasons_under(&X86, relax, pa, pb);
            let mut kept = plain;
            for r in relaxable {
                kept.remove(*r);
            }
            // Nothing added, nothing but the relaxable taken out.
            prop_assert_eq!(got.union(plain), plain);
            prop_assert_eq!(got.union(kept), got);
        }
    }

    // The what-if's counts add up on random runs of VMAs.
    #[test]
    fn whatif_counts_add_up(
        vmas in prop::collection::vec((record(), 1usize..4, 0usize..2), 0..24),
    ) {
        let mut w = WhatIf::new(&X86);
        let mut at = 0;
        for (rec, len, gap) in &vmas {
            at += gap;
            w.push(Placed { rec, first: at * P, last: (at + len) * P - 1 });
            at += len;
        }
        let r = w.finish();
        prop_assert_eq!(r.vmas, vmas.len() as u64);
        let none = r.get(Relax::NONE);
        for relax in Relax::ALL {
            let s = r.get(relax);
            prop_assert_eq!(s.touching, none.touching);
            prop_assert_eq!(s.fixed + s.blocked_by_sharing + s.blocked_other, s.touching);
            prop_assert!(s.cut <= s.fixed);
            prop_assert_eq!(s.vmas_after, r.vmas - (s.fixed - s.cut));
            prop_assert_eq!(s.saved, r.vmas - s.vmas_after);
            // A relaxation never makes a pair ineligible.
            prop_assert!(s.fixed >= none.fixed);
        }
    }
}

// The summary: counts per reason largest first, the flags that differ,
// merges by system call, and the what-if headline, in its line format.
#[test]
fn summary_lines() {
    use vmatrack_core::engine::merge::{Cause, Summary, SummaryHead};
    // A (av 1) | B (av 2, moved): anon_vma and pgoff; B | C: flags (C
    // read-only, no anon_vma).
    let a = to(anon(1, 0, 1, true, 0), 1);
    let b = to(anon(2, 1, 2, true, 5), 2);
    let mut c = to(anon(3, 2, 0, true, 0), 3);
    c.0.flags &= !f::WRITE;
    let mut s = Summary::new(&X86);
    for v in [&a, &b, &c] {
        s.push(placed(v));
    }
    let mut merges = [0u64; Cause::ALL.len()];
    merges[Cause::Mremap as usize] = 3;
    merges[Cause::Mmap as usize] = 7;
    let mut out = String::new();
    s.write(
        &mut out,
        &SummaryHead {
            target: "pid=1 comm=x mode=single state=live\n",
            max_map_count: Some(65530),
            merges_after: &merges,
        },
    )
    .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], "target pid=1 comm=x mode=single state=live");
    assert_eq!(lines[2], "vmas 3 max_map_count 65530 left 65527");
    assert_eq!(lines[3], "touching_pairs 2 unmerged 2");
    assert_eq!(lines[4], "unmerged_by_reason pgoff=2 flags=1 anon_vma=1");
    assert_eq!(lines[5], "flags_differing write=1");
    assert_eq!(lines[6], "merges_by_syscall mmap=7 mremap=3");
    assert_eq!(
        lines[7],
        "whatif saved_r1=0 saved_r2=0 saved_r1+r2=1 blocked_by_sharing=0 blocked_by_sharing_pct=0.0"
    );
}

// Attempts: one line per kind and system call that has any, then the
// total, with the mean time per attempt.
#[test]
fn attempts_lines() {
    use vmatrack_core::engine::merge::{write_attempts, AttemptCounts, Cause};
    let mut a = AttemptCounts::default();
    a.tried[0][Cause::Mmap as usize] = 4;
    a.merged[0][Cause::Mmap as usize] = 1;
    a.ns[0][Cause::Mmap as usize] = 4000;
    a.tried[1][Cause::Mprotect as usize] = 2;
    a.ns[1][Cause::Mprotect as usize] = 500;
    a.would_merge[0][Cause::Mmap as usize] = 1;
    a.would_merge[3][Cause::Mmap as usize] = 3;
    let mut out = String::new();
    write_attempts(&mut out, &a).unwrap();
    assert_eq!(
        out,
        "attempts kind=new cause=mmap tried=4 merged=1 failed=3 ns_total=4000 ns_per_attempt=1000 \
         would_merge_none=1 would_merge_r1=0 would_merge_r2=0 would_merge_r1+r2=3\n\
         attempts kind=existing cause=mprotect tried=2 merged=0 failed=2 ns_total=500 ns_per_attempt=250\n\
         attempts kind=all cause=all tried=6 merged=1 failed=5 ns_total=4500 ns_per_attempt=750\n"
    );
}
