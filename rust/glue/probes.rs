// SPDX-License-Identifier: GPL-2.0

//! The probes that keep the shadow live, and their handlers.
//!
//! # Why these probes miss no change of the target's VMA tree (7.3)
//!
//! * **Ranges.** Every change of `mm->mm_mt` goes through the maple tree's
//!   exported store functions: the `vma_iter_store*` / `vma_iter_clear*`
//!   helpers in `mm/vma.h` end in `mas_store_prealloc()` (infallible, after
//!   preallocation) or `mas_store_gfp()` (may fail with `-ENOMEM` and leave
//!   the tree as it was: recorded at entry all the same, and found out by
//!   the next reader, which re-reads every stored range from the kernel's
//!   tree and compares both ways), always with the mmap write lock held (checked in this
//!   tree: `grep -n 'mas_store\|mas_erase\|mtree_' mm/`). The other writers
//!   of an `mm_mt` are `__mt_dup()` and `mas_store()` in `dup_mmap()`, which
//!   write the *child's* tree, and `__mt_destroy()` in `exit_mmap()`, which
//!   the `exit_mmap` probe sees. The store handlers filter on the tree in
//!   the `ma_state` (not on `current`: other tasks change the target's tree
//!   too), which also drops fork children and munmap's detached-VMA tree.
//! * **Attributes changed in place** (mprotect without a split, madvise,
//!   mlock, prctl names, ...) change no range, but 7.3 write-locks every VMA
//!   before changing it: `vma_start_write()` calls `__vma_start_write()`
//!   the first time in each mmap write-lock cycle. That probe marks the
//!   VMA's range dirty; stores mark their range dirty too, because a VMA's
//!   fields may be finished after it is stored. Readers re-read dirty ranges
//!   under the mmap read lock (which excludes every writer) before they
//!   show or check anything. `anon_vma` is the exception: it is set on the
//!   first fault under the mmap *read* lock, so it is re-read, not tracked.
//! * **Fork**, in `follow` mode: `sched_post_fork()` runs at the end of
//!   `copy_process()` in the parent, once the child's mm is complete and
//!   before the child can run; when the parent is the followed process,
//!   its return handler (not NMI context) gives the child task work that
//!   moves the mirror to it on its first return to user space (its own
//!   context: it can take its mmap read lock and snapshot before it has
//!   run a single instruction of its own).
//! * **Exit and exec.** `exit_mmap()` tears the tree down without stores
//!   (and marks the mirror stale). Exec gives the process a new mm:
//!   `begin_new_exec()`'s return handler queues task work on the execing
//!   task that re-attaches the mirror to the new mm (snapshot under its
//!   mmap read lock) before the new program's first instruction.
//! * **The kernel's own verdict** (not needed for completeness: it
//!   cross-checks the merge statistics; armed only while `stats` has
//!   `verdicts on`, because every mmap and mprotect of every process hits
//!   them). `vma_merge_new_range()`'s return
//!   value says whether a new range merged; `vma_modify()` is the only
//!   caller of the inlined `vma_merge_existing_range()` and is itself called
//!   out of line from each of its four callers (checked in the 7.3 x86_64
//!   build with objdump), and leaves `vmg->state == VMA_MERGE_SUCCESS` when
//!   that merged. Both are filtered on `vmg->mm`.
//! * **Anything that cannot be applied** (a busy lock, an empty node pool,
//!   a kprobe's `nmissed` growing) marks the mirror stale, and the next
//!   reader resyncs from a snapshot. Nothing is silently lost.
//!
//! # What another process pays
//!
//! Every process runs these probes. Each C handler (`rust/shim/probes.c`) counts
//! the hit in a per-CPU counter and compares the mm or tree it was given
//! with the target's before anything else, and returns there; only the
//! target's hits reach Rust. With `CONFIG_X86_KERNEL_IBT` (as distribution
//! kernels have it) every probed function is free of jump tables and the
//! kprobe optimizer turns each probe into a jump: `probes` says so per
//! probe (`armed=jump`, or `trap` while still a breakpoint).
//!
//! Every one of these symbols is in this kernel's System.map (checked by
//! the registration itself: a missing or inlined symbol fails `target`).
//!
//! # nommu (`!CONFIG_MMU`, the riscv64-nommu guest)
//!
//! * **Ranges**: the same two store probes. mm/nommu.c changes `mm_mt`
//!   only through `vma_iter_store_new()` (`do_mmap`, `split_vma`),
//!   `vma_iter_clear()` (`delete_vma_from_mm`) and `vma_iter_clear_gfp()`
//!   (`vmi_shrink_vma`), which end in `mas_store_prealloc()` and
//!   `mas_store_gfp()` under the mmap write lock, and `__mt_destroy()` in
//!   `exit_mmap()`. The argument above holds unchanged.
//! * **No `__vma_start_write`**: there is no per-VMA lock
//!   (`CONFIG_PER_VMA_LOCK` needs `CONFIG_MMU`), so that probe is not
//!   registered and not listed; nor are the merge-verdict probes (there is
//!   no `mm/vma.c`, and nommu never merges VMAs). nommu has no `mprotect`, `madvise`,
//!   `mlock` fixups, anon names, mempolicies or userfaultfd, the
//!   attributes that change in place on MMU kernels. The one in-place
//!   change next to a store is `split_vma()` with `new_below`: it stores
//!   the new lower VMA and moves the old VMA's `vm_start` and `vm_pgoff`
//!   up in place (the old VMA's tree range is already right). So on nommu
//!   a store marks dirty its range *widened by one byte on each side*:
//!   readers re-read the VMAs touching a store too (found by the suite's
//!   middle-page munmap test: `pgoff` went stale without it). Every other
//!   write to a VMA in mm/nommu.c happens before its store, or is
//!   `vm_start`/`vm_end` moving with a store or clear of the range left.
//!   `vmalloc_user()` setting `VM_USERMAP` on a user VMA is not tracked
//!   (no in-tree caller maps a user VMA that way).
//! * **mremap** changes `vm_end` in place (`do_mremap()` in mm/nommu.c:
//!   shrink, or grow back up to the region's size) with no tree store:
//!   the tree keeps the old range. The shadow mirrors the tree, so it
//!   keeps the old range too, and `check` trusts the tree: it compares the
//!   tree's ranges (which is what `find_vma`, `munmap` and `exit_mmap`
//!   act on), stays `ok`, and lists each VMA whose `vm_end` differs from
//!   its tree range as a `# nommu mremap` note (`super::nommu`). `maps`
//!   then differs from `/proc/PID/maps` (which prints `vm_end`) in that
//!   line's end, until the VMA grows back or is replaced. The `follow`
//!   exit check compares the tree's ranges too.
//! * **fork** (`clone` without `CLONE_VM`) copies no VMAs (nommu
//!   `dup_mmap()` copies only the exe file): a `follow`ed child would
//!   start with an empty tree (not exercised: such a child runs on its
//!   parent's memory, so the nommu suite makes none). `vfork` children
//!   share the parent's mm and are never followed (as on MMU kernels).
//! * `exit_mmap`, `sched_post_fork` and `begin_new_exec` exist and are
//!   probed as on MMU kernels.

