// SPDX-License-Identifier: GPL-2.0

//! What the RFC's relaxed rules (R1, R2: see `rules`) would save.
//!
//! Reviewers of the RFC asked how many VMAs the two relaxations would save
//! on real workloads. Two measures answer it:
//!
//! - at rest, [`WhatIf`]: the target's VMAs as they are now, fed in
//!   address order, each touching pair judged under each rule set of
//!   [`Relax::ALL`], and the VMAs there would be if every pair the rules
//!   allow were merged ([`write_whatif`] renders the result);
//! - per attempt, [`attempt_verdict`]: at one of the kernel's merge
//!   attempts, which rule sets would merge the proposed VMA with its
//!   neighbours.
//!
//! # Counting merged runs
//!
//! Pairs are judged one at a time, on the records as they are, but merging
//! a run of touching VMAs joins more than two: a run `A B C` where `A` and
//! `C` have different `anon_vma`s and `B` none has two mergeable pairs,
//! yet no VMA can hold both `anon_vma`s (the kernel's own three-way check,
//! `can_vma_merge_right()`, stops exactly this). So each rule set walks the
//! VMAs left to right keeping the merged group's `anon_vma`s, and a pair
//! the rules allow is still left apart (`cut`) when its right VMA would
//! bring a second, different `anon_vma` into the group, unless R2 is in
//! the set and every `anon_vma` of the group and the new one are unshared
//! (R2 folds them into one). This greedy choice cuts as late as it can;
//! since every part of an allowed group is an allowed group too, that
//! leaves the fewest groups. Other rules are judged between neighbours
//! only: the merged group keeps its first VMA's attributes, which every
//! allowed pair shares.

use core::fmt::{self, Write};

use super::super::record::{ObjectId, VmaRecord};
use super::{
    arch::Arch,
    flags,
    rules::{
        anon_vma_3way, merge_after, merge_before, pair_reasons, Placed, Reason, Reasons, Relax,
        Rules,
    },
};

/// The counts under one rule set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleSetCounts {
    /// Pairs of VMAs that touch (`prev`'s last address + 1 is `next`'s
    /// first).
    pub touching: u64,
    /// Touching pairs the rules allow to merge. Under [`Relax::NONE`]
    /// these are pairs the kernel could merge but has not (normally 0).
    pub fixed: u64,
    /// Fixed pairs left apart so that a merged group keeps one `anon_vma`
    /// (see the module doc).
    pub cut: u64,
    /// VMAs there would be with every fixed pair but the cut ones merged.
    pub vmas_after: u64,
    /// `vmas - vmas_after`.
    pub saved: u64,
    /// Pairs only sharing keeps apart: every reason left is one the rule
    /// set relaxes (`pgoff`, `anon_pgoff` under R1; `anon_vma`,
    /// `anon_vma_3way` under R2) but a side is shared (its `anon_vma` has
    /// another root or children, or KSM may share its pages), or
    /// `anon_vma_fork_child`, which no rule set relaxes (the RFC's
    /// "1-3 %" class).
    pub blocked_by_sharing: u64,
    /// Pairs kept apart by any other reason.
    pub blocked_other: u64,
}

impl RuleSetCounts {
    /// `blocked_by_sharing` as a share of `fixed + blocked_by_sharing`, in
    /// tenths of a percent, rounded (0 when both are 0).
    pub fn sharing_permille(&self) -> u64 {
        let all = self.fixed.saturating_add(self.blocked_by_sharing);
        // Rounded half up: (2 * 1000 * b + all) / (2 * all). Counts are at
        // most the VMAs of one process, far from saturating; checked_div
        // gives the 0 for no pair without a panic path.
        self.blocked_by_sharing
            .saturating_mul(2000)
            .saturating_add(all)
            .checked_div(all.saturating_mul(2))
            .unwrap_or(0)
    }
}

/// The what-if's result: the VMAs and the counts per rule set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WhatIfResult {
    /// VMAs fed in.
    pub vmas: u64,
    /// The counts, indexed by [`Relax::index`].
    pub sets: [RuleSetCounts; Relax::ALL.len()],
}

impl WhatIfResult {
    /// The counts under `relax`.
    pub fn get(&self, relax: Relax) -> RuleSetCounts {
        self.sets.get(relax.index()).copied().unwrap_or_default()
    }
}

/// The `anon_vma`s of the merged group being built under one rule set.
#[derive(Clone, Copy, Debug, Default)]
struct Group {
    /// The first `anon_vma` the group holds; none yet if not set.
    anon: ObjectId,
    /// The group holds more than one `anon_vma` (only under R2).
    several: bool,
    /// Every `anon_vma` the group holds is unshared.
    all_unshared: bool,
}

