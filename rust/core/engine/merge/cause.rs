// SPDX-License-Identifier: GPL-2.0

//! Why the target's tree changed: the system call a store came from, which
//! the classifier ([`super::classify`]) and the statistics
//! ([`super::stats`]) both use.

/// What the target was doing when its tree changed: the system call the
/// storing task was in, as `syscall_get_nr()` reads it from the task's
/// registers (the kernel side maps the arch's numbers to these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// Not in a system call: a kernel thread, or the registers say none.
    NoSyscall,
    /// `mmap()`.
    Mmap,
    /// `munmap()`.
    Munmap,
    /// `mprotect()`, `pkey_mprotect()`.
    Mprotect,
    /// `mremap()`.
    Mremap,
    /// `madvise()`, `process_madvise()`.
    Madvise,
    /// `mlock()`, `mlock2()`, `munlock()`, `mlockall()`, `munlockall()`.
    Mlock,
    /// `brk()`.
    Brk,
    /// `prctl()` (`PR_SET_VMA_ANON_NAME`).
    Prctl,
    /// `mbind()`, `set_mempolicy_home_node()`.
    Mbind,
    /// `mseal()`.
    Mseal,
    /// `ioctl()` (userfaultfd register/unregister).
    Ioctl,
    /// Any other system call (exec, exit, ...).
    Other,
}

impl Cause {
    /// Every cause, in `stats` order.
    pub const ALL: [Cause; 13] = [
        Cause::NoSyscall,
        Cause::Mmap,
        Cause::Munmap,
        Cause::Mprotect,
        Cause::Mremap,
        Cause::Madvise,
        Cause::Mlock,
        Cause::Brk,
        Cause::Prctl,
        Cause::Mbind,
        Cause::Mseal,
        Cause::Ioctl,
        Cause::Other,
    ];

    /// The cause numbered `n` by the kernel side (`rust/shim/probes.c`), in
    /// [`Cause::ALL`] order; [`Cause::Other`] for anything else.
    pub fn from_index(n: u32) -> Cause {
        usize::try_from(n)
            .ok()
            .and_then(|i| Cause::ALL.get(i).copied())
            .unwrap_or(Cause::Other)
    }

    /// Its name in `stats` (`merges_after_<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Cause::NoSyscall => "none",
            Cause::Mmap => "mmap",
            Cause::Munmap => "munmap",
            Cause::Mprotect => "mprotect",
            Cause::Mremap => "mremap",
            Cause::Madvise => "madvise",
            Cause::Mlock => "mlock",
            Cause::Brk => "brk",
            Cause::Prctl => "prctl",
            Cause::Mbind => "mbind",
            Cause::Mseal => "mseal",
            Cause::Ioctl => "ioctl",
            Cause::Other => "other",
        }
    }
}
