// SPDX-License-Identifier: GPL-2.0

//! Merge statistics (issue #5): why two touching VMAs stay separate, what
//! each store of the target's VMA tree did, and counters over both.
//!
//! Everything here follows Linux 7.3's `mm/vma.c`; each rule names the
//! kernel function it comes from. Like the rest of the engine it uses only
//! `core`, never allocates and never panics, so probes may call it.
//!
//! # Why two touching VMAs stay separate
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
//! # What a tree store did
//!
//! [`classify_store`] looks at the shadow (through [`ShadowView`]) before a
//! store or clear of the kernel's tree is applied to it, and says which of
//! the kernel's sequences it belongs to ([`StoreKind`]). In 7.3 every store
//! of a VMA covers the VMA's whole new range (`vma_iter_store_overwrite()`
//! sets the range from `vm_start`/`vm_end`), and no operation moves a
//! `vm_area_struct` to a new place: mremap() copies it. That is what makes
//! the geometry of one store enough.
//!
//! # Statistics
//!
//! [`write_stats`] writes one `name value` line per counter, in this order:
//!
//! | name | meaning |
//! |------|---------|
//! | `vmas` | VMAs in the shadow now (from the caller) |
//! | `touching_pairs` | pairs of VMAs with no gap between them now (from the caller) |
//! | `unmerged_pairs` | of those, pairs the rules would not merge (from the caller) |
//! | `stores` | stores of a VMA into the tree seen |
//! | `clears` | clears of a range of the tree seen |
//! | `new_merge_none` | a new VMA stored over empty space (`vma_merge_new_range()` merged with nothing) |
//! | `new_merge_prev` | a VMA grown over empty space on its right (merged with prev; also brk, mremap() growing in place) |
//! | `new_merge_next` | a VMA grown over empty space on its left (merged with next) |
//! | `new_merge_both` | a VMA grown over empty space and over all of the next VMA, which is removed |
//! | `new_merge_over_mapped` | a VMA grown over a mix of empty space and whole VMAs (MAP_FIXED over mappings, merged) |
//! | `existing_merge_left` | a VMA grown over part or all of the VMA on its right, with no empty space (`vma_merge_existing_range()`, merge left) |
//! | `existing_merge_right` | a VMA grown over part or all of the VMA on its left (merge right) |
//! | `existing_merge_both` | a VMA grown over the two whole VMAs on its right (merge both) |
//! | `stack_growth` | a `VM_GROWSDOWN` VMA grown down over empty space (`expand_downwards()`, `relocate_vma_down()`): not a merge |
//! | `noop` | stores of a VMA over exactly its own range, clears of empty space |
//! | `expanded` | stores that grew an existing VMA (all `new_merge_*` but `none`, all `existing_merge_*`) |
//! | `shrunk` | VMAs left smaller, not by a split (`vma_shrink()`, the middle of a partial existing merge) |
//! | `split` | a new VMA stored over one end of an existing one (`__split_vma()`) |
//! | `removed` | VMAs that left the tree: cleared whole, swallowed by a merge or replaced |
//! | `replaced` | a new VMA stored over whole existing VMAs (MAP_FIXED over mappings, no merge) |
//! | `partial_clear` | clears that cut into a VMA other than at one end (no 7.3 sequence does this) |
//! | `unknown` | stores matching no 7.3 sequence |
//! | `new_merges` | `new_merge_prev + new_merge_next + new_merge_both + new_merge_over_mapped` |
//! | `kernel_new_merges` | `vma_merge_new_range()` calls that merged (the kernel's verdict, from a return probe) |
//! | `new_merge_disagreements` | `abs(new_merges - kernel_new_merges)` |
//! | `merges_after_<cause>` | merges (every `new_merge_*` but `none`, every `existing_merge_*`) by the system call the storing task was in: `none`, `mmap`, `munmap`, `mprotect`, `mremap`, `madvise`, `mlock`, `brk`, `prctl`, `mbind`, `mseal`, `ioctl`, `other` ([`Cause`]) |
//! | `existing_merges` | `existing_merge_left + existing_merge_right + existing_merge_both` |
//! | `kernel_existing_merges` | `vma_modify()` calls whose `vma_merge_existing_range()` merged (the kernel's verdict) |
//! | `existing_merge_disagreements` | `abs(existing_merges - kernel_existing_merges)` |
//! | `unmerged_<reason>` | touching pairs that one [`Reason`] keeps apart, one line per reason (`unmerged_special`, `unmerged_mempolicy`, `unmerged_flags`, `unmerged_file`, `unmerged_uffd_ctx`, `unmerged_anon_name`, `unmerged_anon_vma`, `unmerged_anon_vma_fork_child`, `unmerged_pgoff`, `unmerged_anon_pgoff`, `unmerged_anon_vma_3way`, `unmerged_close_hook`, `unmerged_uffd_no_remap`), as last counted |
//!
//! [`write_unmerged_line`] writes one line of the `unmerged` file:
//! `START-END START-END reason[,reason]`, addresses as `/proc/PID/maps`
//! shows them.

use core::fmt::{self, Write};

