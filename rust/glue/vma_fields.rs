// SPDX-License-Identifier: GPL-2.0

//! VMA fields that exist only with some kernel configurations.
//!
//! `struct vm_area_struct` in `include/linux/mm_types.h` has `vm_policy`
//! only with `CONFIG_NUMA` (read in `rust/shim/layout.c`, as a fingerprint),
//! `anon_name` only with `CONFIG_ANON_VMA_NAME`
//! (which needs `CONFIG_MMU`), and an empty `vm_userfaultfd_ctx` without
//! `CONFIG_USERFAULTFD`. A nommu kernel has none of the three. Each
//! accessor gives the field's pointer, or null where the field does not
//! exist: null is what a VMA without a policy, name or context has, so the
//! shadow's records and the maps format need no other case.

use kernel::{bindings, ffi::c_void};

/// `vma->anon_name`, or null without `CONFIG_ANON_VMA_NAME`.
pub(crate) fn anon_name(v: &bindings::vm_area_struct) -> *const bindings::anon_vma_name {
    #[cfg(CONFIG_ANON_VMA_NAME)]
    return v.anon_name.cast_const();
    #[cfg(not(CONFIG_ANON_VMA_NAME))]
    {
        let _ = v;
        core::ptr::null()
    }
}

/// `vma->vm_userfaultfd_ctx.ctx`, or null without `CONFIG_USERFAULTFD`.
pub(crate) fn uffd_ctx(v: &bindings::vm_area_struct) -> *const c_void {
    #[cfg(CONFIG_USERFAULTFD)]
    return v.vm_userfaultfd_ctx.ctx.cast::<c_void>().cast_const();
    #[cfg(not(CONFIG_USERFAULTFD))]
    {
        let _ = v;
        core::ptr::null()
    }
}
