// SPDX-License-Identifier: GPL-2.0

//! What the shadow keeps per VMA.
//!
//! Ranges live in the range tree (inclusive `[first, last]`); a record holds
//! the rest. Identities of kernel objects (the VMA, its `struct file`, its
//! `anon_vma`, ...) are opaque: a keyed hash of the object's address made by
//! the kernel side ([`ObjectId`]), so no output can leak a kernel pointer,
//! while equality still means "the same object" (which is what the merge
//! rules compare).

/// An opaque identity of a kernel object; 0 means "none".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(pub u64);

impl ObjectId {
    /// No object.
    pub const NONE: ObjectId = ObjectId(0);

    /// Whether this names an object.
    pub fn is_some(self) -> bool {
        self.0 != 0
    }
}

/// The file behind a file-backed VMA, as `/proc/PID/maps` shows it and as
/// the merge rules compare it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileRef {
    /// The `struct file` (two opens of one inode are different files).
    pub file: ObjectId,
    /// Device number of the inode's superblock (`s_dev`, kernel encoding).
    pub dev: u32,
    /// Inode number.
    pub ino: u64,
}

/// A short name the kernel gives a VMA with no file (`[vdso]`, `[vvar]`,
/// ...), captured from `vm_ops->name()`; empty when there is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpecialName {
    len: u8,
    bytes: [u8; 15],
}

impl SpecialName {
    /// Keeps `s` if it fits (15 bytes); longer names are cut, which no name
    /// the kernel gives in 7.3 is.
    pub fn new(s: &[u8]) -> Self {
        let mut n = SpecialName::default();
        let len = s.len().min(n.bytes.len());
        // A loop, not copy_from_slice: no length-mismatch panic path in the
        // module (objtool in 7.3 does not know 1.95's panic helper).
        for (d, c) in n.bytes.iter_mut().zip(s.iter()) {
            *d = *c;
        }
        // len <= 15.
        n.len = len as u8;
        n
    }

    /// The name, or `None` when there is none or it is not UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        let b = self.bytes.get(..usize::from(self.len))?;
        if b.is_empty() {
            None
        } else {
            core::str::from_utf8(b).ok()
        }
    }
}

/// One VMA of the shadow. `Copy` so lockless readers can take it out of a
/// tree node whole. Its `Debug` form is the one-line summary the `tree`
/// file shows per range.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct VmaRecord {
    /// The `vm_area_struct` itself.
    pub vma: ObjectId,
    /// `vm_flags`.
    pub flags: u64,
    /// `vm_pgoff` (in pages).
    pub pgoff: u64,
    /// The file, for file-backed VMAs.
    pub file: Option<FileRef>,
    /// The `anon_vma` (set on first fault, possibly under the read lock).
    pub anon_vma: ObjectId,
    /// The `anon_vma_name` (prctl `PR_SET_VMA_ANON_NAME`). The merge rules
    /// (`anon_vma_name_eq()`) compare the names' text, so two names with
    /// the same text must get the same id.
    pub anon_name: ObjectId,
    /// `vm_ops->name()` for special mappings.
    pub special: SpecialName,
    /// Attributes the merge rules compare beyond the above (filled by the
    /// merge-statistics work, see [`MergeAttrs`]).
    pub merge: MergeAttrs,
}

