// SPDX-License-Identifier: GPL-2.0

//! The `summary` file: the one screen to read first.
//!
//! Why a process has so many VMAs, in a few `key value` lines: how many
//! there are and how close that is to `vm.max_map_count`, how many touch
//! a neighbour and stay apart and for which reasons, which `vm_flags`
//! differ most often between such neighbours, which system calls merged,
//! and what the relaxed rules of the what-if ([`super::WhatIf`]) would
//! save. The other files (`unmerged`, `stats`, `whatif`) give the detail.
//!
//! [`Summary`] is fed the target's VMAs in address order, as
//! [`super::WhatIf`] is, and needs no allocation.

use core::fmt::{self, Write};

use super::super::record::VmaRecord;
use super::{
    arch::Arch,
    cause::Cause,
    flags::write_flag_names,
    rules::{unmerged_reasons, Placed, Reason, Relax},
    stats::MergeStats,
    whatif::{WhatIf, WhatIfResult},
};

/// How many of the most frequent differing flags the summary names.
const TOP_FLAGS: usize = 5;

/// The summary's counts over the target's VMAs, fed in address order.
pub struct Summary {
    arch: Arch,
    /// The previous VMA fed in: `(first, last, record)`.
    prev: Option<(usize, usize, VmaRecord)>,
    vmas: u64,
    touching: u64,
    /// Touching pairs with at least one reason.
    unmerged: u64,
    /// Touching pairs per reason (its `unmerged` counters, as `stats`
    /// counts them).
    by_reason: MergeStats,
    /// Touching pairs whose `vm_flags` differ in each bit.
    flag_bits: [u64; 64],
    whatif: WhatIf,
}

/// What the summary shows besides the VMAs: supplied by the glue.
pub struct SummaryHead<'a> {
    /// The `target` file's line (`pid=... comm=... mode=... state=...`).
    pub target: &'a str,
    /// The sysctl `vm.max_map_count`, if it could be read.
    pub max_map_count: Option<u64>,
    /// Merges by system call since the last `stats` reset, indexed as
    /// [`Cause::ALL`].
    pub merges_after: &'a [u64],
}

impl Summary {
    /// An empty summary for an architecture.
    pub fn new(arch: &Arch) -> Summary {
        Summary {
            arch: *arch,
            prev: None,
            vmas: 0,
            touching: 0,
            unmerged: 0,
            by_reason: MergeStats::default(),
            flag_bits: [0; 64],
            whatif: WhatIf::new(arch),
        }
    }

    /// Feeds the next VMA, in address order.
    pub fn push(&mut self, vma: Placed<'_>) {
        self.vmas = self.vmas.saturating_add(1);
        self.whatif.push(vma);
        if let Some((pf, pl, prev)) = &self.prev {
            if pl.checked_add(1) == Some(vma.first) {
                self.touching = self.touching.saturating_add(1);
                let r = unmerged_reasons(&self.arch, prev, *pf, *pl, vma.rec, vma.first, vma.last);
                if !r.is_eligible() {
                    self.unmerged = self.unmerged.saturating_add(1);
                }
                self.by_reason.count_unmerged(&r);
                let diff = r.flags_diff();
                for (bit, c) in self.flag_bits.iter_mut().enumerate() {
                    if diff & (1u64 << bit) != 0 {
                        *c = c.saturating_add(1);
                    }
                }
            }
        }
        self.prev = Some((vma.first, vma.last, *vma.rec));
    }

    /// The what-if over the VMAs fed so far.
    pub fn whatif(&self) -> WhatIfResult {
        self.whatif.finish()
    }

