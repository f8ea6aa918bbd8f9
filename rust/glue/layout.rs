// SPDX-License-Identifier: GPL-2.0

//! A load-time check that bindgen's struct layouts agree with C's for every
//! field vmatrack reads through `bindings::`.
//!
//! In the 7.3.4 x86_64 build bindgen's `task_struct` placed `comm` 48 bytes
//! early (measured: C 1560, Rust 1512), so a field read through bindings is
//! only trusted after `rust/shim/layout.c` has confirmed its offset. A mismatch
//! fails `insmod` with `EINVAL` and names the field.

use core::mem::offset_of;
use kernel::{bindings, ffi::c_void, prelude::*};

/// How many offsets `rust/shim/layout.c` exports (its `VMATRACK_NR_OFFSETS`).
const NR_OFFSETS: usize = 38;

extern "C" {
    static vmatrack_c_offsets: [usize; NR_OFFSETS];
    // The task as `void *`: bindgen's `task_struct` is not FFI-safe (and not
    // to be trusted, see above); C only needs the address.
    fn vmatrack_task_comm(task: *mut c_void, buf: *mut u8);
    // The VMA as `void *` too: bindgen's `vm_area_struct` is not FFI-safe.
    fn vmatrack_merge_attrs(vma: *mut c_void, out: *mut CMergeAttrs);
    fn vmatrack_max_map_count() -> core::ffi::c_long;
}

/// The sysctl `vm.max_map_count`, if it can be read (`rust/shim/layout.c` says
/// how: the variable is not exported).
pub(crate) fn max_map_count() -> Option<u64> {
    // SAFETY: Process context (a debugfs read); the C opens and reads a
    // procfs file.
    let v = unsafe { vmatrack_max_map_count() };
    u64::try_from(v).ok()
}

/// `struct vmatrack_merge_attrs` of `rust/shim/layout.h`.
#[repr(C)]
#[derive(Default)]
struct CMergeAttrs {
    mempolicy: u64,
    anon_pgoff: u64,
    anon_vma_fork_child: bool,
    uffd_no_event_remap: bool,
    anon_vma_unshared: bool,
}

/// What the merge rules compare that bindgen cannot reach (an opaque
/// `struct mempolicy`, static inline helpers), read by `rust/shim/layout.c`.
pub(crate) struct VmaMergeAttrs {
    /// Fingerprint of `vm_policy` as `__mpol_equal()` compares it; 0: none.
    pub(crate) mempolicy: u64,
    /// `vma_start_anon_pgoff()`.
    pub(crate) anon_pgoff: u64,
    /// `vma_is_fork_child()` of `mm/vma.c`.
    pub(crate) anon_vma_fork_child: bool,
    /// `vma_has_uffd_without_event_remap()`.
    pub(crate) uffd_no_event_remap: bool,
    /// The `anon_vma` is its own root with no children (`rust/shim/layout.c`).
    pub(crate) anon_vma_unshared: bool,
}

/// Reads [`VmaMergeAttrs`] of `vma`.
///
/// # Safety
///
/// `vma` is valid and stable: its mm's mmap lock is held (read or write).
pub(crate) unsafe fn merge_attrs(vma: *const bindings::vm_area_struct) -> VmaMergeAttrs {
    let mut c = CMergeAttrs::default();
    // SAFETY: `vma` is valid (the caller's contract); the C reads only.
    unsafe { vmatrack_merge_attrs(vma.cast_mut().cast(), &mut c) };
    VmaMergeAttrs {
        mempolicy: c.mempolicy,
        anon_pgoff: c.anon_pgoff,
        anon_vma_fork_child: c.anon_vma_fork_child,
        uffd_no_event_remap: c.uffd_no_event_remap,
        anon_vma_unshared: c.anon_vma_unshared,
    }
}

/// `VMATRACK_ABSENT` in `rust/shim/layout.h`: a field this configuration does
/// not have (see `super::vma_fields`); both sides give it.
#[cfg(any(not(CONFIG_NUMA), not(CONFIG_ANON_VMA_NAME)))]
const ABSENT: usize = usize::MAX;

