// SPDX-License-Identifier: GPL-2.0

//! Reading the kernel's VMA tree into shadow records.
//!
//! `kernel::mm` has `vma_lookup` but no VMA iterator, and `VmaRef` shows
//! start, end and flags only; the walk of `mm->mm_mt` and the other fields
//! (`vm_pgoff`, `vm_file`, `anon_vma`, ...) come through `bindings::`, here
//! and nowhere else.

use kernel::{
    bindings,
    ffi::c_void,
    mm::{virt::VmaRef, MmWithUser, MmapReadGuard},
    prelude::*,
};

use super::{
    ids::IdKey,
    layout::merge_attrs,
    names::{anon_name_id, NameTable},
    vma_fields,
};
use crate::engine::{
    maps::MmLayout,
    record::{FileRef, MergeAttrs, SpecialName, VmaRecord},
};

/// Reads the record of one VMA.
///
/// In probe context (`in_probe`) `vm_ops->name()` is not called (it is a
/// callback into whatever driver made the VMA); the special name is then
/// left empty and filled in when a reader re-reads the dirty range.
///
/// # Safety
///
/// `vma` points to a VMA of a tree whose mmap lock the caller holds (read or
/// write), so the VMA and what it references stay put during the call.
pub(crate) unsafe fn read_vma(
    vma: *const bindings::vm_area_struct,
    ids: &IdKey,
    in_probe: bool,
) -> (usize, usize, VmaRecord) {
    // SAFETY: `vma` is valid while the caller holds the mmap lock.
    let r = unsafe { VmaRef::from_raw(vma) };
    // SAFETY: As above: every field read below is stable under the mmap
    // lock, and the pointers in it (file, inode, superblock, vm_ops) stay
    // valid while the VMA exists.
    let (v, file) = unsafe {
        let v = &*vma;
        let file = if v.vm_file.is_null() {
            None
        } else {
            let inode = (*v.vm_file).f_inode;
            Some(FileRef {
                file: ids.id(v.vm_file),
                dev: (*(*inode).i_sb).s_dev,
                ino: (*inode).i_ino,
            })
        };
        (v, file)
    };
    let mut special = SpecialName::default();
    let mut has_close = false;
    if !v.vm_ops.is_null() {
        // SAFETY: `vm_ops` is a valid ops table for as long as the VMA lives.
        let ops = unsafe { &*v.vm_ops };
        has_close = ops.close.is_some();
        if let Some(name) = ops.name.filter(|_| !in_probe) {
            // SAFETY: `name` is the VMA's own `vm_ops->name`, called on its
            // VMA under the mmap lock as `/proc/PID/maps` does; it returns a
            // static string or NULL.
            let s = unsafe { name(vma.cast_mut()) };
            if !s.is_null() {
                // SAFETY: A non-NULL result is a NUL-terminated string.
                special = SpecialName::new(unsafe { CStr::from_char_ptr(s) }.to_bytes());
            }
        }
    }
    // SAFETY: As above.
    let (m, anon_name) = unsafe {
        (
            merge_attrs(vma),
            anon_name_id(ids, vma_fields::anon_name(v)),
        )
    };
    let rec = VmaRecord {
        vma: ids.id(vma),
        flags: r.flags() as u64,
        pgoff: v.vm_pgoff as u64,
        file,
        anon_vma: ids.id(v.anon_vma),
        anon_name,
        special,
        merge: MergeAttrs {
            mempolicy: m.mempolicy,
            uffd_ctx: ids.id(vma_fields::uffd_ctx(v)),
            anon_vma_fork_child: m.anon_vma_fork_child,
            has_close,
            anon_pgoff_shift: m
                .anon_pgoff
                .wrapping_sub((r.start() >> bindings::PAGE_SHIFT) as u64),
            uffd_no_event_remap: m.uffd_no_event_remap,
            anon_vma_unshared: m.anon_vma_unshared,
        },
    };
    (r.start(), r.end(), rec)
}