impl Group {
    fn start(rules: Rules, r: &VmaRecord) -> Group {
        Group {
            anon: r.anon_vma,
            several: false,
            all_unshared: rules.unshared(r),
        }
    }

    /// Whether `r` may join the group without leaving it two `anon_vma`s
    /// that cannot be one.
    fn admits(&self, rules: Rules, r: &VmaRecord) -> bool {
        if !r.anon_vma.is_some() || !self.anon.is_some() {
            return true;
        }
        if r.anon_vma == self.anon && !self.several {
            return true;
        }
        rules.relax().contains(Relax::R2) && self.all_unshared && rules.unshared(r)
    }

    fn join(&mut self, rules: Rules, r: &VmaRecord) {
        if !r.anon_vma.is_some() {
            return;
        }
        if !self.anon.is_some() {
            *self = Group::start(rules, r);
        } else if r.anon_vma != self.anon || self.several {
            self.several = true;
            self.all_unshared &= rules.unshared(r);
        }
    }
}

/// The at-rest what-if, fed one VMA at a time in address order (from a
/// walk of the shadow, without allocating): [`WhatIf::push`] each, then
/// [`WhatIf::finish`].
#[derive(Clone, Copy, Debug)]
pub struct WhatIf {
    arch: Arch,
    /// The VMA pushed last and its range.
    prev: Option<(VmaRecord, usize, usize)>,
    vmas: u64,
    sets: [RuleSetCounts; Relax::ALL.len()],
    groups: [Group; Relax::ALL.len()],
}

impl WhatIf {
    /// No VMA yet, for a kernel on `arch`.
    pub fn new(arch: &Arch) -> WhatIf {
        WhatIf {
            arch: *arch,
            prev: None,
            vmas: 0,
            sets: [RuleSetCounts::default(); Relax::ALL.len()],
            groups: [Group::default(); Relax::ALL.len()],
        }
    }

    /// Takes the next VMA, which must come after the last one pushed (one
    /// that does not, overlapping it or out of order, is taken as not
    /// touching it).
    pub fn push(&mut self, vma: Placed<'_>) {
        self.vmas = self.vmas.saturating_add(1);
        let prev = self
            .prev
            .as_ref()
            .filter(|(_, _, last)| last.checked_add(1) == Some(vma.first))
            .map(|(rec, first, last)| Placed {
                rec,
                first: *first,
                last: *last,
            });
        for ((set, group), relax) in self
            .sets
            .iter_mut()
            .zip(self.groups.iter_mut())
            .zip(Relax::ALL)
        {
            let rules = Rules::new(&self.arch, relax);
            if let Some(prev) = prev {
                if judge(set, group, rules, prev, vma) {
                    continue;
                }
            }
            // The VMA starts a group of its own.
            set.vmas_after = set.vmas_after.saturating_add(1);
            *group = Group::start(rules, vma.rec);
        }
        self.prev = Some((*vma.rec, vma.first, vma.last));
    }

    /// The counts over every VMA pushed so far.
    pub fn finish(&self) -> WhatIfResult {
        let mut sets = self.sets;
        for s in sets.iter_mut() {
            s.saved = self.vmas.saturating_sub(s.vmas_after);
        }
        WhatIfResult {
            vmas: self.vmas,
            sets,
        }
    }
}

/// Counts the touching pair `prev`, `next` under `rules`; whether `next`
/// joins `prev`'s group.
fn judge(
    set: &mut RuleSetCounts,
    group: &mut Group,
    rules: Rules,
    prev: Placed<'_>,
    next: Placed<'_>,
) -> bool {
    fn add(c: &mut u64) {
        *c = c.saturating_add(1);
    }
    add(&mut set.touching);
    if pair_reasons(rules, prev, next).is_eligible() {
        add(&mut set.fixed);
        if group.admits(rules, next.rec) {
            group.join(rules, next.rec);
            return true;
        }
        add(&mut set.cut);
        return false;
    }
    // What would be left if nothing were shared: the reasons the rule set
    // relaxes are gone then, so if only the never-relaxed fork-child rule
    // remains, sharing alone keeps the pair apart.
    let mut unshared = pair_reasons(rules.exclusive(), prev, next);
    unshared.remove(Reason::AnonVmaForkChild);
    if unshared.is_eligible() {
        add(&mut set.blocked_by_sharing);
    } else {
        add(&mut set.blocked_other);
    }
    false
}