use super::record::{ObjectId, VmaRecord};

/// `vm_flags` bits of x86_64 in 7.3 (`include/linux/mm.h`, `VMA_*_BIT`).
///
/// Bits 0-31 and 39-43 mean the same on every 64-bit architecture; bits
/// 24 and 32-38 are architecture-specific and named as x86_64 uses them
/// (bit 36 is unused there: `CONFIG_ARCH_PKEY_BITS` is 4).
pub mod flags {
    /// `VM_READ`.
    pub const READ: u64 = 1 << 0;
    /// `VM_WRITE`.
    pub const WRITE: u64 = 1 << 1;
    /// `VM_EXEC`.
    pub const EXEC: u64 = 1 << 2;
    /// `VM_SHARED`.
    pub const SHARED: u64 = 1 << 3;
    /// `VM_MAYREAD`.
    pub const MAYREAD: u64 = 1 << 4;
    /// `VM_MAYWRITE`.
    pub const MAYWRITE: u64 = 1 << 5;
    /// `VM_MAYEXEC`.
    pub const MAYEXEC: u64 = 1 << 6;
    /// `VM_MAYSHARE`.
    pub const MAYSHARE: u64 = 1 << 7;
    /// `VM_GROWSDOWN`.
    pub const GROWSDOWN: u64 = 1 << 8;
    /// `VM_UFFD_MISSING`.
    pub const UFFD_MISSING: u64 = 1 << 9;
    /// `VM_PFNMAP`.
    pub const PFNMAP: u64 = 1 << 10;
    /// `VM_MAYBE_GUARD` (sticky, ignored for merging).
    pub const MAYBE_GUARD: u64 = 1 << 11;
    /// `VM_UFFD_WP`.
    pub const UFFD_WP: u64 = 1 << 12;
    /// `VM_LOCKED`.
    pub const LOCKED: u64 = 1 << 13;
    /// `VM_IO`.
    pub const IO: u64 = 1 << 14;
    /// `VM_SEQ_READ`.
    pub const SEQ_READ: u64 = 1 << 15;
    /// `VM_RAND_READ`.
    pub const RAND_READ: u64 = 1 << 16;
    /// `VM_DONTCOPY`.
    pub const DONTCOPY: u64 = 1 << 17;
    /// `VM_DONTEXPAND`.
    pub const DONTEXPAND: u64 = 1 << 18;
    /// `VM_LOCKONFAULT`.
    pub const LOCKONFAULT: u64 = 1 << 19;
    /// `VM_ACCOUNT`.
    pub const ACCOUNT: u64 = 1 << 20;
    /// `VM_NORESERVE`.
    pub const NORESERVE: u64 = 1 << 21;
    /// `VM_HUGETLB`.
    pub const HUGETLB: u64 = 1 << 22;
    /// `VM_SYNC`.
    pub const SYNC: u64 = 1 << 23;
    /// `VM_ARCH_1` (architecture-specific; no x86_64 use).
    pub const ARCH_1: u64 = 1 << 24;
    /// `VM_WIPEONFORK`.
    pub const WIPEONFORK: u64 = 1 << 25;
    /// `VM_DONTDUMP`.
    pub const DONTDUMP: u64 = 1 << 26;
    /// `VM_SOFTDIRTY` (sticky, ignored for merging).
    pub const SOFTDIRTY: u64 = 1 << 27;
    /// `VM_MIXEDMAP`.
    pub const MIXEDMAP: u64 = 1 << 28;
    /// `VM_HUGEPAGE`.
    pub const HUGEPAGE: u64 = 1 << 29;
    /// `VM_NOHUGEPAGE`.
    pub const NOHUGEPAGE: u64 = 1 << 30;
    /// `VM_MERGEABLE`.
    pub const MERGEABLE: u64 = 1 << 31;
    /// `VM_PKEY_BIT0` (x86_64: `HIGH_ARCH_0`).
    pub const PKEY_BIT0: u64 = 1 << 32;
    /// `VM_PKEY_BIT1` (x86_64: `HIGH_ARCH_1`).
    pub const PKEY_BIT1: u64 = 1 << 33;
    /// `VM_PKEY_BIT2` (x86_64: `HIGH_ARCH_2`).
    pub const PKEY_BIT2: u64 = 1 << 34;
    /// `VM_PKEY_BIT3` (x86_64: `HIGH_ARCH_3`).
    pub const PKEY_BIT3: u64 = 1 << 35;
    /// `VM_SHADOW_STACK` (x86_64: `HIGH_ARCH_5`).
    pub const SHADOW_STACK: u64 = 1 << 37;
    /// `VM_ALLOW_ANY_UNCACHED`.
    pub const ALLOW_ANY_UNCACHED: u64 = 1 << 39;
    /// `VM_DROPPABLE`.
    pub const DROPPABLE: u64 = 1 << 40;
    /// `VM_UFFD_MINOR`.
    pub const UFFD_MINOR: u64 = 1 << 41;
    /// `VM_SEALED`.
    pub const SEALED: u64 = 1 << 42;
    /// `VM_UFFD_RWP`.
    pub const UFFD_RWP: u64 = 1 << 43;

