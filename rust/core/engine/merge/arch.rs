// SPDX-License-Identifier: GPL-2.0

//! What the merge rules and their output need to know about the kernel's
//! architecture, which the platform-free engine cannot know by itself.

/// The kernel's page size and the names of its architecture's own
/// `vm_flags` bits, supplied by the glue (as [`super::super::maps::MapsFormat`]
/// is for the maps file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arch {
    /// The kernel's `PAGE_SHIFT`: `vma_pages()` and the page offsets the
    /// rules compare count pages of `1 << page_shift` bytes.
    pub page_shift: u32,
    /// Names of the architecture-specific `vm_flags` bits (24 and 32-38,
    /// [`super::flags::ARCH_SPECIFIC`]) as `(bit mask, name)`, for
    /// instance [`super::flags::X86_64_NAMES`]; one of those bits not in
    /// it is shown as `arch_bitN`. Entries for other bits are ignored:
    /// those mean the same everywhere.
    pub flag_names: &'static [(u64, &'static str)],
}

impl Arch {
    /// An architecture with pages of `1 << page_shift` bytes whose own
    /// `vm_flags` bits have no names here.
    pub const fn generic(page_shift: u32) -> Arch {
        Arch {
            page_shift,
            flag_names: &[],
        }
    }
}