use core::{
    ffi::c_int,
    ptr,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering},
};
use kernel::{bindings, ffi::c_void};

use super::mirror::{Mirror, ProposedVma};

/// The probed functions, in the order of `rust/shim/probes.c`'s list.
pub(crate) const PROBE_NAMES: [&str; NR_PROBES] = [
    "mas_store_prealloc",
    "mas_store_gfp",
    "__vma_start_write",
    "exit_mmap",
    "sched_post_fork",
    "begin_new_exec",
    "vma_merge_new_range",
    "vma_modify",
];

/// `VMATRACK_NR_PROBES` in `rust/shim/probes.h`.
pub(crate) const NR_PROBES: usize = 8;

/// The probes that keep the shadow exact (every index but the verdicts).
pub(crate) const MIRROR_PROBES: u32 = 0x3f;
/// The merge-verdict kretprobes (`vma_merge_new_range`, `vma_modify`):
/// they cost every process an entry hit per mmap or mprotect, so they are
/// armed only while `stats` has `verdicts on`.
pub(crate) const VERDICT_PROBES: u32 = 0xc0;

extern "C" {
    fn vmatrack_probes_arm(mask: u32) -> c_int;
    fn vmatrack_probes_disarm(mask: u32);
    fn vmatrack_probes_unregister(mask: u32);
    fn vmatrack_handlers_sync();
    fn vmatrack_probe_nmissed(i: c_int) -> usize;
    fn vmatrack_probe_hits(i: c_int) -> usize;
    fn vmatrack_probe_state(i: c_int) -> c_int;
    fn vmatrack_probe_symbol(i: c_int) -> *const kernel::ffi::c_char;
    fn vmatrack_set_filter(
        mm: *mut c_void,
        tree: *mut c_void,
        root_mm: *mut c_void,
        tgid: *mut c_void,
    );
    fn vmatrack_follow_retire();
    fn vmatrack_current_cause() -> u32;
    fn vmatrack_stack_left() -> usize;
    fn vmatrack_kick_drain();
    fn vmatrack_drain_cancel();
    fn vmatrack_in_nmi() -> bool;
    fn vmatrack_preempt_disable();
    fn vmatrack_preempt_enable();
    fn vmatrack_cond_resched();
}

