// SPDX-License-Identifier: GPL-2.0

//! Finding the process a `target` write names.
//!
//! A pid is looked up in the writer's pid namespace; a thread id resolves
//! to its process (threads share the mm, which is what is mirrored). The
//! mm is held with `mmgrab` (an `ARef<Mm>`), which keeps the `mm_struct`
//! but not the address space: a mirrored process exits as it would
//! without vmatrack (`MmWithUser` would delay its `exit_mmap`).

use core::ptr::NonNull;
use kernel::{bindings, mm::Mm, prelude::*, sync::aref::ARef, task::Task};

use super::layout::task_comm;

/// A process: one counted reference to its thread group's `struct pid`.
///
/// The process, not its number: once the process has exited, its number
/// can be given to an unrelated one (pid wrap, `clone3()` with `set_tid`),
/// and a number means a different process in another pid namespace. The
/// `struct pid` stays this process's for as long as it is held; it only
/// loses its task when the process exits.
///
/// # Invariants
///
/// `self.0` is a `struct pid` on which this value owns one reference.
pub(crate) struct Process(NonNull<bindings::pid>);

// SAFETY: A `struct pid` reference may be dropped on any thread
// (`put_pid()` is an atomic decrement), and the methods only read fields
// the kernel reads under RCU or with the reference held.
unsafe impl Send for Process {}
// SAFETY: As above: `&Process` allows only reads.
unsafe impl Sync for Process {}

impl Process {
    /// The process `task` belongs to; `ESRCH` when it is exiting (its
    /// thread group has let go of its `struct pid`).
    fn of_task(task: &Task) -> Result<Self> {
        // SAFETY: `task` is a valid task; `get_task_pid()` returns a
        // counted reference or NULL.
        let p = unsafe { bindings::get_task_pid(task.as_ptr(), bindings::pid_type_PIDTYPE_TGID) };
        // INVARIANT: The reference `get_task_pid()` took is now ours.
        NonNull::new(p).map(Self).ok_or(ESRCH)
    }

    /// Its `struct pid`, for comparisons only (the handlers compare it
    /// with `task_tgid(current)`).
    pub(crate) fn as_ptr(&self) -> *mut bindings::pid {
        self.0.as_ptr()
    }

    /// Its number in the caller's pid namespace (0 when it has none
    /// there), which is what a reader of `target` knows it by.
    pub(crate) fn nr(&self) -> u32 {
        // SAFETY: `self.0` is valid (invariant); `current`'s active pid
        // namespace is valid while it runs.
        let nr = unsafe {
            bindings::pid_nr_ns(
                self.0.as_ptr(),
                bindings::task_active_pid_ns(bindings::get_current()),
            )
        };
        u32::try_from(nr).unwrap_or(0)
    }

    /// Its leader task, `None` once the process has exited.
    fn task(&self) -> Option<ARef<Task>> {
        // SAFETY: `self.0` is valid (invariant); `get_pid_task()` returns a
        // counted task or NULL.
        let t = unsafe { bindings::get_pid_task(self.0.as_ptr(), bindings::pid_type_PIDTYPE_TGID) };
        // SAFETY: A non-null result carries the reference the `ARef` owns.
        NonNull::new(t.cast::<Task>()).map(|t| unsafe { ARef::from_raw(t) })
    }
}

impl Clone for Process {
    /// A second reference to the same process.
    fn clone(&self) -> Self {
        // SAFETY: `self.0` is valid and counted (invariant), so its count
        // is not zero and may be raised.
        unsafe { bindings::refcount_inc(&raw mut (*self.0.as_ptr()).count) };
        // INVARIANT: The reference just taken belongs to the new value.
        Self(self.0)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: This value owns one reference (invariant).
        unsafe { bindings::put_pid(self.0.as_ptr()) };
    }
}

/// A resolved target.
pub(crate) struct Target {
    /// The process's address space (`mmgrab`ed).
    pub(crate) mm: ARef<Mm>,
    /// The process itself.
    pub(crate) process: Process,
    /// `comm` of the task named, at attach time.
    pub(crate) comm: [u8; 16],
}

/// The kernel's current `pid_max` in the caller's pid namespace.
pub(crate) fn current_pid_max() -> u32 {
    // SAFETY: `current` is valid; `task_active_pid_ns` of current needs no
    // lock, and its `pid_max` is a plain int read once.
    let max = unsafe { (*bindings::task_active_pid_ns(bindings::get_current())).pid_max };
    u32::try_from(max).unwrap_or(0)
}

/// Resolves `pid` (writer's namespace) to its process and that process's
/// mm.
///
/// Errors: `ESRCH` for no such task, `EINVAL` for a kernel thread or a task
/// without an mm (exiting, or a zombie).
pub(crate) fn resolve(pid: u32) -> Result<Target> {
    let nr = i32::try_from(pid).map_err(|_| EINVAL)?;
    // SAFETY: `find_get_pid` looks up in current's namespace and returns a
    // counted reference or NULL.
    let spid = unsafe { bindings::find_get_pid(nr) };
    if spid.is_null() {
        return Err(ESRCH);
    }
    // SAFETY: `spid` is a valid counted `struct pid`; `get_pid_task` returns
    // a counted task or NULL; then our `pid` reference is dropped.
    let task = unsafe {
        let t = bindings::get_pid_task(spid, bindings::pid_type_PIDTYPE_PID);
        bindings::put_pid(spid);
        t
    };
    let task = NonNull::new(task.cast::<Task>()).ok_or(ESRCH)?;
    // SAFETY: `get_pid_task` took a reference that the `ARef` now owns.
    let task: ARef<Task> = unsafe { ARef::from_raw(task) };
    of_task(&task)
}

/// The process `process` now: its mm (a new one after an exec) and comm.
/// `ESRCH` once it has exited, even if its number names a process again.
pub(crate) fn re_resolve(process: &Process) -> Result<Target> {
    of_task(&*process.task().ok_or(ESRCH)?).map_err(|_| ESRCH)
}

/// The process `task` belongs to, with its mm.
///
/// Errors as [`resolve`]'s.
pub(crate) fn of_task(task: &Task) -> Result<Target> {
    // SAFETY: `task` is valid; `flags` is read once.
    if unsafe { (*task.as_ptr()).flags } & bindings::PF_KTHREAD != 0 {
        return Err(EINVAL);
    }
    // SAFETY: `task` is valid; `get_task_mm` returns the mm with `mm_users`
    // raised, or NULL for a task without one.
    let mm = unsafe { bindings::get_task_mm(task.as_ptr()) };
    if mm.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: `mm` is valid while we hold the `mm_users` reference; taking
    // an `ARef<Mm>` from it adds an `mm_count` (mmgrab) reference, after
    // which the user reference is dropped again.
    let grabbed: ARef<Mm> = unsafe {
        let r = ARef::from(Mm::from_raw(mm));
        bindings::mmput(mm);
        r
    };
    let comm = task_comm(task.as_ptr());
    Ok(Target {
        mm: grabbed,
        process: Process::of_task(task)?,
        comm,
    })
}
