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

/// A resolved target.
pub(crate) struct Target {
    /// The process's address space (`mmgrab`ed).
    pub(crate) mm: ARef<Mm>,
    /// Its thread-group id in the writer's pid namespace.
    pub(crate) pid: u32,
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

/// Resolves `pid` (writer's namespace) to its process's mm.
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
    let ns_pid = task.tgid_nr_ns(None);
    Ok(Target {
        mm: grabbed,
        pid: u32::try_from(ns_pid).unwrap_or(pid),
        comm,
    })
}