/// Preemption is off while this lives ([`preempt_off`]).
pub(crate) struct PreemptOff(());

/// Turns preemption off until the returned guard is dropped.
pub(crate) fn preempt_off() -> PreemptOff {
    // SAFETY: Paired with the enable in `Drop for PreemptOff`.
    unsafe { vmatrack_preempt_disable() };
    PreemptOff(())
}

impl Drop for PreemptOff {
    fn drop(&mut self) {
        // SAFETY: `preempt_off` disabled it; this guard is its pair.
        unsafe { vmatrack_preempt_enable() };
    }
}

/// Lets the scheduler run something else if it wants (process context).
pub(crate) fn cond_resched() {
    // SAFETY: Called from process context with nothing held.
    unsafe { vmatrack_cond_resched() };
}

/// Asks for [`Mirror::drain_worker`] to run soon, in a worker (NMI-safe:
/// through irq_work, which queues the work item).
pub(crate) fn kick_drain() {
    // SAFETY: Sets a flag and queues our irq_work; callable anywhere.
    unsafe { vmatrack_kick_drain() };
}

/// Whether we run in NMI context (an int3 probe hit on x86), where nothing
/// may be allocated, not even with `GFP_ATOMIC`.
pub(crate) fn in_nmi() -> bool {
    // SAFETY: Reads the preempt count.
    unsafe { vmatrack_in_nmi() }
}

/// Tells the C handlers which hits to pass on to Rust: stores into `tree`,
/// VMAs and merges of `mm`, forks and execs of `mm` or `root_mm`. Null
/// pointers let nothing through.
pub(crate) fn set_filter(
    mm: *mut bindings::mm_struct,
    tree: *mut c_void,
    root_mm: *mut bindings::mm_struct,
    tgid: *mut bindings::pid,
) {
    // SAFETY: Only stores four pointers the handlers compare against;
    // they never dereference them.
    unsafe { vmatrack_set_filter(mm.cast(), tree, root_mm.cast(), tgid.cast()) };
}

/// How a probe is armed, as `probes` prints it.
pub(crate) fn state_name(i: usize) -> &'static str {
    // SAFETY: Reads the probe's registration and one byte of kernel text.
    match unsafe { vmatrack_probe_state(i as c_int) } {
        0 => "off",
        1 => "trap",
        2 => "jump",
        4 => "ftrace",
        _ => "armed",
    }
}