/// Whether `e` is one of the maple tree's internal entries (never a VMA).
///
/// A VMA tree holds one only after a failed `dup_mmap()` (`XA_ZERO_ENTRY`),
/// and such an mm never becomes a target; the walks skip them anyway
/// rather than read one as a VMA.
pub(crate) fn xa_is_internal(e: *mut c_void) -> bool {
    e.addr() & 3 == 2
}

/// A maple state on `tree` at `[first, last]`, as `MA_STATE()` makes it (the
/// other fields zero). For walks of an mm's VMA tree, and for the C maple
/// tree peer of the in-kernel checks.
pub(crate) fn ma_state(
    tree: *mut bindings::maple_tree,
    first: usize,
    last: usize,
) -> bindings::ma_state {
    bindings::ma_state {
        tree,
        index: first,
        last,
        node: core::ptr::null_mut(),
        status: bindings::maple_status_ma_start,
        min: 0,
        max: usize::MAX,
        alloc: core::ptr::null_mut(),
        mas_flags: 0,
        store_type: bindings::store_type_wr_invalid,
        ..Default::default()
    }
}

/// A raw `ma_state` on `mm->mm_mt` at `index`.
fn mm_mas(mm: *mut bindings::mm_struct, index: usize) -> bindings::ma_state {
    // SAFETY: `mm` is valid (callers hold a reference); `mm_mt` is a field.
    let tree = unsafe { &raw mut (*mm).__bindgen_anon_1.mm_mt };
    ma_state(tree, index, index)
}

/// Calls `f(vma, mas)` for every VMA `mas_find()` finds from `mas` up to
/// `last`, in address order, skipping internal entries; stops at the first
/// error `f` returns.
///
/// # Safety
///
/// `mas` is on an mm's VMA tree that the caller keeps safe to walk, and
/// whose entries stay valid VMAs during the call: under its mmap lock, or
/// under RCU while nobody changes the tree.
unsafe fn each_vma<E>(
    mas: &mut bindings::ma_state,
    last: usize,
    mut f: impl FnMut(*const bindings::vm_area_struct, &bindings::ma_state) -> Result<(), E>,
) -> Result<(), E> {
    loop {
        // SAFETY: The caller keeps the tree walkable.
        let e: *mut c_void = unsafe { bindings::mas_find(mas, last) };
        if e.is_null() {
            return Ok(());
        }
        if !xa_is_internal(e) {
            f(e.cast::<bindings::vm_area_struct>(), mas)?;
        }
    }
}

/// Calls `f(vma, start, end, record)` for every VMA that overlaps
/// `[first, last]`, in address order; the names of each go into `names`.
///
/// The caller holds `mm`'s mmap lock (the `_lock` argument proves it).
pub(crate) fn walk(
    _lock: &MmapReadGuard<'_>,
    mm: &MmWithUser,
    ids: &IdKey,
    names: &mut NameTable,
    first: usize,
    last: usize,
    mut f: impl FnMut(usize, usize, VmaRecord) -> Result,
) -> Result {
    let each = |vma, mas: &bindings::ma_state| {
        // SAFETY: Entries of `mm_mt` are VMAs; the lock keeps them valid.
        let (vm_start, vm_end, rec) = unsafe { read_vma(vma, ids, false) };
        let (start, end) = mirrored_range(vm_start, vm_end, mas);
        // SAFETY: As above.
        unsafe { names.add_vma(vma, ids) }?;
        f(start, end, rec)
    };
    let mut mas = mm_mas(mm.as_raw(), first);
    // SAFETY: The mmap lock (`_lock`) protects the walk of `mm_mt` and
    // keeps its VMAs valid.
    unsafe { each_vma(&mut mas, last, each) }
}

/// The names of every VMA of `mm` into `names` (what `maps` prints besides
/// the records), without reading the records themselves.
///
/// The caller holds `mm`'s mmap lock (the `_lock` argument proves it).
pub(crate) fn names_of(
    _lock: &MmapReadGuard<'_>,
    mm: &MmWithUser,
    ids: &IdKey,
    names: &mut NameTable,
) -> Result {
    // SAFETY: Entries of `mm_mt` are VMAs; the lock keeps them valid.
    let each = |vma, _: &bindings::ma_state| unsafe { names.add_vma(vma, ids) };
    let mut mas = mm_mas(mm.as_raw(), 0);
    // SAFETY: The mmap lock (`_lock`) protects the walk of `mm_mt` and
    // keeps its VMAs valid.
    unsafe { each_vma(&mut mas, usize::MAX, each) }
}

