// SPDX-License-Identifier: GPL-2.0

//! The kernel's own merge attempts in the target, counted and timed: what
//! merging costs on this kernel.
//!
//! The what-if ([`super::WhatIf`]) says what relaxed rules would merge at
//! rest; this says how often the kernel tries, how often it succeeds, and
//! how long a try takes, per system call. The glue counts at the return of
//! `vma_merge_new_range()` (new ranges: mmap, brk, the mremap copy path)
//! and `vma_modify()` (existing ranges: mprotect, madvise, mlock, ...),
//! timed from entry to return.

use core::fmt::{self, Write};

use super::{cause::Cause, rules::Relax};

/// The two kinds of attempt, indexed as the counters are.
pub const ATTEMPT_KINDS: [&str; 2] = ["new", "existing"];

/// Merge attempts, per kind ([`ATTEMPT_KINDS`]) and system call
/// ([`Cause::ALL`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttemptCounts {
    /// Attempts made.
    pub tried: [[u64; Cause::ALL.len()]; 2],
    /// Attempts that merged.
    pub merged: [[u64; Cause::ALL.len()]; 2],
    /// Time spent in the attempts, ns.
    pub ns: [[u64; Cause::ALL.len()]; 2],
    /// New-range attempts that each rule set (indexed by
    /// [`Relax::index`]: none, r1, r2, r1+r2) would have merged, evaluated
    /// on the attempt's proposed attributes ([`super::attempt_verdict`]).
    /// Under `none` this is vmatrack's prediction of the kernel's own
    /// verdict (`merged`), a cross-check.
    pub would_merge: [[u64; Cause::ALL.len()]; 4],
}

/// Writes one line per kind and system call with attempts, then the total:
///
/// `attempts kind=new|existing|all cause=NAME|all tried=N merged=N failed=N ns_total=N ns_per_attempt=N`
///
/// New-range lines then add `would_merge_none=N would_merge_r1=N
/// would_merge_r2=N would_merge_r1+r2=N`.
pub fn write_attempts(out: &mut impl Write, a: &AttemptCounts) -> fmt::Result {
    let (mut tried, mut merged, mut ns) = (0u64, 0u64, 0u64);
    for (k, kind) in ATTEMPT_KINDS.iter().enumerate() {
        for (i, cause) in Cause::ALL.iter().enumerate() {
            let get = |t: &[[u64; Cause::ALL.len()]; 2]| {
                t.get(k).and_then(|row| row.get(i)).copied().unwrap_or(0)
            };
            let (t, m, n) = (get(&a.tried), get(&a.merged), get(&a.ns));
            if t == 0 {
                continue;
            }
            tried = tried.saturating_add(t);
            merged = merged.saturating_add(m);
            ns = ns.saturating_add(n);
            write_line(out, kind, cause.name(), t, m, n)?;
            if k == 0 {
                for r in Relax::ALL {
                    let w = a
                        .would_merge
                        .get(r.index())
                        .and_then(|row| row.get(i))
                        .copied()
                        .unwrap_or(0);
                    write!(out, " would_merge_{}={w}", r.name())?;
                }
            }
            writeln!(out)?;
        }
    }
    write_line(out, "all", "all", tried, merged, ns)?;
    writeln!(out)
}

fn write_line(
    out: &mut impl Write,
    kind: &str,
    cause: &str,
    tried: u64,
    merged: u64,
    ns: u64,
) -> fmt::Result {
    write!(
        out,
        "attempts kind={kind} cause={cause} tried={tried} merged={merged} failed={} \
         ns_total={ns} ns_per_attempt={}",
        tried.saturating_sub(merged),
        ns.checked_div(tried).unwrap_or(0)
    )
}
