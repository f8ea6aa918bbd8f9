// SPDX-License-Identifier: GPL-2.0

//! Why two touching VMAs stay separate: the rules of `mm/vma.c`, each
//! failing one collected as a [`Reason`].
//!
//! [`unmerged_reasons`] decides, as `vma_merge_existing_range()` would,
//! whether all of `next` could be merged into `prev` (as when the whole of
//! `next` is mprotect()ed to what it already is), and collects every rule
//! that says no, in the kernel's order of checks. [`three_way_reasons`]
//! does the same for merging a middle VMA with both neighbours at once,
//! which is the only place `anon_vma_3way` can be decided, and
//! [`moved_reasons`] for a VMA that mremap() moves next to `prev`
//! (`vma_merge_copied_range()`), the only place `uffd_no_remap` applies.
//!
//! # Relaxed rules
//!
//! The `*_under` variants apply the same rules with some of them relaxed
//! as an RFC on linux-mm proposed ("Removing limitations of merging
//! anonymous VMAs", 2022), to measure what that would save ([`Relax`]):
//!
//! - R1, the page offset follows the address after a move: mremap() of a
//!   *linearizable* VMA (it has an `anon_vma`, that `anon_vma` is unshared,
//!   and none of its pages is shared) would re-index its pages, so its
//!   anonymous page offset could be its address (`anon_pgoff_shift` 0).
//!   The `pgoff` (anonymous VMAs) and `anon_pgoff` (private file
//!   mappings) rules then hold only if the offsets fit neither as they are
//!   nor with the linearizable sides re-indexed.
//! - R2, two different `anon_vma`s may merge when both are unshared: one
//!   would be folded into the other.
//!
//! An `anon_vma` is unshared when it is its own root and has no children
//! (`MergeAttrs::anon_vma_unshared`): no other process can reach its pages
//! through it. Whether a page is shared cannot be read cheaply; a VMA
//! KSM may merge (`VM_MERGEABLE`) stands for one that has shared pages.

use core::fmt::{self, Write};

use super::super::record::VmaRecord;
use super::{arch::Arch, flags};