/// The least kernel stack left (bytes) seen on entry to a handler that
/// went on to change the shadow; `usize::MAX` before the first.
static STACK_LEFT_MIN: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Notes how much stack the current handler has left (see
/// [`stack_left_min`]).
pub(crate) fn note_stack_left() {
    // SAFETY: Reads the frame address and `current`'s stack bounds.
    let left = unsafe { vmatrack_stack_left() };
    STACK_LEFT_MIN.fetch_min(left, Ordering::Relaxed);
}

/// The least stack left on entry to a shadow-changing handler so far, if
/// one ran on a task stack.
pub(crate) fn stack_left_min() -> Option<usize> {
    Some(STACK_LEFT_MIN.load(Ordering::Relaxed)).filter(|&n| n != usize::MAX)
}

/// What the current task is in (a system call, numbered as
/// [`crate::engine::merge::Cause::ALL`]); callable from any probe.
pub(crate) fn current_cause() -> u32 {
    // SAFETY: Reads `current`'s registers; safe in any context.
    unsafe { vmatrack_current_cause() }
}

/// The mirror the handlers feed: set by the first [`arm`], cleared by
/// [`unregister`] at module exit; null when no probe is registered.
static MIRROR: AtomicPtr<Mirror> = AtomicPtr::new(ptr::null_mut());

/// Makes the probes in `mask` (indices into [`PROBE_NAMES`]) live for `m`:
/// registers those not registered yet and re-arms those [`disarm`]ed. On
/// failure none of those it had to register is registered.
///
/// Probes are registered once and stay until [`unregister`]: attaching
/// and detaching a target patch no kernel text (`rust/shim/probes.c` says why).
///
/// # Safety
///
/// `m` stays valid until [`unregister`] has returned, and it is the only
/// mirror whose handlers are registered.
pub(crate) unsafe fn arm(m: &Mirror, mask: u32) -> kernel::error::Result {
    let first = MIRROR.load(Ordering::Acquire).is_null();
    MIRROR.store(ptr::from_ref(m).cast_mut(), Ordering::Release);
    // SAFETY: Registration may sleep; we are in process context (a write to
    // `target` or `stats`). The handlers it installs only use `MIRROR`, set
    // above.
    let r = unsafe { vmatrack_probes_arm(mask) };
    if r != 0 {
        if first {
            MIRROR.store(ptr::null_mut(), Ordering::Release);
        }
        return Err(kernel::error::Error::from_errno(r));
    }
    Ok(())
}

/// Disarms the probes in `mask` (they stay registered; [`arm`] re-arms
/// them); the others keep running.
pub(crate) fn disarm(mask: u32) {
    // SAFETY: Process context; disarming what is not registered or armed
    // is a no-op.
    unsafe { vmatrack_probes_disarm(mask) };
}

/// Waits until every handler running now has returned: after it, each
/// handler sees what was published before the call (on detach: no target,
/// so none passes its filter).
pub(crate) fn sync_handlers() {
    // SAFETY: Process context (a write to `target`, or module exit).
    unsafe { vmatrack_handlers_sync() };
}

/// Waits for the drain worker to finish and keeps it from running again
/// until a probe kicks it: on detach, once [`sync_handlers`] has made sure
/// no handler of the old target can kick it.
pub(crate) fn stop_worker() {
    // SAFETY: Process context. No handler passes the filter any more, so
    // none kicks the worker; a worker already running finishes first.
    unsafe { vmatrack_drain_cancel() };
}

/// Unregisters every probe, at module exit; once it returns no handler
/// runs or will run.
///
/// A follow task work already queued cannot be cancelled from a module
/// (`task_work_cancel` is not exported), so this waits until it has run: a
/// new child runs it on its first return to user space or on exit.
pub(crate) fn unregister() {
    // SAFETY: Process context; `unregister_kprobe` waits for running
    // handlers, and unregistering what is not registered is a no-op.
    unsafe { vmatrack_probes_unregister(u32::MAX) };
    MIRROR.store(ptr::null_mut(), Ordering::Release);
    stop_worker();
    while FOLLOW_QUEUED.load(Ordering::Acquire) {
        // SAFETY: Sleeping is allowed here (process context).
        unsafe { bindings::msleep(10) };
    }
}

/// Checks that `rust/shim/probes.c`'s probe list is [`PROBE_NAMES`], in order,
/// with exactly the probes [`present`] says this configuration has: the
/// two halves of one table, written in two languages. Module load fails
/// (`EINVAL`, naming the first difference) when they disagree.
pub(crate) fn check_table() -> kernel::error::Result {
    for (i, name) in PROBE_NAMES.iter().enumerate() {
        // SAFETY: Returns a pointer to a static string or null.
        let c = unsafe { vmatrack_probe_symbol(i as c_int) };
        let c_name = if c.is_null() {
            None
        } else {
            // SAFETY: `c` is a NUL-terminated static string (a probe's
            // `symbol_name`).
            Some(unsafe { <kernel::str::CStr as kernel::str::CStrExt>::from_char_ptr(c) })
        };
        let same = match c_name {
            Some(c) => present(i) && c.to_bytes() == name.as_bytes(),
            None => !present(i),
        };
        if !same {
            kernel::pr_err!(
                "vmatrack: probe {i}: rust/shim/probes.c and PROBE_NAMES ({name}) differ\n"
            );
            return Err(kernel::error::code::EINVAL);
        }
    }
    Ok(())
}

/// Whether this configuration has probe `i` (`rust/shim/probes.c` leaves out
/// `__vma_start_write` without `CONFIG_PER_VMA_LOCK`, and the merge
/// verdicts (6, 7) without `CONFIG_MMU`: nommu has no `mm/vma.c`).
const fn present(i: usize) -> bool {
    (i != 2 || cfg!(CONFIG_PER_VMA_LOCK)) && (!matches!(i, 6 | 7) || cfg!(CONFIG_MMU))
}

/// Per probe this configuration has: its index, name, hits (every
/// process's) and nmissed.
pub(crate) fn stats() -> impl Iterator<Item = (usize, &'static str, usize, usize)> {
    (0..NR_PROBES).filter(|&i| present(i)).map(|i| {
        // SAFETY: Reading counters of a (possibly unregistered) static probe.
        let (hits, missed) = unsafe {
            (
                vmatrack_probe_hits(i as c_int),
                vmatrack_probe_nmissed(i as c_int),
            )
        };
        (i, PROBE_NAMES[i], hits, missed)
    })
}

/// The sum of every probe's `nmissed`: when it grows, a change may have
/// been missed.
pub(crate) fn nmissed_total() -> usize {
    stats().map(|s| s.3).sum()
}

/// The mirror, if probes are live. Handlers run between the first [`arm`]
/// and [`unregister`], during which the mirror is valid (`arm`'s contract).
fn mirror() -> Option<&'static Mirror> {
    let m = MIRROR.load(Ordering::Acquire);
    // SAFETY: Non-null only between `arm` and `unregister`, while the
    // mirror is valid; `unregister` waits for running handlers.
    unsafe { m.as_ref() }
}

