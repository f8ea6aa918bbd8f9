// SPDX-License-Identifier: GPL-2.0

//! The mirror: one target process, its shadow VMA tree kept live by the
//! probes in [`super::probes`], and the debugfs files that show it.
//!
//! # Who touches what
//!
//! * Probe handlers (any context, NMI included) only *record* the target's
//!   changes in [`Mirror::changes`] (a fixed ring: no lock, no allocation,
//!   no tree write; [`crate::engine::changes`]). The target pays for that
//!   and for the probes, not for rebuilding the shadow.
//! * The records are applied to the shadow in order by one consumer at a
//!   time (holding the [`Live`] try-lock and the shadow's writer), always
//!   in a context that may allocate:
//!   - a worker, kicked through irq_work when [`CHANGES_KICK`] records
//!     wait, without the target's mmap lock (each record carries what it
//!     needs), so the target never waits for it;
//!   - every reader, under the target's mmap read lock, which excludes the
//!     target's writers: once it has applied what waits, the shadow holds
//!     every change up to now, then it re-reads the dirty ranges;
//!   - the `exit_mmap` probe in `follow` mode, for its exit check, from the
//!     node pool or `GFP_ATOMIC`.
//! * Process context (debugfs readers and writers) holds [`Mirror::state`]
//!   and, while it rebuilds or refreshes the shadow, the target's mmap read
//!   lock.
//! * irq_work (hard-irq context) frees retired nodes and queues the worker.
//!
//! # Attaching
//!
//! The target's tree and mm are published to the handlers and the probes
//! are registered *before* the snapshot is taken under the mmap read lock,
//! and the snapshot replaces the shadow before that lock is released. A
//! change made before the lock was taken is in the snapshot; one made after
//! it is released is seen by a probe. No change falls between the two.

use core::{
    ffi::c_void,
    fmt,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering},
};
use kernel::{
    bindings,
    mm::{Mm, MmWithUser, MmapReadGuard},
    new_mutex,
    prelude::*,
    sync::{aref::ARef, Arc, Mutex},
    uaccess::UserSliceReader,
};

use super::{
    deferred::DeferredPlatform,
    ids::IdKey,
    names::NameTable,
    probes,
    rawfile::{Command, Lines, Show},
    target::{current_pid_max, resolve, Target},
    vma::{kernel_empty_area, layout, read_vma, vma_mm_and_range, walk},
};
use crate::engine::{
    changes::{ChangeRing, Consumer, Pushed},
    dirty::DirtySet,
    events::{EventLog, EventOp, Outcome},
    maps::{vma_name, write_line, write_pad, write_prefix, MapsFormat, MmLayout, VmaName},
    merge::{
        classify_store, unmerged_reasons, write_stats, write_unmerged_line, Cause, MergeStats,
        ShadowView, Totals,
    },
    record::{ObjectId, VmaRecord},
    target::{parse_target, TargetCmd, TARGET_MAX_LEN},
    trylock::TryLock,
};
use crate::rangetree::{Gfp, Platform, RangeTree, RcuRangeTree, RcuWriter};

/// This kernel's maps format.
const MAPS_FORMAT: MapsFormat = MapsFormat {
    page_shift: bindings::PAGE_SHIFT,
    nommu: cfg!(not(CONFIG_MMU)),
};

/// The shadow: the target's VMAs, as inclusive ranges.
type Shadow = RcuRangeTree<VmaRecord, DeferredPlatform>;
type Writer<'a> = RcuWriter<'a, VmaRecord, DeferredPlatform>;

/// The pool is kept at this many worst-case stores' worth of nodes: what
/// the exit probe may apply without allocating (in NMI context).
const POOL_STORES: usize = 4;
/// Tries for a try-lock from process context before sleeping ([`spin`]).
const SPIN_TRIES: usize = 1 << 16;
/// Rounds of [`SPIN_TRIES`] and a 1 ms sleep before `EBUSY`.
const SPIN_ROUNDS: usize = 1000;

/// The highest user address `check` compares gap searches up to (x86_64's
/// 47-bit user space; other guests fit below it).
const USER_TOP: usize = (1 << 47) - 1;

/// How many changes can wait between the probes and the shadow.
const CHANGES: usize = 4096;
/// A worker is asked to apply the waiting changes once this many wait.
const CHANGES_KICK: usize = 256;
/// Changes applied per chunk with preemption off ([`Mirror::apply_waiting`]).
const APPLY_CHUNK: usize = 64;
/// Tries for [`Live`] and the shadow's writer from the `exit_mmap` probe:
/// long enough for a consumer to finish a chunk on another CPU.
const EXIT_SPIN_TRIES: usize = 1 << 22;

/// One change of the target's VMA tree, as a probe records it.
#[derive(Clone, Copy)]
enum Change {
    /// A store over `[first, last]`: a VMA (its record, read under the
    /// mmap write lock the store was made under) or, with `None`, a clear.
    /// `cause` is the system call it was made in
    /// ([`Cause::from_index`]).
    Store {
        first: usize,
        last: usize,
        rec: Option<VmaRecord>,
        cause: u32,
    },
    /// A store of something that is not a VMA (the shadow cannot hold it).
    NotVma { first: usize, last: usize },
    /// `__vma_start_write()` on the VMA over `[first, last]`: re-read it.
    Dirty { first: usize, last: usize },
}

/// The changes waiting for the shadow.
type Changes = ChangeRing<Change, CHANGES>;

/// What applying the target's changes updates, under a try-lock: the
/// consumer of [`Mirror::changes`] (one at a time: a worker, a reader, or
/// the exit probe) and what it keeps.
struct Live {
    /// The right to take changes out of [`Mirror::changes`].
    consumer: Consumer,
    dirty: DirtySet,
    /// On the heap: 16 KiB, a whole kernel stack (see [`new_event_log`]).
    events: KBox<EventLog>,
    /// What the stores did (`stats`); kept across targets until `reset`.
    merge: MergeStats,
}

