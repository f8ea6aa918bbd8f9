// SPDX-License-Identifier: GPL-2.0

//! Merge statistics: why two touching VMAs stay separate, what
//! each store of the target's VMA tree did, counters over both, and how
//! many VMAs two proposed relaxations of the rules would save.
//!
//! Everything here follows Linux 7.3's `mm/vma.c`; each rule names the
//! kernel function it comes from. Like the rest of the engine it uses only
//! `core`, never allocates and never panics, so probes may call it. What it
//! must know about the kernel it runs in (the page size, the names of the
//! architecture's own `vm_flags` bits) comes from the glue as an [`Arch`].
//!
//! - [`flags`]: the `vm_flags` bits and their names.
//! - `rules`: [`unmerged_reasons`], [`three_way_reasons`] and
//!   [`moved_reasons`], the kernel's merge rules as a set of [`Reasons`],
//!   optionally under relaxed rules ([`Relax`]).
//! - `classify`: [`classify_store`], what one store of the tree did
//!   ([`StoreKind`]).
//! - `stats`: [`MergeStats`] and the `stats` and `unmerged` files'
//!   renderers ([`write_stats`], [`write_unmerged_line`]).
//! - `whatif`: [`WhatIf`], the relaxed rules applied to the VMAs there are
//!   now ([`write_whatif`]), and [`attempt_verdict`] for one merge attempt.
//! - `summary`: [`Summary`], the one screen to read first.
//! - `attempts`: [`AttemptCounts`], the kernel's own merge attempts,
//!   counted and timed per system call ([`write_attempts`]).

mod arch;
mod attempts;
mod cause;
mod classify;
pub mod flags;
mod rules;
mod stats;
mod summary;
mod whatif;

pub use arch::Arch;
pub use attempts::{write_attempts, AttemptCounts, ATTEMPT_KINDS};
pub use cause::Cause;
pub use classify::{classify_store, ShadowView, StoreEffect, StoreKind};
pub use flags::write_flag_names;
pub use rules::{
    moved_reasons, moved_reasons_under, three_way_reasons, three_way_reasons_under,
    unmerged_reasons, unmerged_reasons_under, Placed, Reason, Reasons, ReasonsDisplay, Relax,
};
pub use stats::{write_stats, write_unmerged_line, MergeStats, Totals};
pub use summary::{Summary, SummaryHead};
pub use whatif::{
    attempt_verdict, write_whatif, AttemptVerdict, RuleSetCounts, WhatIf, WhatIfResult,
};
