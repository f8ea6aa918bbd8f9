// SPDX-License-Identifier: GPL-2.0

//! Applying the target's recorded changes to the shadow.
//!
//! One consumer at a time (holding [`Live`] and the shadow's writer): the
//! worker the probes kick, every reader before it answers, and the exit
//! probe in `follow` mode. See the parent module for who runs when.

use core::sync::atomic::Ordering;
use kernel::prelude::*;

use super::{spin, Change, Live, Mirror, Writer, APPLY_CHUNK, CHANGES, CHANGES_KICK, POOL_STORES};
use crate::engine::{
    events::{EventOp, Outcome},
    merge::{classify_store, Cause, ShadowView},
    record::{ObjectId, VmaRecord},
};
use crate::glue::{deferred, probes};
use crate::rangetree::Gfp;

/// The shadow as [`classify_store`] sees it before a store is applied.
struct WriterView<'a, 'b>(&'a Writer<'b>);

impl ShadowView for WriterView<'_, '_> {
    fn find(&self, from: usize, max: usize) -> Option<(usize, usize, ObjectId)> {
        self.0.find(from, max).map(|(a, b, r)| (a, b, r.vma))
    }
}

/// The shadow as it would be with `vma` stored over `[first, last]`, a
/// range it has nothing in: how a clear right after that store is judged
/// without making the store (see [`Mirror::apply_changes`]).
struct WithEntry<'a, 'b> {
    shadow: WriterView<'a, 'b>,
    first: usize,
    last: usize,
    vma: ObjectId,
}

impl ShadowView for WithEntry<'_, '_> {
    fn find(&self, from: usize, max: usize) -> Option<(usize, usize, ObjectId)> {
        let base = self.shadow.find(from, max);
        let ours =
            (self.last >= from && self.first <= max).then_some((self.first, self.last, self.vma));
        match (base, ours) {
            (Some(b), Some(o)) => Some(if o.0 < b.0 { o } else { b }),
            (b, o) => b.or(o),
        }
    }
}

impl Mirror {
    /// Takes the next waiting store, at most `left` more changes in all.
    ///
    /// [`Change::Dirty`] records on the way are applied at once: they only
    /// add to the dirty set, which no store, judgement or event reads, so
    /// they commute with the stores around them. (So a store and the clear
    /// that undoes it are seen side by side even with the `munmap`'s
    /// `__vma_start_write` between them.)
    fn take_change(&self, live: &mut Live, left: &mut usize) -> Option<Change> {
        loop {
            *left = left.checked_sub(1)?;
            match self.changes.pop(&mut live.consumer)? {
                Change::Dirty { first, last } => live.dirty.insert(first, last),
                c => return Some(c),
            }
        }
    }

    /// Applies the waiting changes to the shadow, oldest first, as many as
    /// the ring holds (so that a consumer racing a busy target ends).
    /// Called with the target's mmap read lock held, or with preemption
    /// off (see [`Mirror::apply_waiting`]).
    /// Allocates with `gfp`. Returns false when one could not be applied
    /// (the mirror is then stale).
    ///
    /// A store followed at once by a clear of the same range, into a range
    /// the shadow has nothing in (a short-lived mapping: mmap, then
    /// munmap), leaves the shadow as it was: both are judged and counted
    /// as if made, and neither is written.
    pub(super) fn apply_changes(&self, live: &mut Live, w: &mut Writer<'_>, gfp: Gfp) -> bool {
        self.apply_some(live, w, gfp, CHANGES)
    }

    /// [`Mirror::apply_changes`], at most `limit` changes.
    fn apply_some(&self, live: &mut Live, w: &mut Writer<'_>, gfp: Gfp, limit: usize) -> bool {
        let mut ok = true;
        let mut left = limit;
        let mut next = self.take_change(live, &mut left);
        while let Some(c) = next {
            next = self.take_change(live, &mut left);
            if let Some(after) = next {
                if self.undone_store(live, w, c, after) {
                    next = self.take_change(live, &mut left);
                    continue;
                }
            }
            ok &= self.apply_change(live, w, c, gfp);
        }
        ok
    }

    /// Judges and counts store `c` and clear `after` without writing
    /// either, when `after` undoes `c` exactly (see
    /// [`Mirror::apply_changes`]); false (nothing done) otherwise.
    fn undone_store(&self, live: &mut Live, w: &Writer<'_>, c: Change, after: Change) -> bool {
        let (
            Change::Store {
                first,
                last,
                rec: Some(rec),
                cause,
            },
            Change::Store {
                first: f2,
                last: l2,
                rec: None,
                cause: cause2,
            },
        ) = (c, after)
        else {
            return false;
        };
        if f2 != first || l2 != last || w.find(first, last).is_some() {
            return false;
        }
        let what = Self::judge(live, &WriterView(w), first, last, Some(rec), cause);
        self.log(live, EventOp::Store, first, last, Outcome::Applied, what);
        let with = WithEntry {
            shadow: WriterView(w),
            first,
            last,
            vma: rec.vma,
        };
        let what = Self::judge(live, &with, first, last, None, cause2);
        self.log(live, EventOp::Clear, first, last, Outcome::Applied, what);
        Self::mark_dirty(live, first, last);
        true
    }