/// Declares [`Reason`] from one list: each rule with the name the files
/// print, in the kernel's order of checks, and [`Reason::ALL`] and
/// [`Reason::name`] from it. A new reason is one entry here and its rule.
macro_rules! reasons {
    ($($(#[$doc:meta])* $var:ident = $name:literal,)*) => {
        /// One rule that keeps two VMAs apart, in the kernel's order of checks.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Reason {
            $($(#[$doc])* $var,)*
        }

        impl Reason {
            /// Every reason, in the kernel's order of checks.
            pub const ALL: [Reason; [$($name),*].len()] = [$(Reason::$var),*];

            /// The name the `unmerged` file prints (`flags` without its list).
            pub fn name(self) -> &'static str {
                match self {
                    $(Reason::$var => $name,)*
                }
            }
        }
    };
}

reasons! {
    /// `next` has a `VM_SPECIAL` flag (`vma_merge_existing_range()`,
    /// `vma_merge_new_range()`).
    Special = "special",
    /// Mempolicies differ (`is_mergeable_vma()`: `mpol_equal()`).
    Mempolicy = "mempolicy",
    /// `vm_flags` differ outside `VMA_IGNORE_MERGE_FLAGS`
    /// (`is_mergeable_vma()`); [`Reasons::flags_diff`] says which.
    Flags = "flags",
    /// Different `struct file` (`is_mergeable_vma()`).
    File = "file",
    /// Different userfaultfd contexts (`is_mergeable_vm_userfaultfd_ctx()`).
    UffdCtx = "uffd_ctx",
    /// Different anon names (`anon_vma_name_eq()`).
    AnonName = "anon_name",
    /// Both have an `anon_vma`, not the same one, or neither has the other's
    /// (`is_mergeable_anon_vma()` case 3).
    AnonVma = "anon_vma",
    /// Only one has an `anon_vma` and that VMA is a fork child
    /// (`is_mergeable_anon_vma()` cases 1 and 2, `vma_is_fork_child()`).
    AnonVmaForkChild = "anon_vma_fork_child",
    /// File page offsets are not contiguous (`can_vma_merge_after()`).
    Pgoff = "pgoff",
    /// Anonymous page offsets of a private file mapping are not contiguous
    /// (`can_vma_merge_after()`, `needs_adjacent_anon_pgoff()`).
    AnonPgoff = "anon_pgoff",
    /// The outer two of three VMAs have different `anon_vma`s
    /// (`can_vma_merge_right()`); only [`three_way_reasons`] sets it.
    AnonVma3way = "anon_vma_3way",
    /// The VMA that would be removed has `vm_ops->close`
    /// (`can_merge_remove_vma()`).
    CloseHook = "close_hook",
    /// The moved VMA has a userfaultfd context without
    /// `UFFD_FEATURE_EVENT_REMAP` (`vma_merge_copied_range()`); only
    /// [`moved_reasons`] sets it.
    UffdNoRemap = "uffd_no_remap",
}

// A set of reasons is a u16 bitmap.
const _: () = assert!(Reason::ALL.len() <= 16);

impl Reason {
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of [`Reason`]s, plus which flags differ when [`Reason::Flags`] is
/// in it. Empty means the rules allow the merge (shown as `eligible`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reasons {
    bits: u16,
    flags_diff: u64,
}

impl Reasons {
    /// No reason: the merge is allowed.
    pub const NONE: Reasons = Reasons {
        bits: 0,
        flags_diff: 0,
    };

    /// Whether the rules allow the merge.
    pub fn is_eligible(&self) -> bool {
        self.bits == 0
    }

    /// Whether `r` is one of the reasons.
    pub fn contains(&self, r: Reason) -> bool {
        self.bits & r.bit() != 0
    }

    /// Adds `r` (for [`Reason::Flags`] use [`Reasons::add_flags`]).
    pub fn add(&mut self, r: Reason) {
        self.bits |= r.bit();
    }

    /// Takes `r` out (with [`Reason::Flags`], the differing flags too).
    pub fn remove(&mut self, r: Reason) {
        self.bits &= !r.bit();
        if r == Reason::Flags {
            self.flags_diff = 0;
        }
    }

    /// Adds [`Reason::Flags`] for the differing bits `diff`; nothing if 0.
    pub fn add_flags(&mut self, diff: u64) {
        if diff != 0 {
            self.add(Reason::Flags);
            self.flags_diff |= diff;
        }
    }

    /// Both sets together.
    pub fn union(self, other: Reasons) -> Reasons {
        Reasons {
            bits: self.bits | other.bits,
            flags_diff: self.flags_diff | other.flags_diff,
        }
    }

    /// The `vm_flags` bits that differ (0 unless [`Reason::Flags`] is set).
    pub fn flags_diff(&self) -> u64 {
        self.flags_diff
    }

    /// The reasons, in the kernel's order of checks.
    pub fn iter(&self) -> impl Iterator<Item = Reason> + '_ {
        Reason::ALL.into_iter().filter(|r| self.contains(*r))
    }

    /// The reasons as the `unmerged` file shows them, with the flags named
    /// as on `arch`.
    pub fn display<'a>(&'a self, arch: &'a Arch) -> ReasonsDisplay<'a> {
        ReasonsDisplay {
            reasons: self,
            arch,
        }
    }

    fn write(&self, f: &mut impl Write, arch: &Arch) -> fmt::Result {
        if self.is_eligible() {
            return f.write_str("eligible");
        }
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            f.write_str(r.name())?;
            if r == Reason::Flags {
                f.write_char(':')?;
                flags::write_flag_names(f, arch, self.flags_diff)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Reasons {
    /// `eligible`, or the reasons joined by `,` with the flags listed as
    /// `flags:write|locked`. Architecture-specific flags show as
    /// `arch_bitN` here: [`Reasons::display`] names them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, &Arch::generic(0))
    }
}

/// [`Reasons`] shown with an architecture's flag names
/// ([`Reasons::display`]).
#[derive(Clone, Copy, Debug)]
pub struct ReasonsDisplay<'a> {
    reasons: &'a Reasons,
    arch: &'a Arch,
}

impl fmt::Display for ReasonsDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reasons.write(f, self.arch)
    }
}