    /// `VM_SPECIAL`: `VMA_SPECIAL_FLAGS`, never merged.
    pub const SPECIAL: u64 = IO | DONTEXPAND | PFNMAP | MIXEDMAP;

    /// `VMA_IGNORE_MERGE_FLAGS` = `VMA_STICKY_FLAGS`: soft-dirty and
    /// maybe-guard. (Without `CONFIG_MEM_SOFT_DIRTY` the soft-dirty bit is
    /// never set, so ignoring it too is the same.)
    pub const IGNORE_MERGE: u64 = SOFTDIRTY | MAYBE_GUARD;

    /// Names of the bits, lowercase without `VM_`, as `flags:` lists them.
    pub(super) const NAMES: [(u64, &str); 44] = [
        (READ, "read"),
        (WRITE, "write"),
        (EXEC, "exec"),
        (SHARED, "shared"),
        (MAYREAD, "mayread"),
        (MAYWRITE, "maywrite"),
        (MAYEXEC, "mayexec"),
        (MAYSHARE, "mayshare"),
        (GROWSDOWN, "growsdown"),
        (UFFD_MISSING, "uffd_missing"),
        (PFNMAP, "pfnmap"),
        (MAYBE_GUARD, "maybe_guard"),
        (UFFD_WP, "uffd_wp"),
        (LOCKED, "locked"),
        (IO, "io"),
        (SEQ_READ, "seq_read"),
        (RAND_READ, "rand_read"),
        (DONTCOPY, "dontcopy"),
        (DONTEXPAND, "dontexpand"),
        (LOCKONFAULT, "lockonfault"),
        (ACCOUNT, "account"),
        (NORESERVE, "noreserve"),
        (HUGETLB, "hugetlb"),
        (SYNC, "sync"),
        (ARCH_1, "arch_1"),
        (WIPEONFORK, "wipeonfork"),
        (DONTDUMP, "dontdump"),
        (SOFTDIRTY, "softdirty"),
        (MIXEDMAP, "mixedmap"),
        (HUGEPAGE, "hugepage"),
        (NOHUGEPAGE, "nohugepage"),
        (MERGEABLE, "mergeable"),
        (PKEY_BIT0, "pkey_bit0"),
        (PKEY_BIT1, "pkey_bit1"),
        (PKEY_BIT2, "pkey_bit2"),
        (PKEY_BIT3, "pkey_bit3"),
        (1 << 36, "high_arch_4"),
        (SHADOW_STACK, "shadow_stack"),
        (1 << 38, "high_arch_6"),
        (ALLOW_ANY_UNCACHED, "allow_any_uncached"),
        (DROPPABLE, "droppable"),
        (UFFD_MINOR, "uffd_minor"),
        (SEALED, "sealed"),
        (UFFD_RWP, "uffd_rwp"),
    ];
}

/// `PAGE_SHIFT` of every guest vmatrack runs on.
const PAGE_SHIFT: u32 = 12;

/// One rule that keeps two VMAs apart, in the kernel's order of checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// `next` has a `VM_SPECIAL` flag (`vma_merge_existing_range()`,
    /// `vma_merge_new_range()`).
    Special,
    /// Mempolicies differ (`is_mergeable_vma()`: `mpol_equal()`).
    Mempolicy,
    /// `vm_flags` differ outside `VMA_IGNORE_MERGE_FLAGS`
    /// (`is_mergeable_vma()`); [`Reasons::flags_diff`] says which.
    Flags,
    /// Different `struct file` (`is_mergeable_vma()`).
    File,
    /// Different userfaultfd contexts (`is_mergeable_vm_userfaultfd_ctx()`).
    UffdCtx,
    /// Different anon names (`anon_vma_name_eq()`).
    AnonName,
    /// Both have an `anon_vma`, not the same one, or neither has the other's
    /// (`is_mergeable_anon_vma()` case 3).
    AnonVma,
    /// Only one has an `anon_vma` and that VMA is a fork child
    /// (`is_mergeable_anon_vma()` cases 1 and 2, `vma_is_fork_child()`).
    AnonVmaForkChild,
    /// File page offsets are not contiguous (`can_vma_merge_after()`).
    Pgoff,
    /// Anonymous page offsets of a private file mapping are not contiguous
    /// (`can_vma_merge_after()`, `needs_adjacent_anon_pgoff()`).
    AnonPgoff,
    /// The outer two of three VMAs have different `anon_vma`s
    /// (`can_vma_merge_right()`); only [`three_way_reasons`] sets it.
    AnonVma3way,
    /// The VMA that would be removed has `vm_ops->close`
    /// (`can_merge_remove_vma()`).
    CloseHook,
    /// The moved VMA has a userfaultfd context without
    /// `UFFD_FEATURE_EVENT_REMAP` (`vma_merge_copied_range()`); only
    /// [`moved_reasons`] sets it.
    UffdNoRemap,
}