/// Called by the store probes (`mas_store_prealloc`, `mas_store_gfp`) at
/// the entry of the store, with the `ma_state`'s tree and range and the
/// entry to be stored, once C has seen that the tree is the target's.
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_store(
    tree: *mut c_void,
    index: usize,
    last: usize,
    entry: *mut c_void,
) {
    if let Some(m) = mirror() {
        m.on_store(tree, index, last, entry);
    }
}

/// A merge attempt of the kernel in the target's mm ended: a new range
/// (`vma_merge_new_range()`) or an existing one (`vma_modify()`), whether
/// it merged, how long it took in ns, and the system call it was in
/// (numbered as [`crate::engine::merge::Cause::ALL`]).
/// `relaxed`: the rule sets that would have merged a new range (bit
/// `Relax::index()`; 0 for existing ranges, which are not evaluated).
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_merge_attempt(
    existing: bool,
    merged: bool,
    ns: u64,
    cause: u32,
    relaxed: u32,
) {
    if let Some(m) = mirror() {
        m.on_merge_attempt(existing, merged, ns, cause, relaxed);
    }
}

/// Called at the entry of `vma_merge_new_range()` in the target with the
/// new range it is asked to merge: which rule sets would merge it (bit
/// `Relax::index()` each).
///
/// # Safety
///
/// `p` is valid for the call; the VMAs it points to are the target's, whose
/// mmap write lock the caller holds.
#[no_mangle]
pub(crate) unsafe extern "C" fn vmatrack_rs_relaxed_verdict(p: *const ProposedVma) -> u32 {
    // SAFETY: `p` is valid for the call (the function's contract).
    let (Some(m), Some(p)) = (mirror(), unsafe { p.as_ref() }) else {
        return 0;
    };
    // SAFETY: As this function's contract.
    unsafe { m.relaxed_verdict(p) }
}

/// Called by the `__vma_start_write` probe with the VMA.
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_vma_write(vma: *mut c_void) {
    if let Some(m) = mirror() {
        m.on_vma_write(vma.cast::<bindings::vm_area_struct>());
    }
}

/// Called by the `exit_mmap` probe with the mm.
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_exit_mmap(mm: *mut c_void) {
    if let Some(m) = mirror() {
        m.on_exit_mmap(mm.cast::<bindings::mm_struct>());
    }
}