/// The range the shadow mirrors for a VMA found by `mas`: its own on MMU
/// kernels; the tree's on nommu, whose mremap moves `vm_end` without a
/// tree store (the shadow mirrors the tree, see `super::nommu`).
fn mirrored_range(vm_start: usize, vm_end: usize, mas: &bindings::ma_state) -> (usize, usize) {
    if cfg!(CONFIG_MMU) {
        (vm_start, vm_end)
    } else {
        (mas.index, mas.last.wrapping_add(1))
    }
}

/// Calls `f(vma, start, end)` for every VMA of `mm` without taking its
/// lock, under RCU; `[start, end)` is the range the shadow mirrors for it
/// ([`mirrored_range`]).
///
/// # Safety
///
/// Nobody changes `mm`'s VMA tree during the call (for example: at the
/// entry of `exit_mmap`, when the mm has no users left).
pub(crate) unsafe fn walk_raw(
    mm: *mut bindings::mm_struct,
    mut f: impl FnMut(*const bindings::vm_area_struct, usize, usize),
) {
    let each = |vma, mas: &bindings::ma_state| {
        // SAFETY: An entry of a stable tree is a valid VMA, whose extent
        // does not change while the tree does not (caller's contract).
        let (_, vm_start, vm_end) = unsafe { vma_mm_and_range(vma) };
        let (start, end) = mirrored_range(vm_start, vm_end, mas);
        f(vma, start, end);
        Ok::<(), core::convert::Infallible>(())
    };
    let _rcu = kernel::sync::rcu::read_lock();
    let mut mas = mm_mas(mm, 0);
    // SAFETY: The tree is stable (caller's contract) and RCU keeps its
    // nodes alive for the walk.
    let _ = unsafe { each_vma(&mut mas, usize::MAX, each) };
}

/// Where the heap and main stack are, read under the mmap lock.
pub(crate) fn layout(_lock: &MmapReadGuard<'_>, mm: &MmWithUser) -> MmLayout {
    // SAFETY: `mm` is valid and its brk/stack fields are stable under the lock.
    let m = unsafe { &(*mm.as_raw()).__bindgen_anon_1 };
    MmLayout {
        start_brk: m.start_brk as u64,
        brk: m.brk as u64,
        start_stack: m.start_stack as u64,
    }
}

/// `mas_empty_area[_rev]()` on the mm's VMA tree, for `check`.
pub(crate) fn kernel_empty_area(
    _lock: &MmapReadGuard<'_>,
    mm: &MmWithUser,
    min: usize,
    max: usize,
    size: usize,
    rev: bool,
) -> Option<usize> {
    let mut mas = mm_mas(mm.as_raw(), 0);
    // SAFETY: The mmap lock protects `mm_mt`, which is what these functions
    // require of a tree with an external lock.
    let r = unsafe {
        if rev {
            bindings::mas_empty_area_rev(&mut mas, min, max, size)
        } else {
            bindings::mas_empty_area(&mut mas, min, max, size)
        }
    };
    (r == 0).then_some(mas.index)
}

/// The VMA's mm and extent, read in probe context.
///
/// # Safety
///
/// `vma` is valid and its extent stable: the VMA `__vma_start_write()` was
/// called with (its mm's write lock is held by that function's caller), or
/// a VMA of a tree nobody changes ([`walk_raw`]).
pub(crate) unsafe fn vma_mm_and_range(
    vma: *const bindings::vm_area_struct,
) -> (*mut bindings::mm_struct, usize, usize) {
    // SAFETY: See the function's contract.
    let v = unsafe { &*vma };
    // SAFETY: Plain fields of a valid VMA (vm_start/vm_end of its union).
    let (s, e) = unsafe {
        (
            v.__bindgen_anon_1.__bindgen_anon_1.vm_start,
            v.__bindgen_anon_1.__bindgen_anon_1.vm_end,
        )
    };
    (v.vm_mm, s, e)
}