impl Reason {
    /// Every reason, in the kernel's order of checks.
    pub const ALL: [Reason; 13] = [
        Reason::Special,
        Reason::Mempolicy,
        Reason::Flags,
        Reason::File,
        Reason::UffdCtx,
        Reason::AnonName,
        Reason::AnonVma,
        Reason::AnonVmaForkChild,
        Reason::Pgoff,
        Reason::AnonPgoff,
        Reason::AnonVma3way,
        Reason::CloseHook,
        Reason::UffdNoRemap,
    ];

    /// The name the `unmerged` file prints (`flags` without its list).
    pub fn name(self) -> &'static str {
        match self {
            Reason::Special => "special",
            Reason::Mempolicy => "mempolicy",
            Reason::Flags => "flags",
            Reason::File => "file",
            Reason::UffdCtx => "uffd_ctx",
            Reason::AnonName => "anon_name",
            Reason::AnonVma => "anon_vma",
            Reason::AnonVmaForkChild => "anon_vma_fork_child",
            Reason::Pgoff => "pgoff",
            Reason::AnonPgoff => "anon_pgoff",
            Reason::AnonVma3way => "anon_vma_3way",
            Reason::CloseHook => "close_hook",
            Reason::UffdNoRemap => "uffd_no_remap",
        }
    }

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
}

/// Writes the names of the bits of `mask`, joined by `|`.
pub fn write_flag_names(out: &mut impl Write, mask: u64) -> fmt::Result {
    let mut first = true;
    for bit in 0..64u32 {
        let b = 1u64 << bit;
        if mask & b == 0 {
            continue;
        }
        if !first {
            out.write_char('|')?;
        }
        first = false;
        match flags::NAMES.iter().find(|(v, _)| *v == b) {
            Some((_, name)) => out.write_str(name)?,
            // Bits 7.3 does not define on x86_64.
            None => write!(out, "bit{bit}")?,
        }
    }
    Ok(())
}