/// Which of the RFC's relaxations of the rules apply (see the module
/// doc): a set of [`Relax::R1`] and [`Relax::R2`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relax(u8);

impl Relax {
    /// The kernel's rules as they are.
    pub const NONE: Relax = Relax(0);
    /// R1: a linearizable VMA's page offsets follow its address.
    pub const R1: Relax = Relax(1);
    /// R2: two unshared `anon_vma`s may merge.
    pub const R2: Relax = Relax(2);
    /// R1 and R2.
    pub const BOTH: Relax = Relax(3);
    /// Every rule set, in the what-if's order; [`Relax::index`] is the
    /// position of one in it.
    pub const ALL: [Relax; 4] = [Relax::NONE, Relax::R1, Relax::R2, Relax::BOTH];

    /// Whether every relaxation of `other` is in `self`.
    pub fn contains(self, other: Relax) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets together.
    pub fn union(self, other: Relax) -> Relax {
        Relax(self.0 | other.0)
    }

    /// The position in [`Relax::ALL`] (0 to 3).
    pub fn index(self) -> usize {
        usize::from(self.0 & 3)
    }

    /// `1 << index()`: the bit of this rule set in a mask of rule sets
    /// ([`super::AttemptVerdict`]).
    pub fn bit(self) -> u8 {
        1 << (self.0 & 3)
    }

    /// `none`, `r1`, `r2` or `r1+r2`.
    pub fn name(self) -> &'static str {
        match self.index() {
            0 => "none",
            1 => "r1",
            2 => "r2",
            _ => "r1+r2",
        }
    }
}

/// A VMA with its inclusive range, as the tree holds it.
#[derive(Clone, Copy, Debug)]
pub struct Placed<'a> {
    /// The VMA.
    pub rec: &'a VmaRecord,
    /// First address.
    pub first: usize,
    /// Last address.
    pub last: usize,
}

impl Placed<'_> {
    /// `vma_pages()`.
    fn pages(&self, page_shift: u32) -> u64 {
        let bytes = self.last.saturating_sub(self.first).saturating_add(1);
        u64::try_from(bytes.checked_shr(page_shift).unwrap_or(0)).unwrap_or(u64::MAX)
    }

    /// `vm_start >> PAGE_SHIFT`.
    fn first_page(&self, page_shift: u32) -> u64 {
        u64::try_from(self.first.checked_shr(page_shift).unwrap_or(0)).unwrap_or(u64::MAX)
    }
}

/// The rules as one evaluation applies them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rules {
    page_shift: u32,
    relax: Relax,
    /// Take every `anon_vma` as unshared and no page as shared: what
    /// the relaxed rules would allow if nothing were shared, which tells
    /// the pairs only sharing keeps apart.
    exclusive: bool,
}

impl Rules {
    pub(super) fn new(arch: &Arch, relax: Relax) -> Rules {
        Rules {
            page_shift: arch.page_shift,
            relax,
            exclusive: false,
        }
    }

    /// The same rules with nothing shared.
    pub(super) fn exclusive(self) -> Rules {
        Rules {
            exclusive: true,
            ..self
        }
    }

    pub(super) fn relax(&self) -> Relax {
        self.relax
    }

    /// `av->root == av && av->num_children == 1`, as the glue read it.
    pub(super) fn unshared(&self, r: &VmaRecord) -> bool {
        r.anon_vma.is_some() && (self.exclusive || r.merge.anon_vma_unshared)
    }

    /// R1's linearizable VMA: an unshared `anon_vma` and no shared page.
    /// Shared pages are approximated by `VM_MERGEABLE`: KSM may have
    /// merged any page of such a VMA with another process's, and nothing
    /// cheaper says whether it did (a forked child's shared pages already
    /// show as a shared `anon_vma`).
    fn linearizable(&self, r: &VmaRecord) -> bool {
        self.unshared(r) && (self.exclusive || r.flags & flags::MERGEABLE == 0)
    }