/// What `vma_merge_*` compares that `/proc/PID/maps` does not show. The
/// default is "nothing special": no policy, no userfaultfd, not a fork
/// child, no close hook, anonymous page offset following the address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeAttrs {
    /// Fingerprint of the VMA's mempolicy (0: none / default). The merge
    /// rules use `mpol_equal()`, which compares contents: two VMAs whose
    /// policies are equal must get equal fingerprints.
    pub mempolicy: u64,
    /// The userfaultfd context, `vm_userfaultfd_ctx.ctx`.
    pub uffd_ctx: ObjectId,
    /// `vma_is_fork_child()` (static in `mm/vma.c`): `vma->anon_vma &&
    /// !list_is_singular(&vma->anon_vma_chain)`.
    pub anon_vma_fork_child: bool,
    /// `vm_ops->close` is set.
    pub has_close: bool,
    /// `vma_start_anon_pgoff(vma) - (vma->vm_start >> PAGE_SHIFT)`,
    /// wrapping: how far the anonymous page offset (`__vm_anon_pgoff_hi`,
    /// `__vm_anon_pgoff_lo`) is from the address. 0 for every VMA that was
    /// never faulted then moved, which keeps the default meaningful and
    /// survives splits and merges (both move offset and address together).
    pub anon_pgoff_shift: u64,
    /// `vma_has_uffd_without_event_remap(vma)`: a userfaultfd context
    /// without `UFFD_FEATURE_EVENT_REMAP`, which mremap() would clear.
    pub uffd_no_event_remap: bool,
    /// The VMA's `anon_vma` is its own root and has no children
    /// (`av->root == av && av->num_children == 1`, the 1 being itself): no
    /// other process can hold its pages through it. False when there is
    /// no `anon_vma`. Only the what-if of relaxed merge rules reads it.
    pub anon_vma_unshared: bool,
}

/// `vm_flags` bits the maps file shows (same values on every architecture).
pub mod vm_flags {
    /// `VM_READ`.
    pub const READ: u64 = 0x1;
    /// `VM_WRITE`.
    pub const WRITE: u64 = 0x2;
    /// `VM_EXEC`.
    pub const EXEC: u64 = 0x4;
    /// `VM_SHARED`.
    pub const SHARED: u64 = 0x8;
    /// `VM_MAYSHARE`.
    pub const MAYSHARE: u64 = 0x80;
}

impl VmaRecord {
    /// `self` with the fields a page fault sets under the mmap *read* lock
    /// (`anon_vma`, and with it whether it is a fork child's and whether
    /// it is unshared) taken from `kernel`: no probe sees them change, so
    /// comparisons with the kernel's tree refresh them instead of calling
    /// them divergent. Whether the `anon_vma` is unshared also changes
    /// when the target forks or a child exits, with no store in the
    /// target's tree.
    pub fn with_fault_fields_of(self, kernel: &VmaRecord) -> VmaRecord {
        VmaRecord {
            anon_vma: kernel.anon_vma,
            merge: MergeAttrs {
                anon_vma_fork_child: kernel.merge.anon_vma_fork_child,
                anon_vma_unshared: kernel.merge.anon_vma_unshared,
                ..self.merge
            },
            ..self
        }
    }
}

impl core::fmt::Debug for VmaRecord {
    /// `rw-p pgoff=0x0 file=00:03/23 anon_vma name=[vdso]`: what maps shows,
    /// plus which identities are set (ids themselves are not printed: they
    /// only mean something compared with each other).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let bit = |b: u64, c: char| if self.flags & b != 0 { c } else { '-' };
        let share = if self.flags & vm_flags::MAYSHARE != 0 {
            's'
        } else {
            'p'
        };
        write!(
            f,
            "{}{}{}{share} flags={:#x} pgoff={:#x}",
            bit(vm_flags::READ, 'r'),
            bit(vm_flags::WRITE, 'w'),
            bit(vm_flags::EXEC, 'x'),
            self.flags,
            self.pgoff
        )?;
        if let Some(file) = self.file {
            write!(
                f,
                " file={:02x}:{:02x}/{}",
                file.dev >> 20,
                file.dev & 0xf_ffff,
                file.ino
            )?;
        }
        if self.anon_vma.is_some() {
            f.write_str(" anon_vma")?;
        }
        if self.anon_name.is_some() {
            f.write_str(" anon_name")?;
        }
        if let Some(name) = self.special.as_str() {
            write!(f, " name={name}")?;
        }
        Ok(())
    }
}