/// A range of the shadow and its record.
type Range = (usize, usize, VmaRecord);

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

/// What is mirrored.
struct Attached {
    mm: ARef<Mm>,
    pid: u32,
    comm: [u8; 16],
    follow: bool,
    layout: MmLayout,
    /// The process is gone; the shadow was emptied.
    exited: bool,
}

impl Attached {
    /// A freshly resolved target; its layout is read by the first resync.
    fn new(t: Target, follow: bool) -> Self {
        Self {
            mm: t.mm,
            pid: t.pid,
            comm: t.comm,
            follow,
            layout: MmLayout::default(),
            exited: false,
        }
    }
}

/// Process-context state, under [`Mirror::state`].
struct MirrorState {
    target: Option<Attached>,
    /// File paths and anon names of the shadow's VMAs.
    names: NameTable,
    /// Full rebuilds of the shadow from the kernel's tree.
    resyncs: u64,
    /// Whether the probes are registered (only while attached).
    registered: bool,
    /// `verdicts on` was written to `stats`: the merge-verdict probes are
    /// registered while attached.
    verdicts: bool,
    /// The probes' total `nmissed` when the shadow was last known good.
    nmissed_seen: usize,
    /// In `follow` mode, the pid `follow` was given.
    root_pid: u32,
}

/// The mirror.
#[pin_data(PinnedDrop)]
pub(crate) struct Mirror {
    ids: IdKey,
    shadow: Shadow,
    /// The target's changes, from the probes to whoever applies them.
    changes: KVBox<Changes>,
    /// A worker was asked to apply [`Mirror::changes`] and has not started.
    drain_queued: AtomicBool,
    live: TryLock<Live>,
    /// `&target_mm->mm_mt`, or null: what the store handlers filter on.
    target_tree: AtomicPtr<c_void>,
    /// The target's mm, or null: what the other handlers filter on.
    target_mm: AtomicPtr<bindings::mm_struct>,
    /// A change could not be applied: the next reader resyncs.
    stale: AtomicBool,
    /// `exit_mmap()` ran on the target's mm (exit, or exec's old mm).
    exit_seen: AtomicBool,
    /// Events logged so far, readable without the [`Live`] lock.
    events_total: AtomicU64,
    /// `follow` mode: move to each child the followed processes fork.
    follow: AtomicBool,
    /// The process `follow` was given (its mm): its forks are followed too.
    root_mm: AtomicPtr<bindings::mm_struct>,
    /// Exit checks: at each mirrored mm's `exit_mmap`, the shadow compared
    /// with the kernel's tree (ranges and VMA identities).
    exit_checks_ok: AtomicU64,
    exit_checks_failed: AtomicU64,
    /// The kernel's verdicts in the target: `vma_merge_new_range()` and
    /// `vma_modify()` calls that merged.
    kernel_new_merges: AtomicU64,
    kernel_existing_merges: AtomicU64,
    #[pin]
    state: Mutex<MirrorState>,
}

/// Waits for a try-lock in process context (may sleep): spins a while,
/// then sleeps a millisecond between rounds. The holders always make
/// progress (a probe handler, a consumer applying a chunk of changes, a
/// reader), so this ends; `EBUSY` after about a second all the same.
fn spin<T>(mut f: impl FnMut() -> Option<T>) -> Result<T> {
    for _ in 0..SPIN_ROUNDS {
        if let Some(t) = spin_n(SPIN_TRIES, &mut f) {
            return Ok(t);
        }
        // SAFETY: Process context, no spinlock held: sleeping is allowed.
        unsafe { bindings::msleep(1) };
    }
    Err(EBUSY)
}

/// Calls `f` until it gives a value, at most `tries` times.
fn spin_n<T>(tries: usize, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..tries {
        if let Some(t) = f() {
            return Some(t);
        }
        core::hint::spin_loop();
    }
    None
}

/// Whether `e` is one of the maple tree's internal entries (never a VMA).
fn xa_is_internal(e: *mut c_void) -> bool {
    e.addr() & 3 == 2
}

impl Mirror {
    /// A detached mirror with an empty shadow.
    pub(crate) fn new() -> Result<impl PinInit<Self, Error>> {
        let (changes, consumer) = new_changes()?;
        Ok(try_pin_init!(Self {
            ids: IdKey::new(),
            shadow: RangeTree::new(DeferredPlatform).into_rcu(),
            changes,
            drain_queued: AtomicBool::new(false),
            live: TryLock::new(Live {
                consumer,
                dirty: DirtySet::new(),
                events: new_event_log()?,
                merge: MergeStats::default(),
            }),
            target_tree: AtomicPtr::new(core::ptr::null_mut()),
            target_mm: AtomicPtr::new(core::ptr::null_mut()),
            stale: AtomicBool::new(false),
            exit_seen: AtomicBool::new(false),
            events_total: AtomicU64::new(0),
            follow: AtomicBool::new(false),
            root_mm: AtomicPtr::new(core::ptr::null_mut()),
            exit_checks_ok: AtomicU64::new(0),
            exit_checks_failed: AtomicU64::new(0),
            kernel_new_merges: AtomicU64::new(0),
            kernel_existing_merges: AtomicU64::new(0),
            state <- new_mutex!(MirrorState {
                target: None,
                names: NameTable::new(),
                resyncs: 0,
                registered: false,
                verdicts: false,
                nmissed_seen: 0,
                root_pid: 0,
            }),
        }))
    }

    // ---- probe side: any context, never waits -------------------------

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
    /// to apply them once [`CHANGES_KICK`] wait. A change that finds the
    /// ring full is lost: the mirror is marked stale (the next reader
    /// rebuilds the shadow from the kernel's tree).
    fn record(&self, c: Change) {
        let kick = match self.changes.push(c) {
            Pushed::Waiting(n) => n >= CHANGES_KICK,
            Pushed::Full | Pushed::Busy => {
                self.stale.store(true, Ordering::Release);
                true
            }
        };
        if kick && !self.drain_queued.swap(true, Ordering::AcqRel) {
            probes::kick_drain();
        }
    }