/// The attach generation now if `wants` holds, else 0 (an attached
/// mirror's generation is never 0: every `target` write increments it
/// first).
fn gen_if(m: &Mirror, wants: bool) -> u64 {
    if wants {
        m.attach_gen()
    } else {
        0
    }
}

/// Called by the `sched_post_fork` kretprobe's entry handler in the
/// parent: `task` is the new task, with its mm and the parent's. Returns
/// 0 not to follow it, else the attach generation, which the return
/// handler hands to [`vmatrack_rs_follow_claim`] before it queues the
/// follow work. Nothing is claimed here, because a return handler can be
/// skipped (see `rust/shim/probes.c`).
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_new_task(
    task: *mut c_void,
    child_mm: *mut c_void,
    parent_mm: *mut c_void,
) -> u64 {
    let _ = task;
    mirror().map_or(0, |m| {
        gen_if(m, m.wants_child(child_mm.cast(), parent_mm.cast()))
    })
}

/// The one follow task work is queued or running.
static FOLLOW_QUEUED: AtomicBool = AtomicBool::new(false);

/// Follow/exec moves: asked for, refused because one was on its way,
/// carried out, and refused by `task_work_add` (task exiting).
pub(crate) static FOLLOW_STATS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Called by the `begin_new_exec` kretprobe's entry handler with the
/// execing task's current (old) mm: 0 not to re-attach after the exec,
/// else the attach generation (as [`vmatrack_rs_new_task`]).
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_exec_begin(old_mm: *mut c_void) -> u64 {
    mirror().map_or(0, |m| {
        gen_if(
            m,
            m.is_target_mm(old_mm.cast()) || m.is_root_mm(old_mm.cast()),
        )
    })
}

/// The attach generation ([`Mirror::attach_gen`]) the queued follow work
/// was claimed in; the move is dropped if a `target` write came since.
pub(crate) static FOLLOW_GEN: AtomicU64 = AtomicU64::new(0);

/// Claims the one follow/exec task work item for the caller to queue;
/// false when a `target` write came since the entry handler saw the move
/// (generation `gen`), or (and the mirror marked stale) when the work is
/// still queued.
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_follow_claim(gen: u64) -> bool {
    let Some(m) = mirror() else {
        return false;
    };
    // The probes stay registered across detach and attach: a return
    // handler may belong to an entry seen by an earlier attach.
    if gen != m.attach_gen() {
        return false;
    }
    FOLLOW_STATS[0].fetch_add(1, Ordering::Relaxed);
    if FOLLOW_QUEUED.swap(true, Ordering::AcqRel) {
        FOLLOW_STATS[1].fetch_add(1, Ordering::Relaxed);
        // The previous move has not happened yet: this one is not made,
        // and the mirror says so.
        m.mark_stale();
        return false;
    }
    FOLLOW_GEN.store(gen, Ordering::Release);
    true
}

/// At module exit: waits until no task still returns through the follow
/// work's last instructions, if one ever ran (`rust/shim/probes.c` says why).
pub(crate) fn retire_follow() {
    if FOLLOW_STATS[2].load(Ordering::Acquire) != 0 {
        // SAFETY: Process context (module exit); sleeps for a grace period.
        unsafe { vmatrack_follow_retire() };
    }
}

/// `task_work_add` refused (the child is exiting already).
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_follow_failed() {
    FOLLOW_STATS[3].fetch_add(1, Ordering::Relaxed);
    FOLLOW_QUEUED.store(false, Ordering::Release);
}

/// Run by irq_work (hard-irq context): frees the nodes the shadow retired.
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_irq_work() {
    super::deferred::drain();
}

/// The drain work item (process context, a kworker): applies the changes
/// waiting for the shadow.
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_drain_work() {
    if let Some(m) = mirror() {
        m.drain_worker();
    }
}

/// The follow task work, in the new child's context, before its first
/// user-space instruction.
#[no_mangle]
pub(crate) extern "C" fn vmatrack_rs_follow_here() {
    FOLLOW_STATS[2].fetch_add(1, Ordering::Relaxed);
    if let Some(m) = mirror() {
        m.follow_current();
    }
    FOLLOW_QUEUED.store(false, Ordering::Release);
}