    /// Writes the summary:
    ///
    /// ```text
    /// target pid=... comm=... mode=... state=...
    /// vmas N max_map_count M left L
    /// touching_pairs T unmerged U
    /// unmerged_by_reason REASON=N ...        (most frequent first; none)
    /// flags_differing FLAG=N ...             (the five most frequent; none)
    /// merges_by_syscall SYSCALL=N ...        (since the last reset; none)
    /// whatif saved_r1=N saved_r2=N saved_r1+r2=N blocked_by_sharing=N blocked_by_sharing_pct=P.D
    /// ```
    ///
    /// `max_map_count` and `left` read `?` when the sysctl is unknown.
    pub fn write(&self, out: &mut impl Write, head: &SummaryHead<'_>) -> fmt::Result {
        writeln!(
            out,
            "# vmatrack summary: read this first (details: unmerged, stats, whatif)"
        )?;
        writeln!(out, "target {}", head.target.trim_end())?;
        write!(out, "vmas {}", self.vmas)?;
        match head.max_map_count {
            Some(m) => writeln!(
                out,
                " max_map_count {m} left {}",
                m.saturating_sub(self.vmas)
            )?,
            None => writeln!(out, " max_map_count ? left ?")?,
        }
        writeln!(
            out,
            "touching_pairs {} unmerged {}",
            self.touching, self.unmerged
        )?;

        out.write_str("unmerged_by_reason")?;
        let mut order = [0usize; Reason::ALL.len()];
        let by_reason = &self.by_reason.unmerged;
        let n = descending(by_reason, &mut order);
        for &i in order.get(..n).unwrap_or(&[]) {
            if let (Some(r), Some(c)) = (Reason::ALL.get(i), by_reason.get(i)) {
                write!(out, " {}={c}", r.name())?;
            }
        }
        writeln!(out, "{}", if n == 0 { " none" } else { "" })?;

        out.write_str("flags_differing")?;
        let mut order = [0usize; 64];
        let n = descending(&self.flag_bits, &mut order).min(TOP_FLAGS);
        for &bit in order.get(..n).unwrap_or(&[]) {
            out.write_char(' ')?;
            write_flag_names(out, &self.arch, 1u64 << bit)?;
            write!(out, "={}", self.flag_bits.get(bit).copied().unwrap_or(0))?;
        }
        writeln!(out, "{}", if n == 0 { " none" } else { "" })?;

        out.write_str("merges_by_syscall")?;
        let mut order = [0usize; Cause::ALL.len()];
        let counts = head.merges_after.get(..Cause::ALL.len()).unwrap_or(&[]);
        let n = descending(counts, &mut order);
        for &i in order.get(..n).unwrap_or(&[]) {
            if let (Some(c), Some(v)) = (Cause::ALL.get(i), counts.get(i)) {
                write!(out, " {}={v}", c.name())?;
            }
        }
        writeln!(out, "{}", if n == 0 { " none" } else { "" })?;

        let w = self.whatif();
        let both = w.get(Relax::BOTH);
        let pm = both.sharing_permille();
        writeln!(
            out,
            "whatif saved_r1={} saved_r2={} saved_r1+r2={} blocked_by_sharing={} \
             blocked_by_sharing_pct={}.{}",
            w.get(Relax::R1).saved,
            w.get(Relax::R2).saved,
            both.saved,
            both.blocked_by_sharing,
            pm / 10,
            pm % 10
        )
    }
}

/// Fills `order` with the indices of the non-zero `counts`, largest
/// first (ties by index), and returns how many there are.
fn descending(counts: &[u64], order: &mut [usize]) -> usize {
    let mut n = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        // Insertion: shift the smaller ones right.
        let mut at = n;
        while at > 0 {
            let before = order.get(at - 1).and_then(|&j| counts.get(j)).copied();
            if before.is_some_and(|b| b < c) {
                let j = order.get(at - 1).copied().unwrap_or(0);
                if let Some(slot) = order.get_mut(at) {
                    *slot = j;
                }
                at -= 1;
            } else {
                break;
            }
        }
        if let Some(slot) = order.get_mut(at) {
            *slot = i;
        }
        n = (n + 1).min(order.len());
    }
    n
}