/// Writes `r` as a `# ` header line saying what the rule sets are, then
/// one line per rule set of [`Relax::ALL`]:
///
/// `rules=NAME vmas=N touching=T fixed=F cut=C vmas_after=A saved=S
/// blocked_by_sharing=B blocked_by_sharing_pct=P.D blocked_other=O`
///
/// on one line, `NAME` being `none`, `r1`, `r2` or `r1+r2` and `P.D` the
/// share of `blocked_by_sharing` in `fixed + blocked_by_sharing`.
pub fn write_whatif(out: &mut impl Write, r: &WhatIfResult) -> fmt::Result {
    writeln!(
        out,
        "# r1: a moved linearizable VMA's page offset follows its address \
         (anon_vma unshared, no KSM: VM_MERGEABLE stands for shared pages); \
         r2: two different anon_vmas merge when both are unshared \
         (own root, no children); anon_vma_fork_child is never relaxed"
    )?;
    for relax in Relax::ALL {
        let s = r.get(relax);
        let pm = s.sharing_permille();
        writeln!(
            out,
            "rules={} vmas={} touching={} fixed={} cut={} vmas_after={} saved={} \
             blocked_by_sharing={} blocked_by_sharing_pct={}.{} blocked_other={}",
            relax.name(),
            r.vmas,
            s.touching,
            s.fixed,
            s.cut,
            s.vmas_after,
            s.saved,
            s.blocked_by_sharing,
            pm / 10,
            pm % 10,
            s.blocked_other
        )?;
    }
    Ok(())
}

/// Which rule sets would merge at one attempt: masks with bit
/// [`Relax::bit`] set for each rule set of [`Relax::ALL`] that would.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttemptVerdict {
    /// The proposed VMA merges into `prev` (`can_vma_merge_left()`).
    pub prev: u8,
    /// The proposed VMA merges into `next`, looked at alone
    /// (`can_vma_merge_before()`).
    pub next: u8,
    /// All three become one (`can_vma_merge_right()` with a left merge:
    /// `prev` and `next` compatible with each other, `next`, which is
    /// removed, without a close hook). Where `prev` is set and this is
    /// not, the kernel merges with `prev` only.
    pub both: u8,
}

impl AttemptVerdict {
    /// Whether the rule set `relax` merges on some side.
    pub fn merges(&self, relax: Relax) -> bool {
        (self.prev | self.next) & relax.bit() != 0
    }
}

/// Which rule sets would merge `proposed`, a new range with the proposed
/// attributes, with `prev` and `next` as `vma_merge_new_range()` would
/// (no middle VMA; `copied`: it is an mremap() copy and its record carries
/// the copied-from VMA's attributes, as `vma_merge_copied_range()` passes
/// them). A neighbour that does not touch `proposed` is not merged with.
///
/// This evaluates the rules against the proposed attributes, not the
/// kernel's own result: under [`Relax::NONE`] it should agree with the
/// kernel's verdict, and the other rule sets say what the relaxations
/// would have changed at this attempt.
pub fn attempt_verdict(
    arch: &Arch,
    proposed: Placed<'_>,
    copied: bool,
    prev: Option<Placed<'_>>,
    next: Option<Placed<'_>>,
) -> AttemptVerdict {
    let mut v = AttemptVerdict::default();
    // vma_merge_copied_range(): the uffd context would be cleared;
    // vma_merge_new_range(): special VMAs are never merged.
    if (copied && proposed.rec.merge.uffd_no_event_remap)
        || proposed.rec.flags & flags::SPECIAL != 0
    {
        return v;
    }
    let prev = prev.filter(|p| p.last.checked_add(1) == Some(proposed.first));
    let next = next.filter(|n| proposed.last.checked_add(1) == Some(n.first));
    for relax in Relax::ALL {
        let rules = Rules::new(arch, relax);
        let left = prev.is_some_and(|p| {
            let mut r = Reasons::NONE;
            merge_after(rules, p, proposed, false, copied, &mut r);
            r.is_eligible()
        });
        let right = next.is_some_and(|n| {
            let mut r = Reasons::NONE;
            merge_before(rules, proposed, false, copied, n, &mut r);
            r.is_eligible()
        });
        let both = match (prev, next) {
            (Some(p), Some(n)) if left && right => {
                !anon_vma_3way(rules, p.rec, n.rec) && !n.rec.merge.has_close
            }
            _ => false,
        };
        let bit = relax.bit();
        if left {
            v.prev |= bit;
        }
        if right {
            v.next |= bit;
        }
        if both {
            v.both |= bit;
        }
    }
    v
}