    /// The kernel merged in the target's mm (its own verdict).
    pub(crate) fn on_kernel_merge(&self, existing: bool) {
        let c = if existing {
            &self.kernel_existing_merges
        } else {
            &self.kernel_new_merges
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// `__vma_start_write(vma)`: the VMA is about to change in place.
    pub(crate) fn on_vma_write(&self, vma: *const bindings::vm_area_struct) {
        // SAFETY: The probe gets the VMA `__vma_start_write` was called
        // with, under its mm's write lock.
        let (mm, start, end) = unsafe { vma_mm_and_range(vma) };
        if mm.is_null() || mm != self.target_mm.load(Ordering::Acquire) || end <= start {
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
        if !self.changes.is_empty() && !self.drain_queued.swap(true, Ordering::AcqRel) {
            probes::kick_drain();
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
            super::vma::walk_raw(mm, |vma, start, end| {
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

    /// In a new child of the followed process, or in the target right after
    /// exec, before the first user instruction: move the mirror to the
    /// current process (its mm now) and snapshot.
    pub(crate) fn follow_current(&self) {
        // Not `lock()`: a detach holds the state lock while it waits for
        // this work to finish (`probes::unregister`), having unpublished
        // the mirror first. So wait for the lock only while the probes are
        // live, and give the move up once they are going.
        let mut st = loop {
            if let Some(st) = self.state.try_lock() {
                break st;
            }
            if !probes::live() {
                return;
            }
            // SAFETY: Task work runs in process context, where sleeping is
            // allowed.
            unsafe { bindings::msleep(1) };
        };
        let Some(follow) = st.target.as_ref().map(|a| a.follow) else {
            return;
        };
        // SAFETY: `current` is valid; `get_current` has no requirements.
        let pid = unsafe {
            bindings::__task_pid_nr_ns(
                bindings::get_current(),
                bindings::pid_type_PIDTYPE_TGID,
                core::ptr::null_mut(),
            )
        };
        let Ok(t) = u32::try_from(pid).map_err(|_| EINVAL).and_then(resolve) else {
            return;
        };
        if follow && t.pid == st.root_pid {
            // The root itself exec'd: its forks are followed from its new mm.
            self.root_mm.store(t.mm.as_raw(), Ordering::Release);
        }
        st.target = Some(Attached::new(t, follow));
        if self.resync(&mut st).is_err() {
            self.stale.store(true, Ordering::Release);
        }
    }

    // ---- applying the changes: any consumer --------------------------

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
    fn apply_changes(&self, live: &mut Live, w: &mut Writer<'_>, gfp: Gfp) -> bool {
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
        let cause = Cause::from_index(cause);
        let stored = classify_store(&WriterView(w), first, last, Some(rec.vma))
            .stack_growth(rec.flags)
            .in_syscall(cause);
        let with = WithEntry {
            shadow: WriterView(w),
            first,
            last,
            vma: rec.vma,
        };
        let cause2 = Cause::from_index(cause2);
        let cleared = classify_store(&with, first, last, None)
            .stack_growth(0)
            .in_syscall(cause2);
        for (op, effect, cause) in [
            (EventOp::Store, stored, cause),
            (EventOp::Clear, cleared, cause2),
        ] {
            live.merge.count_store(op == EventOp::Clear, &effect);
            live.merge.count_cause(&effect, cause);
            let seq = live.events.push_what(
                op,
                first,
                last,
                Outcome::Applied,
                (effect.kind.name(), cause.name()),
            );
            self.events_total.store(seq, Ordering::Relaxed);
        }
        Self::mark_dirty(live, first, last);
        true
    }

    /// Applies one change; false when it could not be applied.
    fn apply_change(&self, live: &mut Live, w: &mut Writer<'_>, c: Change, gfp: Gfp) -> bool {
        let (op, first, last, rec, cause) = match c {
            // Not returned by `take_change`; harmless if it were.
            Change::Dirty { first, last } => {
                live.dirty.insert(first, last);
                return true;
            }
            Change::NotVma { first, last } => (EventOp::Store, first, last, None, None),
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
                (op, first, last, rec, Some(Cause::from_index(cause)))
            }
        };
        let mut what = ("", "");
        let applied = match cause {
            // Not a VMA: nothing the shadow can hold.
            None => false,
            Some(cause) => {
                // What the store means, judged on the shadow before it.
                let effect = classify_store(&WriterView(w), first, last, rec.map(|r| r.vma))
                    .stack_growth(rec.map_or(0, |r| r.flags))
                    .in_syscall(cause);
                live.merge.count_store(rec.is_none(), &effect);
                live.merge.count_cause(&effect, cause);
                what = (effect.kind.name(), cause.name());
                w.store(first, last, rec, gfp).is_ok()
            }
        };
        let outcome = if applied {
            Outcome::Applied
        } else {
            self.stale.store(true, Ordering::Release);
            Outcome::Stale
        };
        Self::mark_dirty(live, first, last);
        let seq = live.events.push_what(op, first, last, outcome, what);
        self.events_total.store(seq, Ordering::Relaxed);
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
    fn discard_changes(&self, live: &mut Live) {
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
    fn apply_waiting(&self) -> Result {
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
        super::deferred::drain();
        if self.changes.len() >= CHANGES_KICK && !self.drain_queued.swap(true, Ordering::AcqRel) {
            probes::kick_drain();
        }
    }

    // ---- process side --------------------------------------------------

    /// Publishes (or, with `None`, withdraws) the target to the handlers.
    fn publish(&self, mm: Option<&MmWithUser>) {
        let (mm, tree) = match mm {
            Some(m) => {
                let raw = m.as_raw();
                // SAFETY: `raw` is a valid mm; `mm_mt` is one of its fields.
                (raw, unsafe {
                    (&raw mut (*raw).__bindgen_anon_1.mm_mt).cast::<c_void>()
                })
            }
            None => (core::ptr::null_mut(), core::ptr::null_mut()),
        };
        self.target_mm.store(mm, Ordering::Release);
        self.target_tree.store(tree, Ordering::Release);
        probes::set_filter(mm, tree, self.root_mm.load(Ordering::Acquire));
    }

    /// Rebuilds the shadow from the target's VMA tree.
    ///
    /// When the mm has no users but the pid still resolves, the process
    /// exec'd: the target moves to its new mm. When it does not resolve,
    /// the target exited: `ESRCH`.
    fn resync(&self, st: &mut MirrorState) -> Result {
        let MirrorState {
            target,
            names,
            resyncs,
            nmissed_seen,
            ..
        } = st;
        let a = target.as_mut().ok_or(EINVAL)?;
        // The changes made before this are counted and logged first (the
        // shadow they are applied to is replaced below).
        self.apply_waiting()?;
        let user = match a.mm.mmget_not_zero() {
            Some(u) => u,
            None => {
                let t = resolve(a.pid).map_err(|_| ESRCH)?;
                a.mm = t.mm;
                a.comm = t.comm;
                a.mm.mmget_not_zero().ok_or(ESRCH)?
            }
        };
        // Publish first: a store after the lock below is seen by a probe.
        self.publish(Some(&user));
        let lock = user.mmap_read_lock();
        names.clear();
        let entries = self.snapshot(&lock, &user, names)?;
        let fresh = RangeTree::bulk_build(DeferredPlatform, entries.iter().copied(), Gfp::Kernel)
            .map_err(|_| ENOMEM)?;
        drop(entries);
        a.layout = layout(&lock, &user);
        {
            let mut live = spin(|| self.live.try_lock())?;
            let mut w = spin(|| self.shadow.try_write())?;
            // Dense, in O(n), then published whole: readers see the old
            // shadow or the new one, never a mix (seed 004: bulk build).
            w.replace(fresh);
            fill(&mut w)?;
            // Made between the publication and the lock: in the snapshot.
            self.discard_changes(&mut live);
            live.dirty.clear();
            live.events
                .push(EventOp::Resync, 0, usize::MAX, Outcome::Applied);
            // Under the mmap lock: no handler for the target can set these
            // between the snapshot and here.
            self.stale.store(false, Ordering::Release);
            self.exit_seen.store(false, Ordering::Release);
        }
        drop(lock);
        *nmissed_seen = probes::nmissed_total();
        *resyncs += 1;
        Ok(())
    }

    /// Every VMA of the mm as `(first, last, record)`, read under `lock`.
    fn snapshot(
        &self,
        lock: &MmapReadGuard<'_>,
        user: &MmWithUser,
        names: &mut NameTable,
    ) -> Result<KVVec<(usize, usize, VmaRecord)>> {
        let mut entries = KVVec::new();
        walk(
            lock,
            user,
            &self.ids,
            names,
            0,
            usize::MAX,
            |start, end, rec| {
                // The one place the kernel's exclusive `vm_end` becomes the
                // tree's inclusive `last`.
                entries
                    .push((start, end - 1, rec), GFP_KERNEL)
                    .map_err(Error::from)
            },
        )?;
        Ok(entries)
    }

    /// Re-reads the dirty ranges from the kernel's tree and refreshes the
    /// attributes of the shadow's VMAs there. Returns how many VMAs in them
    /// did not match the shadow's ranges (then the mirror is stale).
    fn refresh_dirty(&self, st: &mut MirrorState, user: &MmWithUser) -> Result<usize> {
        let lock = user.mmap_read_lock();
        self.refresh_dirty_locked(st, &lock, user)
    }

    /// [`Mirror::refresh_dirty`] with the mmap read lock already held, so a
    /// caller can compare under the same lock it refreshed under.
    fn refresh_dirty_locked(
        &self,
        st: &mut MirrorState,
        lock: &MmapReadGuard<'_>,
        user: &MmWithUser,
    ) -> Result<usize> {
        let MirrorState { target, names, .. } = st;
        let a = target.as_mut().ok_or(EINVAL)?;
        let mut live = spin(|| self.live.try_lock())?;
        let mut w = spin(|| self.shadow.try_write())?;
        // Under the mmap read lock every change is recorded: once they are
        // applied, the shadow's ranges are the kernel's.
        self.apply_changes(&mut live, &mut w, Gfp::Kernel);
        let mut mismatched = 0;
        let dirty = live.dirty;
        for &(first, last) in dirty.ranges() {
            walk(
                lock,
                user,
                &self.ids,
                names,
                first,
                last,
                |start, end, rec| {
                    match w.load_range(start) {
                        Some((s, l, old)) if s == start && l == end - 1 && old.vma == rec.vma => {
                            if old != rec {
                                w.store(start, end - 1, Some(rec), Gfp::Kernel)
                                    .map_err(|_| ENOMEM)?;
                            }
                        }
                        _ => mismatched += 1,
                    }
                    Ok(())
                },
            )?;
        }
        live.dirty.clear();
        a.layout = layout(lock, user);
        fill(&mut w)?;
        if mismatched > 0 {
            self.stale.store(true, Ordering::Release);
        }
        Ok(mismatched)
    }

    /// Whether the shadow is known to be stale: a change could not be
    /// applied, or a probe missed hits since the last resync (then the
    /// mirror is marked stale too).
    fn known_stale(&self, st: &MirrorState) -> bool {
        if probes::nmissed_total() != st.nmissed_seen {
            self.stale.store(true, Ordering::Release);
        }
        self.stale.load(Ordering::Acquire)
    }

    /// Brings the shadow up to date for a reader: a resync when it is stale
    /// (or a probe missed hits), else a refresh of the dirty ranges.
    /// `Ok(false)` when there is nothing to show (detached or exited).
    fn prepare(&self, st: &mut MirrorState) -> Result<bool> {
        match &st.target {
            None => return Ok(false),
            Some(a) if a.exited => return Ok(false),
            Some(_) => {}
        }
        let stale = self.known_stale(st);
        let user = st.target.as_ref().and_then(|a| a.mm.mmget_not_zero());
        let fresh = match (&user, stale) {
            (Some(u), false) => self.refresh_dirty(st, u)? == 0,
            _ => false,
        };
        drop(user);
        if !fresh {
            match self.resync(st) {
                Ok(()) => {}
                Err(e) if e == ESRCH => {
                    self.mark_exited(st)?;
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// [`Mirror::prepare`], re-reading every VMA's attributes first: the
    /// merge rules compare fields a fault sets under the mmap read lock
    /// (`anon_vma`), which no probe sees change.
    fn prepare_all(&self, st: &mut MirrorState) -> Result<bool> {
        if st.target.as_ref().is_some_and(|a| !a.exited) {
            spin(|| self.live.try_lock())?.dirty.insert(0, usize::MAX);
        }
        self.prepare(st)
    }

    /// The first touching pair of VMAs whose second starts at or above
    /// `from`: `((first, last, rec), (first, last, rec))`.
    fn touching_pair(
        &self,
        from: usize,
        g: &<DeferredPlatform as Platform>::ReadGuard,
    ) -> Option<(Range, Range)> {
        let mut prev = self.shadow.find(from.saturating_sub(1), usize::MAX, g)?;
        loop {
            let after = prev.1.checked_add(1)?;
            let next = self.shadow.find(after, usize::MAX, g)?;
            if next.0 == after && next.0 >= from {
                return Some((prev, next));
            }
            prev = next;
        }
    }

    /// Starts a read of `unmerged`: the shadow up to date, attributes too.
    fn unmerged_head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare_all(&mut st);
        self.stale_line(f, &r)?;
        if matches!(r, Ok(false)) {
            writeln!(f, "# no live target")?;
        }
        Ok(())
    }

    /// Where `unmerged` looks for the pair after the first one at `from`.
    fn unmerged_next_from(&self, from: usize) -> Option<usize> {
        let g = self.shadow.platform().read_lock();
        let (_, next) = self.touching_pair(from, &g)?;
        Some(next.0.saturating_add(1))
    }

    /// Writes the `unmerged` line of the first touching pair at `from`.
    fn unmerged_line(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.shadow.platform().read_lock();
        let Some(((pf, pl, prev), (nf, nl, next))) = self.touching_pair(from, &g) else {
            return Ok(());
        };
        let reasons = unmerged_reasons(&prev, pf, pl, &next, nf, nl);
        write_unmerged_line(f, pf, pl, nf, nl, &reasons)
    }

    /// Renders `stats`: counters since the last reset, totals of now.
    fn show_stats(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare_all(&mut st);
        self.stale_line(f, &r)?;
        // A copy of the counters: `Live` is held for as short as possible
        // (the exit probe may wait for it).
        let Ok(mut stats) = spin(|| self.live.try_lock().map(|live| live.merge)) else {
            return writeln!(f, "# busy");
        };
        let mut totals = Totals::default();
        stats.reset_unmerged();
        {
            let g = self.shadow.platform().read_lock();
            totals.vmas = self.shadow.len(&g) as u64;
            let mut from = 0;
            while let Some(((pf, pl, prev), (nf, nl, next))) = self.touching_pair(from, &g) {
                totals.touching_pairs += 1;
                let reasons = unmerged_reasons(&prev, pf, pl, &next, nf, nl);
                if !reasons.is_eligible() {
                    totals.unmerged_pairs += 1;
                }
                stats.count_unmerged(&reasons);
                from = nf.saturating_add(1);
            }
        }
        if !st.verdicts {
            writeln!(
                f,
                "# verdicts off: kernel_* and *_disagreements count nothing (write 'verdicts on')"
            )?;
        }
        stats.kernel_new_merges = self.kernel_new_merges.load(Ordering::Relaxed);
        stats.kernel_existing_merges = self.kernel_existing_merges.load(Ordering::Relaxed);
        write_stats(f, &stats, &totals)
    }

    /// The verdict probes wanted with the mirror's (none unless `verdicts on`).
    fn verdict_mask(st: &MirrorState) -> u32 {
        if st.verdicts {
            probes::VERDICT_PROBES
        } else {
            0
        }
    }

    /// Handles a write to `stats`: `reset` zeroes the counters; `verdicts
    /// on` / `verdicts off` registers or unregisters the probes that read
    /// the kernel's own merge verdicts (they cost every process in the
    /// system a probe hit per mmap and mprotect, so they are off unless
    /// asked for).
    fn write_stats(&self, reader: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 16];
        let len = reader.len();
        let input = buf.get_mut(..len).ok_or(EINVAL)?;
        reader.read_slice(input)?;
        let input = input.strip_suffix(b"\n").unwrap_or(input);
        let verdicts = match input {
            b"verdicts on" => Some(true),
            b"verdicts off" => Some(false),
            b"reset" => None,
            _ => return Err(EINVAL),
        };
        if let Some(on) = verdicts {
            let mut st = self.state.lock();
            if st.registered && on && !st.verdicts {
                // SAFETY: As in `write_target`: the mirror outlives its
                // probes, which detach and `PinnedDrop` unregister.
                unsafe { probes::register(self, probes::VERDICT_PROBES) }?;
            } else if st.registered && !on {
                probes::unregister_some(probes::VERDICT_PROBES);
            }
            st.verdicts = on;
            return Ok(());
        }
        // Every change made before this write is counted before the reset,
        // not after it: apply what waits first.
        self.apply_waiting()?;
        // Process context holds `Live` only briefly (no sleeping holder).
        spin(|| self.live.try_lock())?.merge.reset();
        self.kernel_new_merges.store(0, Ordering::Relaxed);
        self.kernel_existing_merges.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// The target is gone: empty the shadow, keep the target's identity.
    fn mark_exited(&self, st: &mut MirrorState) -> Result {
        if let Some(a) = st.target.as_mut() {
            a.exited = true;
        }
        self.publish(None);
        // Nothing is missing from an empty shadow of a process that is gone.
        self.stale.store(false, Ordering::Release);
        self.exit_seen.store(false, Ordering::Release);
        st.names.clear();
        let mut live = spin(|| self.live.try_lock())?;
        let mut w = spin(|| self.shadow.try_write())?;
        // Counted and logged before the shadow goes.
        self.apply_changes(&mut live, &mut w, Gfp::Kernel);
        w.clear();
        live.dirty.clear();
        Ok(())
    }

    /// Stops mirroring: probes off, shadow emptied.
    fn detach(&self, st: &mut MirrorState) -> Result {
        self.follow.store(false, Ordering::Release);
        self.root_mm.store(core::ptr::null_mut(), Ordering::Release);
        self.publish(None);
        if st.registered {
            probes::unregister();
            st.registered = false;
        }
        // No probe runs now, and no worker: what is waiting is the last.
        self.drain_queued.store(false, Ordering::Release);
        st.target = None;
        st.names.clear();
        let mut live = spin(|| self.live.try_lock())?;
        let mut w = spin(|| self.shadow.try_write())?;
        self.apply_changes(&mut live, &mut w, Gfp::Kernel);
        live.dirty.clear();
        w.clear();
        w.release_pool();
        Ok(())
    }

    /// Handles a write to `target`.
    fn write_target(&self, reader: &mut UserSliceReader) -> Result {
        let len = reader.len();
        if len == 0 || len > TARGET_MAX_LEN {
            return Err(EINVAL);
        }
        let mut buf = [0u8; TARGET_MAX_LEN];
        let input = buf.get_mut(..len).ok_or(EINVAL)?;
        reader.read_slice(input)?;
        let cmd = parse_target(input, current_pid_max()).map_err(|_| EINVAL)?;
        let mut st = self.state.lock();
        let (pid, follow) = match cmd {
            TargetCmd::Detach => return self.detach(&mut st),
            TargetCmd::Single(pid) => (pid, false),
            TargetCmd::Follow(pid) => (pid, true),
        };
        // Resolve first: a bad pid leaves the current target as it was.
        let t = resolve(pid)?;
        if !st.registered {
            let mask = probes::MIRROR_PROBES | Self::verdict_mask(&st);
            // SAFETY: The mirror lives in an `Arc` that outlives the probes:
            // they are unregistered on detach and in `PinnedDrop`.
            unsafe { probes::register(self, mask) }?;
            st.registered = true;
        }
        let root = t.mm.as_raw();
        st.target = Some(Attached::new(t, follow));
        self.follow.store(follow, Ordering::Release);
        self.root_mm.store(
            if follow { root } else { core::ptr::null_mut() },
            Ordering::Release,
        );
        st.root_pid = if follow { pid } else { 0 };
        if let Err(e) = self.resync(&mut st) {
            // The process went away between lookup and snapshot.
            let _ = self.detach(&mut st);
            return Err(e);
        }
        Ok(())
    }

    /// The first line every file starts with while the mirror is stale.
    fn stale_line(&self, f: &mut fmt::Formatter<'_>, r: &Result<bool>) -> fmt::Result {
        match r {
            Err(e) => writeln!(f, "# stale: resync failed ({e:?})"),
            Ok(_) if self.stale.load(Ordering::Acquire) => writeln!(f, "# stale"),
            Ok(_) => Ok(()),
        }
    }

    /// Renders `target`.
    fn show_target(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare(&mut st);
        self.stale_line(f, &r)?;
        let g = self.shadow.platform().read_lock();
        // Not the `Live` lock: a probe of the running target may hold it.
        let events = self.events_total.load(Ordering::Relaxed);
        match &st.target {
            None => writeln!(
                f,
                "pid=0 comm= mode=single state=detached vmas=0 events={events} resyncs={} \
                 exit_checks_ok={} exit_checks_failed={}",
                st.resyncs,
                self.exit_checks_ok.load(Ordering::Relaxed),
                self.exit_checks_failed.load(Ordering::Relaxed)
            ),
            Some(a) => {
                let comm = a.comm.split(|&c| c == 0).next().unwrap_or(&[]);
                let state = if a.exited {
                    "exited"
                } else if r.is_err() || self.stale.load(Ordering::Acquire) {
                    "stale"
                } else {
                    "live"
                };
                writeln!(
                    f,
                    "pid={} comm={} mode={} state={state} vmas={} events={events} resyncs={} \
                     exit_checks_ok={} exit_checks_failed={}",
                    a.pid,
                    core::str::from_utf8(comm).unwrap_or("?"),
                    if a.follow { "follow" } else { "single" },
                    self.shadow.len(&g),
                    st.resyncs,
                    self.exit_checks_ok.load(Ordering::Relaxed),
                    self.exit_checks_failed.load(Ordering::Relaxed)
                )
            }
        }
    }

    /// Starts a read of `maps`: brings the shadow up to date, says when
    /// it is stale or there is nothing to show.
    fn maps_head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare(&mut st);
        self.stale_line(f, &r)?;
        if matches!(r, Ok(false)) {
            writeln!(f, "# no live target")?;
        }
        Ok(())
    }

    /// Where `maps` looks for the VMA after the first one at or above
    /// `from`: that VMA's end (`None` when there is none).
    fn maps_next_from(&self, from: usize) -> Option<usize> {
        let g = self.shadow.platform().read_lock();
        let (_, last, _) = self.shadow.find(from, usize::MAX, &g)?;
        Some(last.saturating_add(1))
    }

    /// Writes the `maps` line of the first VMA at or above `from`, in
    /// `/proc/PID/maps` format.
    fn maps_line(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        let Some(layout) = st.target.as_ref().map(|a| a.layout) else {
            return Ok(());
        };
        let g = self.shadow.platform().read_lock();
        let Some((first, last, rec)) = self.shadow.find(from, usize::MAX, &g) else {
            return Ok(());
        };
        let (start, end) = (first as u64, last as u64 + 1);
        let anon = st
            .names
            .get(rec.anon_name)
            .and_then(|b| core::str::from_utf8(b).ok());
        match vma_name(&rec, start, end, &layout, anon) {
            VmaName::Path => {
                let n = write_prefix(f, start, end, &rec, MAPS_FORMAT)?;
                write_pad(f, n)?;
                let path = rec
                    .file
                    .and_then(|file| st.names.get(file.file))
                    .unwrap_or(b"");
                write_escaped(f, path)?;
                writeln!(f)
            }
            name => write_line(f, start, end, &rec, &name, MAPS_FORMAT),
        }
    }

    /// Renders `tree`: the shadow's node structure.
    fn show_tree(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare(&mut st);
        self.stale_line(f, &r)?;
        let g = self.shadow.platform().read_lock();
        self.shadow.dump(f, &g)
    }

    /// Renders `events`: the target's recent changes, oldest first.
    fn show_events(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        if self.stale.load(Ordering::Acquire) {
            writeln!(f, "# stale")?;
        }
        // The target's mmap read lock keeps its probes out of the `Live`
        // lock while the log is copied out.
        let user = st.target.as_ref().and_then(|a| a.mm.mmget_not_zero());
        let _lock = user.as_ref().map(|u| u.mmap_read_lock());
        let Ok(mut live) = spin(|| self.live.try_lock()) else {
            return writeln!(f, "# busy");
        };
        if let Ok(mut w) = spin(|| self.shadow.try_write()) {
            self.apply_changes(&mut live, &mut w, Gfp::Kernel);
        }
        for e in live.events.iter() {
            let outcome = match e.outcome {
                Outcome::Applied => "applied",
                Outcome::Stale => "stale",
            };
            write!(
                f,
                "{} {} {:x}-{:x} {outcome}",
                e.seq,
                e.op.name(),
                e.first,
                e.last.wrapping_add(1)
            )?;
            match e.what {
                ("", _) => writeln!(f)?,
                (kind, cause) => writeln!(f, " {kind} {cause}")?,
            }
        }
        Ok(())
    }

    /// Renders `check`: compares the shadow with the kernel's tree now.
    ///
    /// Under the mmap read lock: dirty ranges are refreshed first (that only
    /// updates attributes of VMAs whose range and identity already match),
    /// then every VMA and every gap search of a few sizes is compared.
    /// `anon_vma`, which changes under the read lock, is refreshed, not
    /// compared. Prints each divergence and `FAIL n`, or `ok vmas=N`.
    fn show_check(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        match &st.target {
            None => return writeln!(f, "# detached"),
            Some(a) if a.exited => return writeln!(f, "# exited"),
            Some(_) => {}
        }
        if self.known_stale(&st) {
            // Known stale: resync, say so, and check the result.
            writeln!(f, "# stale: resynced before checking")?;
            if let Err(e) = self.resync(&mut st) {
                return writeln!(f, "# resync failed ({e:?})");
            }
        }
        let Some(user) = st.target.as_ref().and_then(|a| a.mm.mmget_not_zero()) else {
            return writeln!(f, "# exited");
        };
        match self.check_now(&mut st, &user, f) {
            Ok(0) => {
                let g = self.shadow.platform().read_lock();
                writeln!(f, "ok vmas={}", self.shadow.len(&g))
            }
            Ok(n) => {
                self.stale.store(true, Ordering::Release);
                writeln!(f, "FAIL {n}")
            }
            Err(e) => writeln!(f, "# check failed ({e:?})"),
        }
    }

    /// The comparison behind `check`; returns the number of divergences.
    fn check_now(
        &self,
        st: &mut MirrorState,
        user: &MmWithUser,
        f: &mut fmt::Formatter<'_>,
    ) -> Result<usize> {
        // One lock for refreshing and comparing: with it held no thread of
        // the target can change anything in between.
        let lock = user.mmap_read_lock();
        let mismatched = self.refresh_dirty_locked(st, &lock, user)?;
        let kernel = self.snapshot(&lock, user, &mut st.names)?;
        let mut w = spin(|| self.shadow.try_write())?;
        let mut bad = 0usize;
        // One line per side of a divergence; the caller counts divergences.
        let mut report = |what: &str, first: usize, last: usize, rec: &VmaRecord| {
            let _ = writeln!(f, "{what} {first:x}-{:x} {rec:?}", last.wrapping_add(1));
        };
        let mut anon_updates = KVec::new();
        {
            let mut shadow = w.iter().peekable();
            for &(ks, kl, krec) in kernel.iter() {
                // Shadow entries before this kernel VMA exist only in the shadow.
                while let Some(&(ss, sl, srec)) = shadow.peek() {
                    if ss >= ks {
                        break;
                    }
                    report("shadow-only", ss, sl, &srec);
                    bad += 1;
                    shadow.next();
                }
                match shadow.peek().copied() {
                    Some((ss, sl, srec)) if ss == ks => {
                        shadow.next();
                        let same = sl == kl && srec.with_fault_fields_of(&krec) == krec;
                        if !same {
                            report("kernel", ks, kl, &krec);
                            report("shadow", ss, sl, &srec);
                            bad += 1;
                        } else if srec != krec {
                            anon_updates.push((ks, kl, krec), GFP_KERNEL)?;
                        }
                    }
                    _ => {
                        report("kernel-only", ks, kl, &krec);
                        bad += 1;
                    }
                }
            }
            for (ss, sl, srec) in shadow {
                report("shadow-only", ss, sl, &srec);
                bad += 1;
            }
        }
        for &(s, l, rec) in anon_updates.iter() {
            w.store(s, l, Some(rec), Gfp::Kernel).map_err(|_| ENOMEM)?;
        }
        // Gap search: the shadow must answer as mas_empty_area[_rev] does.
        for size in [1usize << 12, 1 << 16, 1 << 21, 1 << 30] {
            for rev in [false, true] {
                let ours = if rev {
                    w.empty_area_rev(0, USER_TOP, size)
                } else {
                    w.empty_area(0, USER_TOP, size)
                };
                let theirs = kernel_empty_area(&lock, user, 0, USER_TOP, size, rev);
                if ours != theirs {
                    bad += 1;
                    let name = if rev { "empty_area_rev" } else { "empty_area" };
                    let _ = writeln!(
                        f,
                        "gap {name} size={size:#x} kernel={theirs:x?} shadow={ours:x?}"
                    );
                }
            }
        }
        #[cfg(not(CONFIG_MMU))]
        super::nommu::note_mremapped(&lock, user, f);
        Ok(bad + mismatched)
    }

    /// Renders `probes`: one line per probe.
    fn show_probes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registered = self.state.lock().registered;
        writeln!(
            f,
            "# {}",
            if registered {
                "registered"
            } else {
                "not registered (detached)"
            }
        )?;
        for (i, name, hits, missed) in probes::stats() {
            writeln!(
                f,
                "{name} hits={hits} nmissed={missed} armed={}",
                probes::state_name(i)
            )?;
        }
        let [asked, busy, moved, refused] = probes::FOLLOW_STATS
            .each_ref()
            .map(|c| c.load(Ordering::Relaxed));
        writeln!(
            f,
            "# moves (follow, exec): asked={asked} busy={busy} done={moved} refused={refused}"
        )?;
        writeln!(
            f,
            "# changes: waiting={} dropped={} ring={}",
            self.changes.len(),
            self.changes.dropped(),
            self.changes.capacity()
        )?;
        if let Some(n) = probes::stack_left_min() {
            writeln!(
                f,
                "# stack: least left on entry to a store of the target: {n} bytes"
            )?;
        }
        Ok(())
    }
}

#[pinned_drop]
impl PinnedDrop for Mirror {
    fn drop(self: Pin<&mut Self>) {
        // Probes off first: after this no handler runs.
        let mut st = self.state.lock();
        let _ = self.detach(&mut st);
    }
}

/// An empty event log on the heap, initialised where it lies: never on the
/// stack, which it would overflow ([`EventLog::init_at`]).
fn new_event_log() -> Result<KBox<EventLog>> {
    let mut log = KBox::<EventLog>::new_uninit(GFP_KERNEL)?;
    // SAFETY: `log` is a fresh allocation for an `EventLog`.
    unsafe { EventLog::init_at(log.as_mut_ptr()) };
    // SAFETY: `init_at` initialised it.
    Ok(unsafe { log.assume_init() })
}

/// An empty change ring on the heap (vmalloc'd if need be: it is about
/// 600 KiB), initialised where it lies, and its one consumer.
fn new_changes() -> Result<(KVBox<Changes>, Consumer)> {
    let mut ring = KVBox::<Changes>::new_uninit(GFP_KERNEL)?;
    // SAFETY: `ring` is a fresh allocation for a `Changes`, initialised
    // once, here.
    let consumer = unsafe { Changes::init_at(ring.as_mut_ptr()) };
    // SAFETY: `init_at` initialised it.
    Ok((unsafe { ring.assume_init() }, consumer))
}

/// Fills the writer's pool to [`POOL_STORES`] worst-case stores' worth.
fn fill(w: &mut Writer<'_>) -> Result {
    let want = POOL_STORES * w.worst_case_nodes_per_store();
    w.fill_pool(want, Gfp::Kernel).map_err(|_| ENOMEM)
}

/// Writes a path as `seq_path(m, path, "\n")` does: a newline becomes
/// `\012`. Bytes that are not UTF-8 are written as `\xNN` (the maps file
/// writes them raw; a formatter cannot).
fn write_escaped(f: &mut fmt::Formatter<'_>, path: &[u8]) -> fmt::Result {
    for chunk in path.utf8_chunks() {
        for (i, part) in chunk.valid().split('\n').enumerate() {
            if i > 0 {
                f.write_str("\\012")?;
            }
            f.write_str(part)?;
        }
        for b in chunk.invalid() {
            write!(f, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

/// The `target` file: reads show the target, writes choose it.
pub(crate) struct TargetFile(pub(crate) Arc<Mirror>);

impl Show for TargetFile {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.show_target(f)
    }
}

impl Command for TargetFile {
    fn run(&self, input: &mut UserSliceReader) -> Result {
        self.0.write_target(input)
    }
}

/// The `stats` file: merge statistics; writing `reset` zeroes them.
pub(crate) struct StatsFile(pub(crate) Arc<Mirror>);

impl Show for StatsFile {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.show_stats(f)
    }
}

impl Command for StatsFile {
    fn run(&self, input: &mut UserSliceReader) -> Result {
        self.0.write_stats(input)
    }
}

/// The `unmerged` file: every touching pair of VMAs and why it is two.
pub(crate) struct UnmergedFile(pub(crate) Arc<Mirror>);

impl Lines for UnmergedFile {
    fn head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.unmerged_head(f)
    }

    fn next_from(&self, from: usize) -> Option<usize> {
        self.0.unmerged_next_from(from)
    }

    fn show(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.unmerged_line(from, f)
    }
}

/// The `maps` file: the shadow in `/proc/PID/maps` format, streamed.
pub(crate) struct MapsFile(pub(crate) Arc<Mirror>);

impl Lines for MapsFile {
    fn head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.maps_head(f)
    }

    fn next_from(&self, from: usize) -> Option<usize> {
        self.0.maps_next_from(from)
    }

    fn show(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.maps_line(from, f)
    }
}

/// `tree` read callback.
pub(crate) fn show_tree(m: &Arc<Mirror>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    m.show_tree(f)
}

/// `check` read callback.
pub(crate) fn show_check(m: &Arc<Mirror>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    m.show_check(f)
}

/// `events` read callback.
pub(crate) fn show_events(m: &Arc<Mirror>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    m.show_events(f)
}

/// `probes` read callback.
pub(crate) fn show_probes(m: &Arc<Mirror>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    m.show_probes(f)
}