impl fmt::Display for Reasons {
    /// `eligible`, or the reasons joined by `,` with the flags listed as
    /// `flags:write|locked`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
                write_flag_names(f, self.flags_diff)?;
            }
        }
        Ok(())
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
    fn pages(&self) -> u64 {
        let bytes = self.last.saturating_sub(self.first).saturating_add(1);
        u64::try_from(bytes >> PAGE_SHIFT).unwrap_or(u64::MAX)
    }

    /// `vma_start_anon_pgoff()`, from the address and the shift the kernel
    /// side recorded.
    fn anon_pgoff(&self) -> u64 {
        let page = u64::try_from(self.first >> PAGE_SHIFT).unwrap_or(u64::MAX);
        page.wrapping_add(self.rec.merge.anon_pgoff_shift)
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

/// `is_mergeable_anon_vma()`: `src_anon` is `vmg->anon_vma`; `src` is
/// `vmg->middle` (existing-range merges) and `copied_from` the VMA mremap()
/// copies (copied-range merges); either may be absent.
fn mergeable_anon_vma(
    tgt: &VmaRecord,
    src_anon: ObjectId,
    src: Option<&VmaRecord>,
    copied_from: Option<&VmaRecord>,
    out: &mut Reasons,
) {
    let tgt_anon = tgt.anon_vma;
    if !tgt_anon.is_some() && src_anon.is_some() {
        // Case 1: src's anon_vma would be duplicated into tgt.
        if src.is_some_and(is_fork_child) || copied_from.is_some_and(is_fork_child) {
            out.add(Reason::AnonVmaForkChild);
        }
    } else if tgt_anon.is_some() && !src_anon.is_some() {
        // Case 2: tgt's anon_vma would be used.
        if is_fork_child(tgt) {
            out.add(Reason::AnonVmaForkChild);
        }
    } else if tgt_anon != src_anon {
        // Case 3: they must already be shared.
        out.add(Reason::AnonVma);
    }
}

/// `vma_flags_is_cow_mapping()` on the proposed flags, with a file:
/// `needs_adjacent_anon_pgoff()`.
fn needs_adjacent_anon_pgoff(src: &VmaRecord) -> bool {
    src.file.is_some() && src.flags & flags::MAYWRITE != 0 && src.flags & flags::SHARED == 0
}

/// `can_vma_merge_after()`: `src` (at the higher address) merged into
/// `prev`. `src_vma`/`copied_from` as for [`mergeable_anon_vma`].
fn merge_after(
    prev: Placed<'_>,
    src: Placed<'_>,
    src_vma: bool,
    copied_from: bool,
    out: &mut Reasons,
) {
    mergeable_vma(prev.rec, src.rec, out);
    mergeable_anon_vma(
        prev.rec,
        src.rec.anon_vma,
        src_vma.then_some(src.rec),
        copied_from.then_some(src.rec),
        out,
    );
    // vma_end_pgoff(prev) != vmg_start_pgoff(vmg)
    if prev.rec.pgoff.wrapping_add(prev.pages()) != src.rec.pgoff {
        out.add(Reason::Pgoff);
    }
    if needs_adjacent_anon_pgoff(src.rec)
        && prev.anon_pgoff().wrapping_add(prev.pages()) != src.anon_pgoff()
    {
        out.add(Reason::AnonPgoff);
    }
}

/// `can_vma_merge_before()`: `src` (at the lower address) merged into
/// `next`, `src` being the existing middle VMA.
fn merge_before(src: Placed<'_>, next: Placed<'_>, out: &mut Reasons) {
    mergeable_vma(next.rec, src.rec, out);
    mergeable_anon_vma(next.rec, src.rec.anon_vma, Some(src.rec), None, out);
    // vmg_end_pgoff(vmg) != vma_start_pgoff(next)
    if src.rec.pgoff.wrapping_add(src.pages()) != next.rec.pgoff {
        out.add(Reason::Pgoff);
    }
    if needs_adjacent_anon_pgoff(src.rec)
        && src.anon_pgoff().wrapping_add(src.pages()) != next.anon_pgoff()
    {
        out.add(Reason::AnonPgoff);
    }
}

/// Why all of `next` would not be merged into `prev`, decided as
/// `vma_merge_existing_range()` decides it with `next` as the middle VMA
/// spanning its whole range (so it would be removed). Ranges are inclusive.
/// The rules are asymmetric: only `next`'s `VM_SPECIAL` flags and close
/// hook count. Never sets [`Reason::AnonVma3way`] (needs three VMAs) nor
/// [`Reason::UffdNoRemap`] (only for mremap()).
pub fn unmerged_reasons(
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
    let mut out = Reasons::NONE;
    // vma_merge_existing_range(): special VMAs are never merged.
    if next.rec.flags & flags::SPECIAL != 0 {
        out.add(Reason::Special);
    }
    // can_vma_merge_left() -> can_vma_merge_after().
    merge_after(prev, next, true, false, &mut out);
    // vma_merge_existing_range(): the middle is removed, so it must not
    // have a close hook (can_merge_remove_vma()).
    if next.rec.merge.has_close {
        out.add(Reason::CloseHook);
    }
    out
}

/// Why `middle` would not be merged with both `prev` and `next` at once
/// (`vma_merge_existing_range()` over all of `middle`, merge both): the
/// reasons against each side, [`Reason::AnonVma3way`] when `prev` and
/// `next` have different `anon_vma`s (`can_vma_merge_right()`: each may be
/// compatible with an unfaulted middle but not with each other), and
/// [`Reason::CloseHook`] when `middle` or `next`, both removed, has one.
/// This needs three VMAs: from a pair, the outcome (the kernel merges one
/// side only) shows as [`Reason::AnonVma`] on the pair left unmerged.
pub fn three_way_reasons(prev: Placed<'_>, middle: Placed<'_>, next: Placed<'_>) -> Reasons {
    let mut out = Reasons::NONE;
    if middle.rec.flags & flags::SPECIAL != 0 {
        out.add(Reason::Special);
    }
    merge_after(prev, middle, true, false, &mut out);
    merge_before(middle, next, &mut out);
    // can_vma_merge_right(): prev and next must share an anon_vma if both
    // have one.
    if prev.rec.anon_vma.is_some()
        && next.rec.anon_vma.is_some()
        && prev.rec.anon_vma != next.rec.anon_vma
    {
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
pub fn moved_reasons(prev: Placed<'_>, moved: Placed<'_>) -> Reasons {
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
    merge_after(prev, moved, false, true, &mut out);
    out
}

/// A read-only look at the shadow as it is before a store is applied.
pub trait ShadowView {
    /// The lowest range intersecting `[from, max]`, as the range tree's
    /// `find`: `(first, last, vma)`.
    fn find(&self, from: usize, max: usize) -> Option<(usize, usize, ObjectId)>;
}

/// What one store or clear of the kernel's VMA tree means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// A VMA stored over exactly its own range, or a clear of empty space.
    Noop,
    /// A new VMA over empty space only: `__mmap_new_vma()`, `do_brk_flags()`
    /// (new VMA), `vma_link()` (mremap() copy, special mappings).
    NewVma,
    /// An existing VMA grown over empty space on its right:
    /// `vma_merge_new_range()` merging prev, including `do_brk_flags()` and
    /// `vma_merge_extend()` (mremap() in place), and `expand_upwards()`.
    MergePrev,
    /// An existing VMA grown over empty space on its left:
    /// `vma_merge_new_range()` merging next, and also `expand_downwards()`
    /// (stack growth) and `relocate_vma_down()`, which look the same.
    MergeNext,
    /// An existing VMA grown over empty space and over all of the VMA after
    /// it, which is removed: `vma_merge_new_range()` merging both.
    MergeBoth,
    /// A `VM_GROWSDOWN` VMA grown over empty space on its left:
    /// `expand_downwards()` (stack growth on a fault) or
    /// `relocate_vma_down()` (exec). Not a merge; see
    /// [`StoreEffect::stack_growth`].
    StackGrowth,
    /// An existing VMA grown over whole VMAs (and maybe empty space) in a
    /// shape none of the above has: `vma_merge_new_range()` after a MAP_FIXED
    /// `mmap()` detached the VMAs it replaces (they are still in the tree).
    MergeOverMapped,
    /// An existing VMA grown right over part (`middle` shrunk) or all
    /// (`middle` removed) of the VMA after it, with no empty space:
    /// `vma_merge_existing_range()` merging left.
    ExistingLeft,
    /// An existing VMA grown left over part or all of the VMA before it:
    /// `vma_merge_existing_range()` merging right.
    ExistingRight,
    /// An existing VMA grown right over the two whole VMAs after it:
    /// `vma_merge_existing_range()` merging both.
    ExistingBoth,
    /// A new VMA stored over one end of an existing one: `__split_vma()`.
    Split,
    /// A new VMA stored over whole existing VMAs (and maybe empty space):
    /// MAP_FIXED `mmap()` that merged with nothing.
    Replaced,
    /// A clear of one end of one VMA: `vma_shrink()`.
    Shrunk,
    /// A clear of whole VMAs (and maybe empty space):
    /// `do_vmi_align_munmap()`, `vms_abort_munmap_vmas()`, `dup_mmap()`.
    Removed,
    /// Any other clear.
    PartialClear,
    /// Any other store.
    Unknown,
}

/// A classified store: what it was and what it did to other VMAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreEffect {
    /// What the store was.
    pub kind: StoreKind,
    /// VMAs (other than the stored one) that left the tree.
    pub removed: u32,
    /// VMAs left smaller, not counting the VMA a split cuts.
    pub shrunk: u32,
}

impl StoreKind {
    /// The name `events` shows: the `stats` counter the store counts in.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Noop => "noop",
            StoreKind::NewVma => "new_merge_none",
            StoreKind::MergePrev => "new_merge_prev",
            StoreKind::MergeNext => "new_merge_next",
            StoreKind::MergeBoth => "new_merge_both",
            StoreKind::StackGrowth => "stack_growth",
            StoreKind::MergeOverMapped => "new_merge_over_mapped",
            StoreKind::ExistingLeft => "existing_merge_left",
            StoreKind::ExistingRight => "existing_merge_right",
            StoreKind::ExistingBoth => "existing_merge_both",
            StoreKind::Split => "split",
            StoreKind::Replaced => "replaced",
            StoreKind::Shrunk => "shrunk",
            StoreKind::Removed => "removed",
            StoreKind::PartialClear => "partial_clear",
            StoreKind::Unknown => "unknown",
        }
    }
}

