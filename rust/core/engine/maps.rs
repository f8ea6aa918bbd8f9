// SPDX-License-Identifier: GPL-2.0

//! Rendering the shadow in `/proc/PID/maps` format.
//!
//! The format is `show_map_vma()`'s in `fs/proc/task_mmu.c` (7.3): start and
//! end as at least 8 lowercase hex digits, permissions, the file offset in
//! bytes (0 for anonymous VMAs), `MAJOR:MINOR` of the file's device, the
//! inode, a space; then, for a VMA with a name, padding to column 73 and the
//! name. So a line of the shadow compares with the kernel's byte for byte.

use core::fmt::{self, Write};

use super::record::{vm_flags, VmaRecord};

/// Where the process's heap and main stack are, for `[heap]` and `[stack]`
/// (`vma_is_initial_heap()` / `vma_is_initial_stack()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmLayout {
    /// `mm->start_brk`.
    pub start_brk: u64,
    /// `mm->brk`.
    pub brk: u64,
    /// `mm->start_stack`.
    pub start_stack: u64,
}

/// What the kernel's own maps file depends on beyond the VMA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapsFormat {
    /// The kernel's `PAGE_SHIFT` (12; 13 on ColdFire): offsets are shown
    /// in bytes.
    pub page_shift: u32,
    /// A kernel without an MMU (`fs/proc/task_nommu.c`): a shared mapping
    /// shows `S` when `VM_SHARED` is set too, where `task_mmu.c` always
    /// shows `s`.
    pub nommu: bool,
}

/// The column where names start: `25 + sizeof(void *) * 6 - 1` (72 on
/// 64-bit, 48 on 32-bit: the core runs on the target's word size, also
/// as wasm32 for m68k).
pub const NAME_COLUMN: usize = 25 + core::mem::size_of::<usize>() * 6 - 1;

/// The name a VMA is shown with, in `get_vma_name()`'s order of precedence.
pub enum VmaName<'a> {
    /// A file path (rendered by the caller, who can resolve it).
    Path,
    /// `[anon_shmem:NAME]` for a named shared anonymous mapping.
    AnonShmem(&'a str),
    /// A fixed name: `[vdso]`, `[heap]`, `[stack]`, ...
    Fixed(&'a str),
    /// `[anon:NAME]`.
    Anon(&'a str),
    /// No name.
    None,
}

/// Decides which name `r` gets, as `get_vma_name()` does. `anon_name` is the
/// text of the VMA's anon name, if it has one.
pub fn vma_name<'a>(
    r: &'a VmaRecord,
    start: u64,
    end: u64,
    mm: &MmLayout,
    anon_name: Option<&'a str>,
) -> VmaName<'a> {
    if r.file.is_some() {
        return match anon_name {
            Some(n) => VmaName::AnonShmem(n),
            None => VmaName::Path,
        };
    }
    if let Some(s) = r.special.as_str() {
        return VmaName::Fixed(s);
    }
    if start < mm.brk && end > mm.start_brk {
        return VmaName::Fixed("[heap]");
    }
    if start <= mm.start_stack && end >= mm.start_stack {
        return VmaName::Fixed("[stack]");
    }
    match anon_name {
        Some(n) => VmaName::Anon(n),
        None => VmaName::None,
    }
}

/// Counts what is written, so padding can be computed.
struct Counting<'a, W: Write> {
    out: &'a mut W,
    n: usize,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.n += s.len();
        self.out.write_str(s)
    }
}

/// Writes the part of a maps line before the name (`show_vma_header_prefix`,
/// or `nommu_vma_show`) and returns its length.
pub fn write_prefix(
    out: &mut impl Write,
    start: u64,
    end: u64,
    r: &VmaRecord,
    format: MapsFormat,
) -> Result<usize, fmt::Error> {
    let mut c = Counting { out, n: 0 };
    let f = r.flags;
    let bit = |b: u64, y: char, n: char| if f & b != 0 { y } else { n };
    let (pgoff, dev, ino) = match r.file {
        // The offset is in bytes: `vm_pgoff << PAGE_SHIFT`.
        Some(file) => (r.pgoff << format.page_shift, file.dev, file.ino),
        None => (0, 0, 0),
    };
    // MAJOR/MINOR of the kernel's dev_t encoding (MINORBITS = 20).
    let (major, minor) = (dev >> 20, dev & 0xf_ffff);
    write!(
        c,
        "{start:08x}-{end:08x} {}{}{}{} {pgoff:08x} {major:02x}:{minor:02x} {ino} ",
        bit(vm_flags::READ, 'r', '-'),
        bit(vm_flags::WRITE, 'w', '-'),
        bit(vm_flags::EXEC, 'x', '-'),
        match (f & vm_flags::MAYSHARE != 0, f & vm_flags::SHARED != 0) {
            (false, _) => 'p',
            (true, true) if format.nommu => 'S',
            (true, _) => 's',
        },
    )?;
    Ok(c.n)
}

/// Writes the padding `seq_pad()` adds before a name, given the prefix length.
pub fn write_pad(out: &mut impl Write, prefix_len: usize) -> fmt::Result {
    for _ in prefix_len..NAME_COLUMN {
        out.write_char(' ')?;
    }
    out.write_char(' ')
}

/// Writes a whole maps line for a VMA whose name is not a path; for
/// [`VmaName::Path`] the caller writes the path after [`write_prefix`] and
/// [`write_pad`] itself.
pub fn write_line(
    out: &mut impl Write,
    start: u64,
    end: u64,
    r: &VmaRecord,
    name: &VmaName<'_>,
    format: MapsFormat,
) -> fmt::Result {
    let n = write_prefix(out, start, end, r, format)?;
    match name {
        VmaName::None => {}
        VmaName::Path => write_pad(out, n)?,
        VmaName::Fixed(s) => {
            write_pad(out, n)?;
            out.write_str(s)?;
        }
        VmaName::AnonShmem(s) => {
            write_pad(out, n)?;
            write!(out, "[anon_shmem:{s}]")?;
        }
        VmaName::Anon(s) => {
            write_pad(out, n)?;
            write!(out, "[anon:{s}]")?;
        }
    }
    if !matches!(name, VmaName::Path) {
        out.write_char('\n')?;
    }
    Ok(())
}
