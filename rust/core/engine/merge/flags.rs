// SPDX-License-Identifier: GPL-2.0

//! `vm_flags` bits in 7.3 (`include/linux/mm.h`, `VMA_*_BIT`), and their
//! names as the `unmerged` file lists them.
//!
//! Bits 0-31 but 24, and 39-43, mean the same on every 64-bit
//! architecture. Bit 24 (`VM_ARCH_1`) and bits 32-38 (`VM_HIGH_ARCH_*`)
//! are the architecture's own: their constants here carry x86_64's
//! meaning, and their names come from the table the glue passes in
//! ([`super::Arch::flag_names`]; [`X86_64_NAMES`] on x86_64), so that no
//! other architecture's bit is shown under an x86_64 name.

use core::fmt::{self, Write};

use super::arch::Arch;

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
/// `VM_MERGEABLE` (KSM may merge the VMA's pages with other pages).
pub const MERGEABLE: u64 = 1 << 31;
/// `VM_PKEY_BIT0` on x86_64 (`HIGH_ARCH_0`; architecture-specific).
pub const PKEY_BIT0: u64 = 1 << 32;
/// `VM_PKEY_BIT1` on x86_64 (`HIGH_ARCH_1`; architecture-specific).
pub const PKEY_BIT1: u64 = 1 << 33;
/// `VM_PKEY_BIT2` on x86_64 (`HIGH_ARCH_2`; architecture-specific).
pub const PKEY_BIT2: u64 = 1 << 34;
/// `VM_PKEY_BIT3` on x86_64 (`HIGH_ARCH_3`; architecture-specific).
pub const PKEY_BIT3: u64 = 1 << 35;
/// `VM_SHADOW_STACK` on x86_64 (`HIGH_ARCH_5`; architecture-specific).
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

/// The bits each architecture uses its own way: `VM_ARCH_1` (24) and
/// `VM_HIGH_ARCH_0` to `VM_HIGH_ARCH_6` (32-38).
pub const ARCH_SPECIFIC: u64 = ARCH_1 | (0x7f << 32);

/// Names of the bits that mean the same everywhere, lowercase without
/// `VM_`, as `flags:` lists them.
const NAMES: [(u64, &str); 36] = [
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
    (WIPEONFORK, "wipeonfork"),
    (DONTDUMP, "dontdump"),
    (SOFTDIRTY, "softdirty"),
    (MIXEDMAP, "mixedmap"),
    (HUGEPAGE, "hugepage"),
    (NOHUGEPAGE, "nohugepage"),
    (MERGEABLE, "mergeable"),
    (ALLOW_ANY_UNCACHED, "allow_any_uncached"),
    (DROPPABLE, "droppable"),
    (UFFD_MINOR, "uffd_minor"),
    (SEALED, "sealed"),
    (UFFD_RWP, "uffd_rwp"),
];

/// x86_64's names of its own bits in 7.3, for [`Arch::flag_names`] (bit 36
/// is unused there: `CONFIG_ARCH_PKEY_BITS` is 4).
pub const X86_64_NAMES: [(u64, &str); 8] = [
    (ARCH_1, "arch_1"),
    (PKEY_BIT0, "pkey_bit0"),
    (PKEY_BIT1, "pkey_bit1"),
    (PKEY_BIT2, "pkey_bit2"),
    (PKEY_BIT3, "pkey_bit3"),
    (1 << 36, "high_arch_4"),
    (SHADOW_STACK, "shadow_stack"),
    (1 << 38, "high_arch_6"),
];

/// Writes the names of the bits of `mask`, joined by `|`: the shared
/// names, `arch`'s names for its own bits (`arch_bitN` for one it does not
/// name), `bitN` for bits 7.3 does not define.
pub fn write_flag_names(out: &mut impl Write, arch: &Arch, mask: u64) -> fmt::Result {
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
        let specific = b & ARCH_SPECIFIC != 0;
        let table: &[(u64, &str)] = if specific { arch.flag_names } else { &NAMES };
        match table.iter().find(|(v, _)| *v == b) {
            Some((_, name)) => out.write_str(name)?,
            None if specific => write!(out, "arch_bit{bit}")?,
            None => write!(out, "bit{bit}")?,
        }
    }
    Ok(())
}
