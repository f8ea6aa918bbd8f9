// SPDX-License-Identifier: GPL-2.0

//! Reading the kernel's VMA tree into shadow records.
//!
//! `kernel::mm` has `vma_lookup` but no VMA iterator, and `VmaRef` shows
//! start, end and flags only; the walk of `mm->mm_mt` and the other fields
//! (`vm_pgoff`, `vm_file`, `anon_vma`, ...) come through `bindings::`, here
//! and nowhere else.

use core::ptr;
use kernel::{bindings, ffi::c_void, mm::virt::VmaRef, mm::MmWithUser, prelude::*};

use super::{ids::IdKey, names::NameTable};
use crate::engine::{
    maps::MmLayout,
    record::{FileRef, MergeAttrs, SpecialName, VmaRecord},
};

/// Reads the record of one VMA.
///
/// # Safety
///
/// `vma` points to a VMA of a tree whose mmap lock the caller holds (read or
/// write), so the VMA and what it references stay put during the call.
pub(crate) unsafe fn read_vma(
    vma: *const bindings::vm_area_struct,
    ids: &IdKey,
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
        if let Some(name) = ops.name {
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
    let rec = VmaRecord {
        vma: ids.id(vma),
        flags: r.flags() as u64,
        pgoff: v.vm_pgoff as u64,
        file,
        anon_vma: ids.id(v.anon_vma),
        anon_name: ids.id(v.anon_name),
        special,
        merge: MergeAttrs {
            mempolicy: ids.id(v.vm_policy).0,
            uffd_ctx: ids.id(v.vm_userfaultfd_ctx.ctx),
            anon_vma_fork_child: false,
            has_close,
        },
    };
    (r.start(), r.end(), rec)
}

/// Takes the mm's mmap read lock and calls `f(start, end, record)` for every
/// VMA in address order; returns the heap and stack placement read under
/// the same lock. Stops at, and returns, `f`'s first error.
///
/// The names of every VMA (file paths, anon names) go into `names`.
pub(crate) fn snapshot(
    mm: &MmWithUser,
    ids: &IdKey,
    names: &mut NameTable,
    mut f: impl FnMut(usize, usize, VmaRecord) -> Result,
) -> Result<MmLayout> {
    let _lock = mm.mmap_read_lock();
    let raw = mm.as_raw();
    // The fields `MA_STATE(mas, &mm->mm_mt, 0, 0)` sets; the rest are zero.
    let mut mas = bindings::ma_state {
        // SAFETY: `raw` is a valid mm (borrowed from `mm`); `mm_mt` is a field.
        tree: unsafe { &raw mut (*raw).__bindgen_anon_1.mm_mt },
        index: 0,
        last: 0,
        node: ptr::null_mut(),
        status: bindings::maple_status_ma_start,
        min: 0,
        max: usize::MAX,
        alloc: ptr::null_mut(),
        mas_flags: 0,
        store_type: bindings::store_type_wr_invalid,
        ..Default::default()
    };
    loop {
        // SAFETY: The mmap read lock (`_lock`) protects the walk of `mm_mt`.
        let e: *mut c_void = unsafe { bindings::mas_find(&mut mas, usize::MAX) };
        if e.is_null() {
            break;
        }
        let vma = e.cast::<bindings::vm_area_struct>();
        // SAFETY: Entries of `mm_mt` are VMAs; the lock keeps them valid.
        let (start, end, rec) = unsafe { read_vma(vma, ids) };
        // SAFETY: As above.
        unsafe { names.add_vma(vma, ids) }?;
        f(start, end, rec)?;
    }
    // SAFETY: `raw` is valid and its brk/stack fields are stable under the lock.
    let m = unsafe { &(*raw).__bindgen_anon_1 };
    Ok(MmLayout {
        start_brk: m.start_brk as u64,
        brk: m.brk as u64,
        start_stack: m.start_stack as u64,
    })
}