/// The same fields, in the same order as `rust/shim/layout.c`, as bindgen has them.
const RUST_OFFSETS: [(&str, usize); NR_OFFSETS] = [
    (
        "task_struct.flags",
        offset_of!(bindings::task_struct, flags),
    ),
    (
        "mm_struct.mm_mt",
        offset_of!(bindings::mm_struct, __bindgen_anon_1.mm_mt),
    ),
    (
        "mm_struct.start_brk",
        offset_of!(bindings::mm_struct, __bindgen_anon_1.start_brk),
    ),
    (
        "mm_struct.brk",
        offset_of!(bindings::mm_struct, __bindgen_anon_1.brk),
    ),
    (
        "mm_struct.start_stack",
        offset_of!(bindings::mm_struct, __bindgen_anon_1.start_stack),
    ),
    (
        "vm_area_struct.vm_start",
        offset_of!(
            bindings::vm_area_struct,
            __bindgen_anon_1.__bindgen_anon_1.vm_start
        ),
    ),
    (
        "vm_area_struct.vm_end",
        offset_of!(
            bindings::vm_area_struct,
            __bindgen_anon_1.__bindgen_anon_1.vm_end
        ),
    ),
    (
        "vm_area_struct.vm_mm",
        offset_of!(bindings::vm_area_struct, vm_mm),
    ),
    (
        "vm_area_struct.vm_flags",
        offset_of!(bindings::vm_area_struct, __bindgen_anon_2.vm_flags),
    ),
    (
        "vm_area_struct.anon_vma",
        offset_of!(bindings::vm_area_struct, anon_vma),
    ),
    (
        "vm_area_struct.vm_ops",
        offset_of!(bindings::vm_area_struct, vm_ops),
    ),
    (
        "vm_area_struct.vm_pgoff",
        offset_of!(bindings::vm_area_struct, vm_pgoff),
    ),
    (
        "vm_area_struct.vm_file",
        offset_of!(bindings::vm_area_struct, vm_file),
    ),
    (
        "vm_area_struct.vm_policy",
        #[cfg(CONFIG_NUMA)]
        offset_of!(bindings::vm_area_struct, vm_policy),
        #[cfg(not(CONFIG_NUMA))]
        ABSENT,
    ),
    (
        "vm_area_struct.anon_name",
        #[cfg(CONFIG_ANON_VMA_NAME)]
        offset_of!(bindings::vm_area_struct, anon_name),
        #[cfg(not(CONFIG_ANON_VMA_NAME))]
        ABSENT,
    ),
    (
        "vm_area_struct.vm_userfaultfd_ctx",
        offset_of!(bindings::vm_area_struct, vm_userfaultfd_ctx),
    ),
    (
        "file.f_path",
        offset_of!(bindings::file, __bindgen_anon_1.f_path),
    ),
    ("file.f_inode", offset_of!(bindings::file, f_inode)),
    ("inode.i_sb", offset_of!(bindings::inode, i_sb)),
    ("inode.i_ino", offset_of!(bindings::inode, i_ino)),
    (
        "super_block.s_dev",
        offset_of!(bindings::super_block, s_dev),
    ),
    (
        "vm_operations_struct.close",
        offset_of!(bindings::vm_operations_struct, close),
    ),
    (
        "vm_operations_struct.name",
        offset_of!(bindings::vm_operations_struct, name),
    ),
    (
        "anon_vma_name.name",
        offset_of!(bindings::anon_vma_name, name),
    ),
    (
        "pid_namespace.pid_max",
        offset_of!(bindings::pid_namespace, pid_max),
    ),
    ("pid.count", offset_of!(bindings::pid, count)),
    ("seq_file.private", offset_of!(bindings::seq_file, private)),
    (
        "file.private_data",
        offset_of!(bindings::file, private_data),
    ),
    ("inode.i_private", offset_of!(bindings::inode, i_private)),
    ("ma_state.tree", offset_of!(bindings::ma_state, tree)),
    ("ma_state.index", offset_of!(bindings::ma_state, index)),
    ("ma_state.last", offset_of!(bindings::ma_state, last)),
    ("ma_state.node", offset_of!(bindings::ma_state, node)),
    ("ma_state.alloc", offset_of!(bindings::ma_state, alloc)),
    ("ma_state.status", offset_of!(bindings::ma_state, status)),
    (
        "ma_state.mas_flags",
        offset_of!(bindings::ma_state, mas_flags),
    ),
    (
        "ma_state.store_type",
        offset_of!(bindings::ma_state, store_type),
    ),
    (
        "sizeof(ma_state)",
        core::mem::size_of::<bindings::ma_state>(),
    ),
];

/// Compares every offset; `EINVAL` (after naming each bad field) if any differs.
pub(crate) fn check() -> Result {
    let mut ok = true;
    for (i, (name, rust)) in RUST_OFFSETS.iter().enumerate() {
        // SAFETY: `vmatrack_c_offsets` is an initialised constant array of
        // `NR_OFFSETS` entries in `rust/shim/layout.c`.
        let c = unsafe { vmatrack_c_offsets }
            .get(i)
            .copied()
            .unwrap_or(usize::MAX);
        if c != *rust {
            pr_err!("layout: {name} is at {c} in C but {rust} in Rust's bindings\n");
            ok = false;
        }
    }
    if ok {
        Ok(())
    } else {
        Err(EINVAL)
    }
}

/// The task's name (`get_task_comm`), read in C: see the module comment.
pub(crate) fn task_comm(task: *mut bindings::task_struct) -> [u8; 16] {
    let mut buf = [0u8; 16];
    // SAFETY: The caller holds a reference to `task`; `buf` is the
    // `TASK_COMM_LEN` (16) bytes the function writes.
    unsafe { vmatrack_task_comm(task.cast::<c_void>(), buf.as_mut_ptr()) };
    buf
}
