// SPDX-License-Identifier: GPL-2.0

//! The mirror: one target process, its shadow VMA tree kept live by the
//! probes in [`super::probes`], and the debugfs files that show it.
//!
//! * `probe.rs`: what runs in probe context (and what it may not do);
//! * `apply.rs`: applying the recorded changes to the shadow;
//! * `files.rs`: the debugfs files;
//! * here: the state, attaching, resyncing and refreshing.
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
    ffi::{c_int, c_void},
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering},
};
use kernel::{
    bindings,
    mm::{Mm, MmWithUser, MmapReadGuard},
    new_mutex,
    prelude::*,
    sync::{aref::ARef, Mutex},
    uaccess::UserSliceReader,
};

use super::{
    deferred::DeferredPlatform,
    ids::IdKey,
    names::NameTable,
    probes,
    target::{current_pid_max, of_task, re_resolve, resolve, Process, Target},
    vma::{layout, names_of, walk},
};
use crate::engine::{
    changes::{ChangeRing, Consumer},
    dirty::DirtySet,
    events::{EventLog, EventOp, Outcome},
    maps::{MapsFormat, MmLayout},
    merge::{flags, Arch, Cause, MergeStats},
    record::VmaRecord,
    target::{parse_target, TargetCmd, TARGET_MAX_LEN},
    trylock::TryLock,
};
use crate::rangetree::{Gfp, Platform, RangeTree, RcuRangeTree, RcuWriter};

mod apply;
mod files;
mod probe;

pub(crate) use files::{MapsFile, StatsFile, TargetFile, UnmergedFile, SHOWN};

/// This kernel's maps format.
const MAPS_FORMAT: MapsFormat = MapsFormat {
    page_shift: bindings::PAGE_SHIFT,
    nommu: cfg!(not(CONFIG_MMU)),
};

/// `struct vmatrack_proposed` of `rust/shim/probes.h`: a new range
/// `vma_merge_new_range()` was asked to merge, for the what-if's verdict
/// at that attempt.
#[repr(C)]
pub(crate) struct ProposedVma {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) pgoff: usize,
    pub(crate) anon_pgoff: usize,
    pub(crate) flags: usize,
    pub(crate) file: *const c_void,
    pub(crate) anon_vma: *const c_void,
    pub(crate) uffd_ctx: *const c_void,
    pub(crate) anon_name: *const bindings::anon_vma_name,
    pub(crate) mempolicy: u64,
    pub(crate) prev: *const bindings::vm_area_struct,
    pub(crate) next: *const bindings::vm_area_struct,
    pub(crate) copied: bool,
    pub(crate) fork_child: bool,
    pub(crate) uffd_no_event_remap: bool,
    pub(crate) anon_vma_unshared: bool,
}

/// What the merge rules and their files need to know of this kernel: its
/// page size and the names of its architecture's own `vm_flags` bits.
const MERGE_ARCH: Arch = Arch {
    page_shift: bindings::PAGE_SHIFT,
    flag_names: if cfg!(CONFIG_X86_64) {
        &flags::X86_64_NAMES
    } else {
        &[]
    },
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

/// How many changes can wait between the probes and the shadow (a ring of
/// about 600 KiB; a quarter of that without an MMU, where it must be one
/// contiguous allocation and targets are small).
const CHANGES: usize = if cfg!(CONFIG_MMU) { 4096 } else { 1024 };
/// A worker is asked to apply the waiting changes once this many wait.
const CHANGES_KICK: usize = 256;
/// Changes applied per chunk with preemption off ([`Mirror::apply_waiting`]).
const APPLY_CHUNK: usize = 64;
/// Tries for room in a full change ring from a probe before the change is
/// lost (a few milliseconds; see `Mirror::record`).
const RECORD_WAIT_TRIES: usize = 1 << 18;
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

/// What is mirrored.
struct Attached {
    mm: ARef<Mm>,
    /// The process, held by its `struct pid`: never another process that
    /// was given its number later.
    process: Process,
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
            process: t.process,
            comm: t.comm,
            follow,
            layout: MmLayout::default(),
            exited: false,
        }
    }
}

/// The root of `follow` mode: the process `follow` was given, and its mm.
///
/// The mm is held (`mmgrab`) for as long as its address is published to
/// the handlers (`root_mm`): once the root has exited, a freed `mm_struct`
/// at that address would otherwise be another process's, and its forks
/// would be followed.
struct Root {
    process: Process,
    mm: ARef<Mm>,
}