impl StoreEffect {
    /// Tells stack growth from a merge with next, which one store's shape
    /// cannot: `flags` are the stored VMA's. A `VM_GROWSDOWN` VMA grown
    /// down over empty space is the stack growing (`expand_downwards()`),
    /// because a new range merges with a `VM_GROWSDOWN` VMA only if it has
    /// the flag too (`MAP_GROWSDOWN`), which no allocator asks for.
    pub fn stack_growth(self, flags: u64) -> Self {
        match self.kind {
            StoreKind::MergeNext if flags & flags::GROWSDOWN != 0 => StoreEffect {
                kind: StoreKind::StackGrowth,
                ..self
            },
            _ => self,
        }
    }

    /// Tells a new range merged over mappings it replaces from an
    /// existing-range merge, which one store's shape cannot: `mmap()`
    /// (MAP_FIXED over mappings), `mremap()` and `brk()` detach the VMAs
    /// they replace but leave them in the tree until the merged VMA is
    /// stored over them, so the store looks like a VMA grown over whole
    /// VMAs. Existing-range merges only happen in `vma_modify()`, which
    /// none of these calls.
    pub fn in_syscall(self, cause: Cause) -> Self {
        match (self.kind, cause) {
            (
                StoreKind::ExistingLeft | StoreKind::ExistingRight | StoreKind::ExistingBoth,
                Cause::Mmap | Cause::Mremap | Cause::Brk,
            ) => StoreEffect {
                kind: StoreKind::MergeOverMapped,
                ..self
            },
            _ => self,
        }
    }

    /// Whether the store merged VMAs or a new range into a VMA.
    pub fn is_merge(&self) -> bool {
        matches!(
            self.kind,
            StoreKind::MergePrev
                | StoreKind::MergeNext
                | StoreKind::MergeBoth
                | StoreKind::MergeOverMapped
                | StoreKind::ExistingLeft
                | StoreKind::ExistingRight
                | StoreKind::ExistingBoth
        )
    }

    fn of(kind: StoreKind) -> Self {
        StoreEffect {
            kind,
            removed: 0,
            shrunk: 0,
        }
    }
}

/// What a part of the stored range holds before the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Piece {
    /// Empty space.
    #[default]
    Gap,
    /// The stored VMA itself.
    Own,
    /// All of another VMA.
    Whole,
    /// Part of another VMA, which goes on to the left, the right or both.
    Partial { left: bool, right: bool },
}

/// How many pieces are kept for pattern matching: every 7.3 pattern has at
/// most three; counts cover the rest.
const PIECES: usize = 4;

/// A summary of the shadow under and around `[first, last]`.
#[derive(Default)]
struct Walk {
    pieces: [Piece; PIECES],
    n: usize,
    /// The stored VMA's range, where it overlaps `[first, last]`.
    own: Option<(usize, usize)>,
    /// The stored VMA is seen more than once or only beside the range.
    own_odd: bool,
    whole: u32,
    partial: u32,
    gaps: u32,
    /// The view broke its contract.
    bad: bool,
}