    /// `vma_start_pgoff()`, or with `reindex` under R1, where a
    /// linearizable anonymous VMA's page offset would be: its address's
    /// page (`anon_pgoff_shift` 0; for an anonymous VMA `vm_pgoff` is
    /// also its anonymous page offset, `vma_start_anon_pgoff()`). A file's
    /// offsets never move.
    fn start_pgoff(&self, v: &Placed<'_>, reindex: bool) -> u64 {
        if reindex && v.rec.file.is_none() && self.linearizable(v.rec) {
            v.first_page(self.page_shift)
        } else {
            v.rec.pgoff
        }
    }

    /// `vma_start_anon_pgoff()`, from the address and the shift the kernel
    /// side recorded; with `reindex`, the address's page for a
    /// linearizable VMA. R1 covers the anonymous pages of a private file
    /// mapping too: 7.3 keeps their offset apart from the file's
    /// (`__vm_anon_pgoff`), so re-indexing them leaves `vm_pgoff` alone.
    fn start_anon_pgoff(&self, v: &Placed<'_>, reindex: bool) -> u64 {
        let page = v.first_page(self.page_shift);
        if reindex && self.linearizable(v.rec) {
            page
        } else {
            page.wrapping_add(v.rec.merge.anon_pgoff_shift)
        }
    }