/// Process-context state, under [`Mirror::state`].
struct MirrorState {
    target: Option<Attached>,
    /// File paths and anon names of the shadow's VMAs.
    names: NameTable,
    /// Full rebuilds of the shadow from the kernel's tree.
    resyncs: u64,
    /// Whether the probes are registered: from the first attach to module
    /// exit.
    registered: bool,
    /// `verdicts on` was written to `stats`: the merge-verdict probes are
    /// armed.
    verdicts: bool,
    /// The probes' total `nmissed` when the shadow was last known good.
    nmissed_seen: usize,
    /// In `follow` mode, the process `follow` was given.
    root: Option<Root>,
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
    /// The kernel's merge attempts in the target, by kind (new, existing)
    /// and system call: tried, merged, ns (`crate::engine::merge::AttemptCounts`).
    attempts: [[[AtomicU64; Cause::ALL.len()]; 2]; 3],
    /// New-range attempts each rule set of the what-if would have merged,
    /// by rule set (`Relax::index()`) and system call.
    would_merge: [[AtomicU64; Cause::ALL.len()]; 4],
    /// Counts `target` writes: a follow or exec move claimed in an earlier
    /// generation is not made (the write after it decided).
    attach_gen: AtomicU64,
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
            attempts: [const { [const { [const { AtomicU64::new(0) }; Cause::ALL.len()] }; 2] }; 3],
            would_merge: [const { [const { AtomicU64::new(0) }; Cause::ALL.len()] }; 4],
            attach_gen: AtomicU64::new(0),
            state <- new_mutex!(MirrorState {
                target: None,
                names: NameTable::new(),
                resyncs: 0,
                registered: false,
                verdicts: false,
                nmissed_seen: 0,
                root: None,
            }),
        }))
    }

    /// In a new child of the followed process, or in the target right after
    /// exec, before the first user instruction: move the mirror to the
    /// current process (its mm now) and snapshot.
    pub(crate) fn follow_current(&self) {
        // No holder of the state lock waits for this work (module exit
        // waits for it in `probes::unregister`, without the lock).
        let mut st = self.state.lock();
        let Some(follow) = st.target.as_ref().map(|a| a.follow) else {
            return;
        };
        // Claimed before a later `target` write: that write decided.
        if probes::FOLLOW_GEN.load(Ordering::Acquire) != self.attach_gen() {
            return;
        }
        // The process itself, not its number: a child in a new pid
        // namespace has a number there that names another process here.
        let Ok(t) = of_task(&**kernel::current!()) else {
            return;
        };
        let is_root = st
            .root
            .as_ref()
            .is_some_and(|r| r.process.as_ptr() == t.process.as_ptr());
        if follow && is_root {
            // The root itself exec'd: its forks are followed from its new mm.
            self.root_mm.store(t.mm.as_raw(), Ordering::Release);
        }
        // Unpublished before the old target's references go (below), so
        // that no handler compares against a freed mm or pid.
        self.publish(None);
        if let Some(r) = st.root.as_mut().filter(|_| follow && is_root) {
            // The old root mm's reference goes once the new one is published.
            r.mm = t.mm.clone();
        }
        st.target = Some(Attached::new(t, follow));
        if self.resync(&mut st).is_err() {
            self.stale.store(true, Ordering::Release);
        }
    }

    // ---- process side --------------------------------------------------

    /// Publishes (or, with `None`, withdraws) the target to the handlers:
    /// its mm, and in single mode its process.
    ///
    /// An exec re-attaches only when the process that execs is the
    /// target: a `vfork()` or `posix_spawn()` child runs on the target's
    /// mm until its exec, and that exec is the child's. In follow mode
    /// (no process given) such a child is a child like any other, and its
    /// exec moves the mirror to it as a fork would have.
    fn publish(&self, target: Option<(&MmWithUser, Option<&Process>)>) {
        let (mm, tree, process) = match target {
            Some((m, process)) => {
                let raw = m.as_raw();
                // SAFETY: `raw` is a valid mm; `mm_mt` is one of its fields.
                let tree = unsafe { (&raw mut (*raw).__bindgen_anon_1.mm_mt).cast::<c_void>() };
                (
                    raw,
                    tree,
                    process.map_or(core::ptr::null_mut(), Process::as_ptr),
                )
            }
            None => (
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            ),
        };
        self.target_mm.store(mm, Ordering::Release);
        self.target_tree.store(tree, Ordering::Release);
        probes::set_filter(mm, tree, self.root_mm.load(Ordering::Acquire), process);
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
                let t = re_resolve(&a.process)?;
                // The old mm may go with `a.mm`: no handler may compare
                // against its address once it can be reused.
                self.publish(None);
                a.mm = t.mm;
                a.comm = t.comm;
                a.mm.mmget_not_zero().ok_or(ESRCH)?
            }
        };
        // Publish first: a store after the lock below is seen by a probe.
        self.publish(Some((&user, (!a.follow).then_some(&a.process))));
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
        // Room for as many as the shadow holds now, plus a few: at 64,000
        // VMAs, growing by doubling copied the whole array (8 MiB) a few
        // times over.
        let hint = self.shadow.len(&self.shadow.platform().read_lock()) + 64;
        let mut entries = KVVec::with_capacity(hint, GFP_KERNEL)?;
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

    /// Renders the names `maps` prints afresh, as `/proc/PID/maps` does at
    /// each read: a file's path is what `d_path()` says now (a rename or an
    /// unlink changes it without touching a VMA, so no probe sees it), and
    /// names no VMA holds any more are dropped. The table is replaced only
    /// once the new one is complete.
    fn refresh_names(&self, st: &mut MirrorState) -> Result {
        let Some(user) = st.target.as_ref().and_then(|a| a.mm.mmget_not_zero()) else {
            return Ok(());
        };
        let lock = user.mmap_read_lock();
        let mut fresh = NameTable::new();
        names_of(&lock, &user, &self.ids, &mut fresh)?;
        st.names = fresh;
        Ok(())
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
            // Both ways: every kernel VMA in the range must be the shadow's
            // (checked per VMA below), and the shadow must hold no more than
            // those. A recorded store that then failed (`mas_store_gfp()`
            // with -ENOMEM leaves the tree as it was) shows up as one or
            // the other.
            let mut in_shadow = 0usize;
            let mut from = first;
            while let Some((_, l, _)) = w.find(from, last) {
                in_shadow += 1;
                match l.checked_add(1) {
                    Some(next) if l < last => from = next,
                    _ => break,
                }
            }
            let mut in_kernel = 0usize;
            walk(
                lock,
                user,
                &self.ids,
                names,
                first,
                last,
                |start, end, rec| {
                    in_kernel += 1;
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
            mismatched += in_shadow.abs_diff(in_kernel);
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

    /// Stops mirroring: no target published, shadow emptied. The probes
    /// stay registered (`rust/shim/probes.c` says why); their handlers find no
    /// target from here on.
    fn detach(&self, st: &mut MirrorState) -> Result {
        self.follow.store(false, Ordering::Release);
        self.root_mm.store(core::ptr::null_mut(), Ordering::Release);
        self.publish(None);
        if st.registered {
            // Handlers that saw the old target have returned after this,
            // and none kicks the worker again; a worker already running
            // finishes first. A follow work item still queued finds the
            // attach generation changed and moves nothing.
            probes::sync_handlers();
            probes::stop_worker();
        }
        st.root = None;
        // No handler passes the filter now, and no worker runs: what is
        // waiting is the last.
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
    ///
    /// `EPERM` unless the writer has `CAP_SYS_PTRACE` (initial user
    /// namespace): the mirror shows what `/proc/PID/maps` shows, which
    /// needs ptrace read access to the process, and the kernel's check
    /// (`ptrace_may_access()`) is not exported in 7.3. The capability is
    /// what passes that check for every process, so a target that execs a
    /// setuid program stays one the writer may mirror. The writer's
    /// credentials, not the opener's: a passed file descriptor does not
    /// carry the right.
    fn write_target(&self, reader: &mut UserSliceReader) -> Result {
        // SAFETY: `capable()` may be called in process context (a write).
        if !unsafe { bindings::capable(bindings::CAP_SYS_PTRACE as c_int) } {
            return Err(EPERM);
        }
        let len = reader.len();
        if len == 0 || len > TARGET_MAX_LEN {
            return Err(EINVAL);
        }
        let mut buf = [0u8; TARGET_MAX_LEN];
        let input = buf.get_mut(..len).ok_or(EINVAL)?;
        reader.read_slice(input)?;
        let cmd = parse_target(input, current_pid_max()).map_err(|_| EINVAL)?;
        let mut st = self.state.lock();
        // A follow or exec move claimed before this write is not made.
        self.attach_gen.fetch_add(1, Ordering::AcqRel);
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
            // `PinnedDrop` unregisters them.
            unsafe { probes::arm(self, mask) }?;
            st.registered = true;
        }
        let root = follow.then(|| Root {
            process: t.process.clone(),
            mm: t.mm.clone(),
        });
        self.follow.store(follow, Ordering::Release);
        self.root_mm.store(
            root.as_ref()
                .map_or(core::ptr::null_mut(), |r| r.mm.as_raw()),
            Ordering::Release,
        );
        // The new root published and the target withdrawn before the old
        // target's and root's references go (below), so that no handler
        // compares against a freed mm or pid.
        self.publish(None);
        st.root = root;
        st.target = Some(Attached::new(t, follow));
        if let Err(e) = self.resync(&mut st) {
            // The process went away between lookup and snapshot.
            let _ = self.detach(&mut st);
            return Err(e);
        }
        Ok(())
    }
}

#[pinned_drop]
impl PinnedDrop for Mirror {
    fn drop(self: Pin<&mut Self>) {
        let mut st = self.state.lock();
        let _ = self.detach(&mut st);
        drop(st);
        // Probes off: after this no handler runs, and no follow work is
        // queued.
        probes::unregister();
        probes::retire_follow();
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