    /// Judges the store of `rec` (a clear: `None`) over `[first, last]` on
    /// the shadow as `view` shows it before the store, made in system call
    /// `cause`, and counts it; returns what it was and the call's name, for
    /// the event log.
    fn judge(
        live: &mut Live,
        view: &impl ShadowView,
        first: usize,
        last: usize,
        rec: Option<VmaRecord>,
        cause: u32,
    ) -> (&'static str, &'static str) {
        let cause = Cause::from_index(cause);
        let effect = classify_store(view, first, last, rec.map(|r| r.vma))
            .stack_growth(rec.map_or(0, |r| r.flags))
            .in_syscall(cause);
        live.merge.count_store(rec.is_none(), &effect);
        live.merge.count_cause(&effect, cause);
        (effect.kind.name(), cause.name())
    }

    /// Logs one applied (or not) change in `events`.
    fn log(
        &self,
        live: &mut Live,
        op: EventOp,
        first: usize,
        last: usize,
        outcome: Outcome,
        what: (&'static str, &'static str),
    ) {
        let seq = live.events.push_what(op, first, last, outcome, what);
        self.events_total.store(seq, Ordering::Relaxed);
    }

    /// Applies one change; false when it could not be applied.
    fn apply_change(&self, live: &mut Live, w: &mut Writer<'_>, c: Change, gfp: Gfp) -> bool {
        let (op, first, last, what, applied) = match c {
            // Not returned by `take_change`; harmless if it were.
            Change::Dirty { first, last } => {
                live.dirty.insert(first, last);
                return true;
            }
            // Not a VMA: nothing the shadow can hold.
            Change::NotVma { first, last } => (EventOp::Store, first, last, ("", ""), false),
            Change::Store {
                first,
                last,
                rec,
                cause,
            } => {
                let op = if rec.is_some() {
                    EventOp::Store
                } else {
                    EventOp::Clear
                };
                // What the store means, judged on the shadow before it.
                let what = Self::judge(live, &WriterView(w), first, last, rec, cause);
                (
                    op,
                    first,
                    last,
                    what,
                    w.store(first, last, rec, gfp).is_ok(),
                )
            }
        };
        let outcome = if applied {
            Outcome::Applied
        } else {
            self.mark_stale();
            Outcome::Stale
        };
        Self::mark_dirty(live, first, last);
        self.log(live, op, first, last, outcome, what);
        applied
    }

    /// A store over `[first, last]`: its VMA's fields may be finished after
    /// the store, so readers re-read the range.
    fn mark_dirty(live: &mut Live, first: usize, last: usize) {
        #[cfg(CONFIG_MMU)]
        live.dirty.insert(first, last);
        // Without an MMU, split_vma() also moves the neighbouring old VMA's
        // vm_start and vm_pgoff in place, with no store of its own and no
        // per-VMA lock to probe: re-read the VMAs touching the range too.
        #[cfg(not(CONFIG_MMU))]
        live.dirty
            .insert(first.saturating_sub(1), last.saturating_add(1));
    }

    /// Drops every waiting change unapplied: they are in a snapshot that
    /// replaces the shadow. Called under the target's mmap read lock, so no
    /// producer of the target adds any meanwhile.
    pub(super) fn discard_changes(&self, live: &mut Live) {
        let mut left = CHANGES;
        while self.take_change(live, &mut left).is_some() {}
    }

    /// Applies what is waiting, from process context that does not hold
    /// the target's mm (the worker; a resync, exit or detach about to drop
    /// the shadow).
    ///
    /// In chunks, each with preemption off and `GFP_ATOMIC` allocations:
    /// the `exit_mmap` probe of a `follow` target must apply what waits
    /// before the tree is gone, and spins for [`Live`] and the writer to do
    /// so. A holder that could be preempted on the exiting task's CPU might
    /// never run again during that spin; one with preemption off always
    /// finishes its chunk. (Readers holding the target's mm need not: its
    /// `exit_mmap` cannot begin while they hold it.)
    pub(super) fn apply_waiting(&self) -> Result {
        // Bounded, so that a target that keeps changing cannot keep a
        // consumer here.
        for _ in 0..CHANGES / APPLY_CHUNK + 1 {
            let more = {
                // Preemption off, then the locks; if they are busy, sleep
                // with preemption on and try again.
                // (Dropped in reverse: the locks go before preemption is
                // back on.)
                let (_off, mut live, mut w) = spin(|| {
                    let off = probes::preempt_off();
                    let live = self.live.try_lock()?;
                    let w = self.shadow.try_write()?;
                    Some((off, live, w))
                })?;
                self.apply_some(&mut live, &mut w, Gfp::Atomic, APPLY_CHUNK);
                let want = POOL_STORES * w.worst_case_nodes_per_store();
                // Short of memory: the exit probe then applies from what
                // there is, or fails and says so.
                let _ = w.fill_pool(want, Gfp::Atomic);
                !self.changes.is_empty()
            };
            if !more {
                return Ok(());
            }
            probes::cond_resched();
        }
        Ok(())
    }

    /// The worker the probes kick once [`CHANGES_KICK`] changes wait: it
    /// applies them in process context, without the target's mmap lock
    /// (every change carries what it needs), so the target never waits for
    /// it. Kicks itself again if the ring filled up meanwhile.
    pub(crate) fn drain_worker(&self) {
        self.drain_queued.store(false, Ordering::Release);
        // Busy: a reader holds the lock, and applies the changes itself.
        let _ = self.apply_waiting();
        deferred::drain();
        if self.changes.len() >= CHANGES_KICK {
            self.kick_drain();
        }
    }
}
