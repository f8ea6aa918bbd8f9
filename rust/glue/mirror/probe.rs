// SPDX-License-Identifier: GPL-2.0

//! What runs in probe context: the handlers' side of the mirror.
//!
//! Everything here may run in any context a kprobe handler runs in: NMI
//! (an int3 hit on x86 before the optimizer has replaced it, every hit on
//! riscv), or task context with preemption off (a jump-optimized probe),
//! on the stack of whatever task was deep in an mm path. So it
//!
//! * never sleeps, never waits for a lock (try-locks only; a failure marks
//!   the mirror stale) and never allocates, except the follow-mode exit
//!   check, which may use `GFP_ATOMIC` outside NMI;
//! * never writes the shadow on a store: it appends a record to
//!   [`Mirror::changes`] and, when enough wait, kicks the worker through
//!   irq_work ([`super::apply`] applies them);
//! * reads only what the write lock the kernel holds keeps stable (the
//!   stored VMA and what it points to).
//!
//! The C handlers in `rust/shim/probes.c` have already returned for every hit
//! that is not the target's.

use core::{
    ffi::c_void,
    sync::atomic::{AtomicU64, Ordering},
};
use kernel::bindings;

use super::{
    spin_n, Change, Mirror, ProposedVma, CHANGES_KICK, EXIT_SPIN_TRIES, MERGE_ARCH,
    RECORD_WAIT_TRIES,
};
use crate::engine::{
    changes::Pushed,
    events::{EventOp, Outcome},
    merge::{attempt_verdict, AttemptCounts, Cause, Placed, Relax},
    record::{FileRef, MergeAttrs, ObjectId, SpecialName, VmaRecord},
};
use crate::glue::{
    names::anon_name_id,
    probes,
    vma::{read_vma, vma_mm_and_range, xa_is_internal},
};
use crate::rangetree::{Gfp, Platform};

impl Mirror {
    /// Whether `tree` is the target's VMA tree.
    pub(crate) fn is_target_tree(&self, tree: *mut c_void) -> bool {
        !tree.is_null() && tree == self.target_tree.load(Ordering::Acquire)
    }

    /// A store of `entry` (a VMA or NULL) over `[index, last]` of `tree`:
    /// recorded, applied later (see [`crate::engine::changes`]).
    pub(crate) fn on_store(
        &self,
        tree: *mut c_void,
        index: usize,
        last: usize,
        entry: *mut c_void,
    ) {
        if !self.is_target_tree(tree) {
            return;
        }
        probes::note_stack_left();
        let cause = probes::current_cause();
        let change = if entry.is_null() {
            Change::Store {
                first: index,
                last,
                rec: None,
                cause,
            }
        } else if xa_is_internal(entry) {
            // Not a VMA: nothing the shadow can hold.
            Change::NotVma { first: index, last }
        } else {
            // SAFETY: Entries of an mm's VMA tree are VMAs, and the store is
            // made under that mm's write lock, so the VMA is stable.
            let (_, _, r) = unsafe { read_vma(entry.cast(), &self.ids, true) };
            Change::Store {
                first: index,
                last,
                rec: Some(r),
                cause,
            }
        };
        self.record(change);
    }

    /// Appends `c` to the changes waiting for the shadow; asks for a worker
    /// to apply them once [`CHANGES_KICK`] wait.
    ///
    /// A full ring means the target changes its VMAs faster than the
    /// worker applies them (a 64,000-VMA shadow under TCG can be that
    /// slow). Then the target waits here, spinning, for the worker (on
    /// another CPU) to make room: the target slows down rather than the
    /// mirror losing a change. The wait is bounded ([`RECORD_WAIT_TRIES`]),
    /// and there is none in NMI context, nor once the mirror is stale
    /// anyway. A change that still finds no room is lost: the mirror is
    /// marked stale and the next reader rebuilds the shadow.
    fn record(&self, c: Change) {
        let mut pushed = self.changes.push_if_room(c);
        if pushed.is_none() && !self.stale.load(Ordering::Acquire) && !probes::in_nmi() {
            self.kick_drain();
            pushed = spin_n(RECORD_WAIT_TRIES, || self.changes.push_if_room(c));
        }
        let kick = match pushed.unwrap_or_else(|| self.changes.push(c)) {
            Pushed::Waiting(n) => n >= CHANGES_KICK,
            Pushed::Full | Pushed::Busy => {
                self.mark_stale();
                true
            }
        };
        if kick {
            self.kick_drain();
        }
    }

    /// Asks for the worker, unless it was asked for and has not started.
    pub(super) fn kick_drain(&self) {
        if !self.drain_queued.swap(true, Ordering::AcqRel) {
            probes::kick_drain();
        }
    }