impl Walk {
    fn push(&mut self, p: Piece) {
        match p {
            Piece::Gap => self.gaps += 1,
            Piece::Whole => self.whole += 1,
            Piece::Partial { .. } => self.partial += 1,
            Piece::Own => {}
        }
        if let Some(slot) = self.pieces.get_mut(self.n) {
            *slot = p;
        }
        self.n = self.n.saturating_add(1);
    }

    /// The kept pieces, when all were kept.
    fn all(&self) -> Option<&[Piece]> {
        if self.n <= PIECES {
            self.pieces.get(..self.n)
        } else {
            None
        }
    }
}

fn walk(view: &impl ShadowView, first: usize, last: usize, id: Option<ObjectId>) -> Walk {
    let mut w = Walk::default();
    let lo = first.saturating_sub(1);
    let hi = last.saturating_add(1);
    // The next address of [first, last] not yet accounted for; None once
    // past the end of the address space.
    let mut pos = Some(first);
    let mut from = lo;
    while let Some((f, l, vma)) = view.find(from, hi) {
        if l < from || f > hi || l < f {
            w.bad = true;
            break;
        }
        let own = id == Some(vma);
        if l < first || f > last {
            // Beside the range: only the stored VMA matters there.
            if own {
                w.own_odd = true;
            }
        } else {
            if let Some(p) = pos {
                if f > p {
                    w.push(Piece::Gap);
                }
            }
            if own {
                if w.own.is_some() {
                    w.own_odd = true;
                }
                w.own = Some((f, l));
                w.push(Piece::Own);
            } else if f >= first && l <= last {
                w.push(Piece::Whole);
            } else {
                w.push(Piece::Partial {
                    left: f < first,
                    right: l > last,
                });
            }
            pos = l.checked_add(1);
        }
        match l.checked_add(1) {
            Some(next) if l < hi => from = next,
            _ => break,
        }
    }
    if let Some(p) = pos {
        if p <= last {
            w.push(Piece::Gap);
        }
    }
    w
}

/// Classifies a store of `vma` (or a clear, `None`) over the inclusive
/// range `[first, last]`, looking at `view` as it is before the store.
pub fn classify_store(
    view: &impl ShadowView,
    first: usize,
    last: usize,
    vma: Option<ObjectId>,
) -> StoreEffect {
    if first > last {
        return StoreEffect::of(match vma {
            Some(_) => StoreKind::Unknown,
            None => StoreKind::PartialClear,
        });
    }
    let w = walk(view, first, last, vma);
    match vma {
        None => classify_clear(&w),
        Some(_) => classify_vma_store(&w, first, last),
    }
}

fn classify_clear(w: &Walk) -> StoreEffect {
    if w.bad {
        return StoreEffect::of(StoreKind::PartialClear);
    }
    if w.whole == 0 && w.partial == 0 {
        return StoreEffect::of(StoreKind::Noop);
    }
    if w.partial == 0 {
        // do_vmi_align_munmap(): splits first, so only whole VMAs go.
        return StoreEffect {
            kind: StoreKind::Removed,
            removed: w.whole,
            shrunk: 0,
        };
    }
    // vma_shrink(): [end, vm_end) of one VMA, nothing else.
    if let Some([Piece::Partial { left, right }]) = w.all() {
        if left != right {
            return StoreEffect {
                kind: StoreKind::Shrunk,
                removed: 0,
                shrunk: 1,
            };
        }
    }
    StoreEffect {
        kind: StoreKind::PartialClear,
        removed: w.whole,
        shrunk: w.partial,
    }
}