    /// Whether the offsets `start` gives run on from `lo` into `hi`
    /// (`lo` at the lower address): as they are, or under R1 once the
    /// linearizable ones are re-indexed. R1 only ever allows more: an
    /// offset that already fits would not be re-indexed, and re-indexing
    /// just one side fits only where the other's offset already is its
    /// address, which re-indexing both gives too.
    fn offsets_fit(
        &self,
        lo: &Placed<'_>,
        hi: &Placed<'_>,
        start: impl Fn(&Self, &Placed<'_>, bool) -> u64,
    ) -> bool {
        let pages = lo.pages(self.page_shift);
        let fits =
            |reindex| start(self, lo, reindex).wrapping_add(pages) == start(self, hi, reindex);
        fits(false) || (self.relax.contains(Relax::R1) && fits(true))
    }
}

/// `vma_is_fork_child()`: has an `anon_vma` whose chain is not singular.
fn is_fork_child(r: &VmaRecord) -> bool {
    r.anon_vma.is_some() && r.merge.anon_vma_fork_child
}

/// `is_mergeable_vma()`: `tgt` is the VMA merged into, `src` gives the
/// proposed attributes (`vmg->policy`, `vmg->vma_flags`, ...).
fn mergeable_vma(tgt: &VmaRecord, src: &VmaRecord, out: &mut Reasons) {
    if tgt.merge.mempolicy != src.merge.mempolicy {
        out.add(Reason::Mempolicy);
    }
    out.add_flags((tgt.flags ^ src.flags) & !flags::IGNORE_MERGE);
    if tgt.file.map(|f| f.file) != src.file.map(|f| f.file) {
        out.add(Reason::File);
    }
    if tgt.merge.uffd_ctx != src.merge.uffd_ctx {
        out.add(Reason::UffdCtx);
    }
    if tgt.anon_name != src.anon_name {
        out.add(Reason::AnonName);
    }
}

/// `is_mergeable_anon_vma()`: `src.anon_vma` is `vmg->anon_vma`; `src` is
/// also `vmg->middle` when `src_vma` (existing-range merges) and
/// `vmg->copied_from` when `copied_from` (copied-range merges: the record
/// carries the copied-from VMA's attributes).
fn mergeable_anon_vma(
    rules: Rules,
    tgt: &VmaRecord,
    src: &VmaRecord,
    src_vma: bool,
    copied_from: bool,
    out: &mut Reasons,
) {
    let tgt_anon = tgt.anon_vma;
    let src_anon = src.anon_vma;
    if !tgt_anon.is_some() && src_anon.is_some() {
        // Case 1: src's anon_vma would be duplicated into tgt. Never
        // relaxed: a fork child's anon_vma is shared by definition.
        if (src_vma || copied_from) && is_fork_child(src) {
            out.add(Reason::AnonVmaForkChild);
        }
    } else if tgt_anon.is_some() && !src_anon.is_some() {
        // Case 2: tgt's anon_vma would be used.
        if is_fork_child(tgt) {
            out.add(Reason::AnonVmaForkChild);
        }
    } else if tgt_anon != src_anon {
        // Case 3: they must already be shared. R2 folds one unshared
        // anon_vma into another, which no other process can see.
        let relaxed = rules.relax.contains(Relax::R2) && rules.unshared(tgt) && rules.unshared(src);
        if !relaxed {
            out.add(Reason::AnonVma);
        }
    }
}

/// `vma_flags_is_cow_mapping()` on the proposed flags, with a file:
/// `needs_adjacent_anon_pgoff()`.
fn needs_adjacent_anon_pgoff(src: &VmaRecord) -> bool {
    src.file.is_some() && src.flags & flags::MAYWRITE != 0 && src.flags & flags::SHARED == 0
}

/// `can_vma_merge_after()`: `src` (at the higher address) merged into
/// `prev`. `src_vma`/`copied_from` as for [`mergeable_anon_vma`].
pub(super) fn merge_after(
    rules: Rules,
    prev: Placed<'_>,
    src: Placed<'_>,
    src_vma: bool,
    copied_from: bool,
    out: &mut Reasons,
) {
    mergeable_vma(prev.rec, src.rec, out);
    mergeable_anon_vma(rules, prev.rec, src.rec, src_vma, copied_from, out);
    // vma_end_pgoff(prev) != vmg_start_pgoff(vmg)
    if !rules.offsets_fit(&prev, &src, Rules::start_pgoff) {
        out.add(Reason::Pgoff);
    }
    // vma_end_anon_pgoff(prev) != vmg_start_anon_pgoff(vmg)
    if needs_adjacent_anon_pgoff(src.rec)
        && !rules.offsets_fit(&prev, &src, Rules::start_anon_pgoff)
    {
        out.add(Reason::AnonPgoff);
    }
}

/// `can_vma_merge_before()`: `src` (at the lower address) merged into
/// `next`. `src_vma`/`copied_from` as for [`mergeable_anon_vma`].
pub(super) fn merge_before(
    rules: Rules,
    src: Placed<'_>,
    src_vma: bool,
    copied_from: bool,
    next: Placed<'_>,
    out: &mut Reasons,
) {
    mergeable_vma(next.rec, src.rec, out);
    mergeable_anon_vma(rules, next.rec, src.rec, src_vma, copied_from, out);
    // vmg_end_pgoff(vmg) != vma_start_pgoff(next)
    if !rules.offsets_fit(&src, &next, Rules::start_pgoff) {
        out.add(Reason::Pgoff);
    }
    // vmg_end_anon_pgoff(vmg) != vma_start_anon_pgoff(next)
    if needs_adjacent_anon_pgoff(src.rec)
        && !rules.offsets_fit(&src, &next, Rules::start_anon_pgoff)
    {
        out.add(Reason::AnonPgoff);
    }
}

/// `can_vma_merge_right()`'s last check: `prev` and `next` both have an
/// `anon_vma` and not the same one, so the three cannot become one (R2:
/// unless both are unshared).
pub(super) fn anon_vma_3way(rules: Rules, prev: &VmaRecord, next: &VmaRecord) -> bool {
    prev.anon_vma.is_some()
        && next.anon_vma.is_some()
        && prev.anon_vma != next.anon_vma
        && !(rules.relax.contains(Relax::R2) && rules.unshared(prev) && rules.unshared(next))
}

/// [`unmerged_reasons_under`] with the rules as `rules` applies them.
pub(super) fn pair_reasons(rules: Rules, prev: Placed<'_>, next: Placed<'_>) -> Reasons {
    let mut out = Reasons::NONE;
    // vma_merge_existing_range(): special VMAs are never merged.
    if next.rec.flags & flags::SPECIAL != 0 {
        out.add(Reason::Special);
    }
    // can_vma_merge_left() -> can_vma_merge_after().
    merge_after(rules, prev, next, true, false, &mut out);
    // vma_merge_existing_range(): the middle is removed, so it must not
    // have a close hook (can_merge_remove_vma()).
    if next.rec.merge.has_close {
        out.add(Reason::CloseHook);
    }
    out
}

/// Why all of `next` would not be merged into `prev`, decided as
/// `vma_merge_existing_range()` decides it with `next` as the middle VMA
/// spanning its whole range (so it would be removed). Ranges are inclusive.
/// The rules are asymmetric: only `next`'s `VM_SPECIAL` flags and close
/// hook count. Never sets [`Reason::AnonVma3way`] (needs three VMAs) nor
/// [`Reason::UffdNoRemap`] (only for mremap()).
pub fn unmerged_reasons(
    arch: &Arch,
    prev: &VmaRecord,
    prev_first: usize,
    prev_last: usize,
    next: &VmaRecord,
    next_first: usize,
    next_last: usize,
) -> Reasons {
    let prev = Placed {
        rec: prev,
        first: prev_first,
        last: prev_last,
    };
    let next = Placed {
        rec: next,
        first: next_first,
        last: next_last,
    };
    unmerged_reasons_under(arch, Relax::NONE, prev, next)
}

/// [`unmerged_reasons`] under the rules `relax` relaxes.
pub fn unmerged_reasons_under(
    arch: &Arch,
    relax: Relax,
    prev: Placed<'_>,
    next: Placed<'_>,
) -> Reasons {
    pair_reasons(Rules::new(arch, relax), prev, next)
}

/// Why `middle` would not be merged with both `prev` and `next` at once
/// (`vma_merge_existing_range()` over all of `middle`, merge both): the
/// reasons against each side, [`Reason::AnonVma3way`] when `prev` and
/// `next` have different `anon_vma`s (`can_vma_merge_right()`: each may be
/// compatible with an unfaulted middle but not with each other), and
/// [`Reason::CloseHook`] when `middle` or `next`, both removed, has one.
/// This needs three VMAs: from a pair, the outcome (the kernel merges one
/// side only) shows as [`Reason::AnonVma`] on the pair left unmerged.
pub fn three_way_reasons(
    arch: &Arch,
    prev: Placed<'_>,
    middle: Placed<'_>,
    next: Placed<'_>,
) -> Reasons {
    three_way_reasons_under(arch, Relax::NONE, prev, middle, next)
}

/// [`three_way_reasons`] under the rules `relax` relaxes.
pub fn three_way_reasons_under(
    arch: &Arch,
    relax: Relax,
    prev: Placed<'_>,
    middle: Placed<'_>,
    next: Placed<'_>,
) -> Reasons {
    let rules = Rules::new(arch, relax);
    let mut out = Reasons::NONE;
    if middle.rec.flags & flags::SPECIAL != 0 {
        out.add(Reason::Special);
    }
    merge_after(rules, prev, middle, true, false, &mut out);
    merge_before(rules, middle, true, false, next, &mut out);
    // can_vma_merge_right(): prev and next must share an anon_vma if both
    // have one.
    if anon_vma_3way(rules, prev.rec, next.rec) {
        out.add(Reason::AnonVma3way);
    }
    // can_merge_remove_vma() for middle and next, both removed.
    if middle.rec.merge.has_close || next.rec.merge.has_close {
        out.add(Reason::CloseHook);
    }
    out
}

/// Why `moved`, a VMA mremap() copies to sit right after `prev`, would not
/// be merged into `prev` (`vma_merge_copied_range()` then
/// `vma_merge_new_range()`, merge left). `moved` is the record as
/// `copy_vma()` sees it with its new range and page offsets.
pub fn moved_reasons(arch: &Arch, prev: Placed<'_>, moved: Placed<'_>) -> Reasons {
    moved_reasons_under(arch, Relax::NONE, prev, moved)
}

/// [`moved_reasons`] under the rules `relax` relaxes.
pub fn moved_reasons_under(
    arch: &Arch,
    relax: Relax,
    prev: Placed<'_>,
    moved: Placed<'_>,
) -> Reasons {
    let rules = Rules::new(arch, relax);
    let mut out = Reasons::NONE;
    // vma_merge_copied_range(): the uffd context would be cleared.
    if moved.rec.merge.uffd_no_event_remap {
        out.add(Reason::UffdNoRemap);
    }
    // vma_merge_new_range(): special VMAs are never merged.
    if moved.rec.flags & flags::SPECIAL != 0 {
        out.add(Reason::Special);
    }
    // can_vma_merge_left(): no middle; the source is vmg->copied_from.
    merge_after(rules, prev, moved, false, true, &mut out);
    out
}