    /// A merge attempt of the kernel in the target's mm ended (its own
    /// verdict): counted, and timed, by kind and system call; for a new
    /// range also which relaxed rule sets would have merged it
    /// (`relaxed`, bit `Relax::index()` each).
    pub(crate) fn on_merge_attempt(
        &self,
        existing: bool,
        merged: bool,
        ns: u64,
        cause: u32,
        relaxed: u32,
    ) {
        if merged {
            let c = if existing {
                &self.kernel_existing_merges
            } else {
                &self.kernel_new_merges
            };
            c.fetch_add(1, Ordering::Relaxed);
        }
        let (k, i) = (usize::from(existing), cause as usize);
        let add = |t: &[[AtomicU64; Cause::ALL.len()]; 2], v: u64| {
            if let Some(c) = t.get(k).and_then(|row| row.get(i)) {
                c.fetch_add(v, Ordering::Relaxed);
            }
        };
        let [tried, won, time] = &self.attempts;
        add(tried, 1);
        add(won, u64::from(merged));
        add(time, ns);
        for (r, row) in self.would_merge.iter().enumerate() {
            if relaxed & (1 << r) != 0 {
                if let Some(c) = row.get(i) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Which rule sets of the what-if would merge the new range `p`
    /// proposes, with its neighbours as the kernel sees them (bit
    /// `Relax::index()` each).
    ///
    /// # Safety
    ///
    /// `p.prev` and `p.next` are null or VMAs of the target, whose mmap
    /// write lock the caller holds; `p.anon_name` is null or a live name.
    pub(crate) unsafe fn relaxed_verdict(&self, p: &ProposedVma) -> u32 {
        let Some(last) = p.end.checked_sub(1).filter(|&l| l >= p.start) else {
            return 0;
        };
        let rec = VmaRecord {
            vma: ObjectId::NONE,
            flags: p.flags as u64,
            pgoff: p.pgoff as u64,
            file: (!p.file.is_null()).then(|| FileRef {
                file: self.ids.id(p.file),
                dev: 0,
                ino: 0,
            }),
            anon_vma: self.ids.id(p.anon_vma),
            // SAFETY: Null or a live `anon_vma_name` (this function's
            // contract: vmg holds it).
            anon_name: unsafe { anon_name_id(&self.ids, p.anon_name) },
            special: SpecialName::default(),
            merge: MergeAttrs {
                mempolicy: p.mempolicy,
                uffd_ctx: self.ids.id(p.uffd_ctx),
                anon_vma_fork_child: p.fork_child,
                has_close: false,
                anon_pgoff_shift: (p.anon_pgoff as u64)
                    .wrapping_sub((p.start >> bindings::PAGE_SHIFT) as u64),
                uffd_no_event_remap: p.uffd_no_event_remap,
                anon_vma_unshared: p.anon_vma_unshared,
            },
        };
        let read = |v: *const bindings::vm_area_struct| {
            (!v.is_null()).then(|| {
                // SAFETY: A VMA of the target, under its mmap write lock
                // (this function's contract).
                let (start, end, rec) = unsafe { read_vma(v, &self.ids, true) };
                (start, end.saturating_sub(1), rec)
            })
        };
        let (prev, next) = (read(p.prev), read(p.next));
        fn placed(t: &(usize, usize, VmaRecord)) -> Placed<'_> {
            Placed {
                rec: &t.2,
                first: t.0,
                last: t.1,
            }
        }
        let v = attempt_verdict(
            &MERGE_ARCH,
            Placed {
                rec: &rec,
                first: p.start,
                last,
            },
            p.copied,
            prev.as_ref().map(placed),
            next.as_ref().map(placed),
        );
        Relax::ALL
            .iter()
            .filter(|&&r| v.merges(r))
            .fold(0, |m, r| m | (1 << r.index()))
    }

    /// The merge attempts counted since the last reset.
    pub(crate) fn attempt_counts(&self) -> AttemptCounts {
        let read = |t: &[[AtomicU64; Cause::ALL.len()]; 2]| {
            t.each_ref()
                .map(|row| row.each_ref().map(|c| c.load(Ordering::Relaxed)))
        };
        let [tried, merged, ns] = &self.attempts;
        AttemptCounts {
            tried: read(tried),
            merged: read(merged),
            ns: read(ns),
            would_merge: self
                .would_merge
                .each_ref()
                .map(|row| row.each_ref().map(|c| c.load(Ordering::Relaxed))),
        }
    }

    /// Zeroes the merge attempts.
    pub(crate) fn reset_attempts(&self) {
        for c in self.attempts.iter().flatten().flatten() {
            c.store(0, Ordering::Relaxed);
        }
        for c in self.would_merge.iter().flatten() {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// `__vma_start_write(vma)`: the VMA is about to change in place.
    pub(crate) fn on_vma_write(&self, vma: *const bindings::vm_area_struct) {
        // SAFETY: The probe gets the VMA `__vma_start_write` was called
        // with, under its mm's write lock.
        let (mm, start, end) = unsafe { vma_mm_and_range(vma) };
        if !self.is_target_mm(mm) || end <= start {
            return;
        }
        self.record(Change::Dirty {
            first: start,
            last: end - 1,
        });
    }

    /// `exit_mmap(mm)`: the target's address space is being torn down.
    pub(crate) fn on_exit_mmap(&self, mm: *mut bindings::mm_struct) {
        if mm.is_null() || mm != self.target_mm.load(Ordering::Acquire) {
            return;
        }
        let follow = self.follow.load(Ordering::Acquire);
        let mut live = if follow {
            spin_n(EXIT_SPIN_TRIES, || self.live.try_lock())
        } else {
            self.live.try_lock()
        };
        if follow {
            // The exit check compares the shadow with the tree, which is
            // gone after this: apply what is waiting here. Without
            // sleeping: from the pool, or GFP_ATOMIC where allowed.
            let gfp = if probes::in_nmi() {
                Gfp::PoolOnly
            } else {
                Gfp::Atomic
            };
            let applied = match (
                live.as_mut(),
                spin_n(EXIT_SPIN_TRIES, || self.shadow.try_write()),
            ) {
                (Some(l), Some(mut w)) => self.apply_changes(l, &mut w, gfp),
                _ => false,
            };
            // SAFETY: `exit_mmap(mm)` runs once the mm has no users left:
            // nobody changes its tree any more, and it is still whole.
            let ok =
                applied && !self.stale.load(Ordering::Acquire) && unsafe { self.exit_check(mm) };
            let c = if ok {
                &self.exit_checks_ok
            } else {
                &self.exit_checks_failed
            };
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.exit_seen.store(true, Ordering::Release);
        self.stale.store(true, Ordering::Release);
        if let Some(mut live) = live {
            live.events
                .push(EventOp::Exit, 0, usize::MAX, Outcome::Applied);
        }
        // What is still waiting is applied by the worker, or by the next
        // reader before it rebuilds the shadow.
        if !self.changes.is_empty() {
            self.kick_drain();
        }
    }

    /// Compares the shadow's ranges and VMA identities with `mm`'s tree
    /// (on nommu, the tree's ranges, as `check` does).
    ///
    /// Runs in probe context: a read-only walk of both trees under RCU, no
    /// allocation. Attributes are not compared (dirty ranges may be waiting
    /// for a reader); ranges and identities are what the stores keep.
    ///
    /// # Safety
    ///
    /// Nobody changes `mm`'s VMA tree during the call (`exit_mmap` entry).
    unsafe fn exit_check(&self, mm: *mut bindings::mm_struct) -> bool {
        let g = self.shadow.platform().read_lock();
        let mut shadow = self.shadow.iter(&g);
        let mut ok = true;
        // SAFETY: The caller guarantees the tree is stable; every entry of
        // an mm's tree is a VMA.
        unsafe {
            crate::glue::vma::walk_raw(mm, |vma, start, end| {
                let (_, _, rec) = read_vma(vma, &self.ids, true);
                match shadow.next() {
                    Some((s, l, r)) if s == start && l == end - 1 && r.vma == rec.vma => {}
                    _ => ok = false,
                }
            })
        };
        ok && shadow.next().is_none()
    }

    /// Whether a new child (`child` mm, forked by a process with the
    /// `parent` mm) is to be followed: `follow` mode, a new mm (not a
    /// thread, not vfork), forked by the followed process or the root.
    pub(crate) fn wants_child(
        &self,
        child: *mut bindings::mm_struct,
        parent: *mut bindings::mm_struct,
    ) -> bool {
        self.follow.load(Ordering::Acquire)
            && !child.is_null()
            && child != parent
            && (parent == self.target_mm.load(Ordering::Acquire)
                || parent == self.root_mm.load(Ordering::Acquire))
    }

    /// The current attach generation ([`Mirror::attach_gen`]).
    pub(crate) fn attach_gen(&self) -> u64 {
        self.attach_gen.load(Ordering::Acquire)
    }

    /// Whether `mm` is the target's mm.
    pub(crate) fn is_target_mm(&self, mm: *mut bindings::mm_struct) -> bool {
        !mm.is_null() && mm == self.target_mm.load(Ordering::Acquire)
    }

    /// Whether `mm` is the followed root process's mm.
    pub(crate) fn is_root_mm(&self, mm: *mut bindings::mm_struct) -> bool {
        !mm.is_null() && mm == self.root_mm.load(Ordering::Acquire)
    }

    /// Marks the mirror stale (from a probe).
    pub(crate) fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
    }
}
