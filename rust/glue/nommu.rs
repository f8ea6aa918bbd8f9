// SPDX-License-Identifier: GPL-2.0

//! What only a nommu kernel (`!CONFIG_MMU`) needs: telling where a VMA's
//! `vm_end` and its range in the VMA tree disagree.
//!
//! nommu `do_mremap()` (mm/nommu.c) shrinks a VMA, or grows it back up to
//! its region's size, by writing `vma->vm_end` under the mmap write lock,
//! without storing the new range in `mm->mm_mt`. The store probes see
//! nothing, so the shadow keeps the tree's range, and so does every reader
//! of the kernel's side ([`super::vma::walk`] takes the range from the
//! tree on nommu): the shadow mirrors the tree, which is also what the
//! kernel's own `find_vma()`, `munmap()` and `exit_mmap()` walk. `check`
//! stays `ok` and lists each such VMA with [`note_mremapped`], so the
//! difference from `/proc/PID/maps` (which prints `vm_end`) is explained
//! rather than hidden. See the probe list in `super::probes`.
//!
//! # Examples
//!
//! After `mremap(a, 4 pages, 2 pages, 0)` of a 4-page private mapping at
//! `0x80400000`, `check` prints
//!
//! ```text
//! # nommu mremap: 80400000-80404000 in the tree, vm_end 80402000
//! ok vmas=N
//! ```

use core::fmt;
use kernel::{
    bindings,
    ffi::c_void,
    mm::{MmWithUser, MmapReadGuard},
};

use super::vma::ma_state;

/// Writes one `# nommu mremap` line per VMA of `mm` whose `vm_end` is not
/// the end of its range in `mm->mm_mt`; returns how many there were.
///
/// The caller holds `mm`'s mmap lock (the `_lock` argument proves it).
pub(crate) fn note_mremapped(
    _lock: &MmapReadGuard<'_>,
    mm: &MmWithUser,
    f: &mut fmt::Formatter<'_>,
) -> usize {
    // SAFETY: `mm` is valid (the caller holds a user reference); `mm_mt`
    // is one of its fields.
    let tree = unsafe { &raw mut (*mm.as_raw()).__bindgen_anon_1.mm_mt };
    let mut mas = ma_state(tree, 0, 0);
    let mut n = 0;
    loop {
        // SAFETY: The mmap lock (`_lock`) protects the walk of `mm_mt`.
        let e: *mut c_void = unsafe { bindings::mas_find(&mut mas, usize::MAX) };
        if e.is_null() {
            return n;
        }
        // SAFETY: Entries of `mm_mt` are VMAs; the lock keeps them valid
        // and `vm_end` stable.
        let vm_end = unsafe {
            (*e.cast::<bindings::vm_area_struct>())
                .__bindgen_anon_1
                .__bindgen_anon_1
                .vm_end
        };
        let end = mas.last.wrapping_add(1);
        if vm_end != end {
            n += 1;
            let _ = writeln!(
                f,
                "# nommu mremap: {:x}-{end:x} in the tree, vm_end {vm_end:x}",
                mas.index
            );
        }
    }
}