fn classify_vma_store(w: &Walk, first: usize, last: usize) -> StoreEffect {
    use Piece::{Gap, Own, Partial, Whole};
    if w.bad || w.own_odd {
        return StoreEffect::of(StoreKind::Unknown);
    }
    let Some((xs, xe)) = w.own else {
        // A VMA not in the shadow here: a new one (7.3 never moves one).
        if w.whole == 0 && w.partial == 0 {
            return StoreEffect::of(StoreKind::NewVma);
        }
        if w.partial == 0 {
            return StoreEffect {
                kind: StoreKind::Replaced,
                removed: w.whole,
                shrunk: 0,
            };
        }
        // __split_vma(): the new part at one end of the old VMA.
        if let Some([Partial { left, right }]) = w.all() {
            if left != right {
                return StoreEffect::of(StoreKind::Split);
            }
        }
        return StoreEffect::of(StoreKind::Unknown);
    };
    if xs < first || xe > last {
        // Stored over less than it had: no 7.3 sequence.
        return StoreEffect::of(StoreKind::Unknown);
    }
    if xs == first && xe == last {
        return StoreEffect::of(StoreKind::Noop);
    }
    let effect = |kind, removed, shrunk| StoreEffect {
        kind,
        removed,
        shrunk,
    };
    // Over whole VMAs (and maybe gaps) in a shape vma_modify() never makes
    // (it merges at most the two VMAs next to the middle): a new range
    // merged over the mappings a MAP_FIXED mmap() detached.
    let over_mapped = |w: &Walk| {
        if w.partial == 0 {
            effect(StoreKind::MergeOverMapped, w.whole, 0)
        } else {
            StoreEffect::of(StoreKind::Unknown)
        }
    };
    if xs == first {
        // Grown right: commit_merge() with prev as the target.
        return match w.all() {
            Some([Own, Gap]) => effect(StoreKind::MergePrev, 0, 0),
            Some([Own, Gap, Whole]) => effect(StoreKind::MergeBoth, 1, 0),
            Some([Own, Whole]) => effect(StoreKind::ExistingLeft, 1, 0),
            Some(
                [Own, Partial {
                    left: false,
                    right: true,
                }],
            ) => effect(StoreKind::ExistingLeft, 0, 1),
            Some([Own, Whole, Whole]) => effect(StoreKind::ExistingBoth, 2, 0),
            _ => over_mapped(w),
        };
    }
    if xe == last {
        // Grown left: commit_merge() with next as the target.
        return match w.all() {
            Some([Gap, Own]) => effect(StoreKind::MergeNext, 0, 0),
            Some([Whole, Own]) => effect(StoreKind::ExistingRight, 1, 0),
            Some(
                [Partial {
                    left: true,
                    right: false,
                }, Own],
            ) => effect(StoreKind::ExistingRight, 0, 1),
            _ => over_mapped(w),
        };
    }
    // Grown at both ends: no 7.3 caller of vma_expand() does this.
    StoreEffect::of(StoreKind::Unknown)
}

/// Merge statistics: plain counters, see the module doc for each one.
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
    pub unmerged: [u64; 13],
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
        self.unmerged = [0; 13];
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

/// What the target was doing when its tree changed: the system call the
/// storing task was in, as `syscall_get_nr()` reads it from the task's
/// registers (the kernel side maps the arch's numbers to these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// Not in a system call: a kernel thread, or the registers say none.
    NoSyscall,
    /// `mmap()`.
    Mmap,
    /// `munmap()`.
    Munmap,
    /// `mprotect()`, `pkey_mprotect()`.
    Mprotect,
    /// `mremap()`.
    Mremap,
    /// `madvise()`, `process_madvise()`.
    Madvise,
    /// `mlock()`, `mlock2()`, `munlock()`, `mlockall()`, `munlockall()`.
    Mlock,
    /// `brk()`.
    Brk,
    /// `prctl()` (`PR_SET_VMA_ANON_NAME`).
    Prctl,
    /// `mbind()`, `set_mempolicy_home_node()`.
    Mbind,
    /// `mseal()`.
    Mseal,
    /// `ioctl()` (userfaultfd register/unregister).
    Ioctl,
    /// Any other system call (exec, exit, ...).
    Other,
}

impl Cause {
    /// Every cause, in `stats` order.
    pub const ALL: [Cause; 13] = [
        Cause::NoSyscall,
        Cause::Mmap,
        Cause::Munmap,
        Cause::Mprotect,
        Cause::Mremap,
        Cause::Madvise,
        Cause::Mlock,
        Cause::Brk,
        Cause::Prctl,
        Cause::Mbind,
        Cause::Mseal,
        Cause::Ioctl,
        Cause::Other,
    ];

    /// The cause numbered `n` by the kernel side (`rust/probes.c`), in
    /// [`Cause::ALL`] order; [`Cause::Other`] for anything else.
    pub fn from_index(n: u32) -> Cause {
        usize::try_from(n)
            .ok()
            .and_then(|i| Cause::ALL.get(i).copied())
            .unwrap_or(Cause::Other)
    }

    /// Its name in `stats` (`merges_after_<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Cause::NoSyscall => "none",
            Cause::Mmap => "mmap",
            Cause::Munmap => "munmap",
            Cause::Mprotect => "mprotect",
            Cause::Mremap => "mremap",
            Cause::Madvise => "madvise",
            Cause::Mlock => "mlock",
            Cause::Brk => "brk",
            Cause::Prctl => "prctl",
            Cause::Mbind => "mbind",
            Cause::Mseal => "mseal",
            Cause::Ioctl => "ioctl",
            Cause::Other => "other",
        }
    }
}

/// Current totals the caller computes over the shadow for [`write_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// VMAs in the shadow.
    pub vmas: u64,
    /// Pairs of VMAs with no gap between them.
    pub touching_pairs: u64,
    /// Touching pairs [`unmerged_reasons`] does not find eligible.
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
/// shows them (`%08lx`, end exclusive), then the reasons.
pub fn write_unmerged_line(
    out: &mut impl Write,
    prev_first: usize,
    prev_last: usize,
    next_first: usize,
    next_last: usize,
    reasons: &Reasons,
) -> fmt::Result {
    writeln!(
        out,
        "{prev_first:08x}-{:08x} {next_first:08x}-{:08x} {reasons}",
        prev_last.wrapping_add(1),
        next_last.wrapping_add(1)
    )
}
