// SPDX-License-Identifier: GPL-2.0

//! A lock that is only ever tried, never waited for.
//!
//! The mirror's writers run in kprobe handlers, which may be NMI context:
//! spinning there on a lock the interrupted code holds would never end. So
//! writers try once and, on failure, mark the mirror stale (to be resynced
//! from process context) instead of waiting.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

/// `T` behind a try-only lock.
///
/// # Invariants
///
/// `data` is accessed only through a [`TryLockGuard`], and at most one guard
/// exists at a time (`locked` is true exactly while one does).
pub struct TryLock<T> {
    locked: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: The lock hands out one `&mut T` at a time (type invariants), so
// sharing the lock across threads is as safe as sending `T` between them.
unsafe impl<T: Send> Sync for TryLock<T> {}
// SAFETY: Owning the lock owns `T`.
unsafe impl<T: Send> Send for TryLock<T> {}

impl<T> TryLock<T> {
    /// An unlocked lock around `data`.
    pub const fn new(data: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            data: UnsafeCell::new(data),
        }
    }

    /// Takes the lock if it is free; never waits.
    pub fn try_lock(&self) -> Option<TryLockGuard<'_, T>> {
        // Acquire pairs with the Release in `Drop for TryLockGuard`, so the
        // new holder sees everything the previous one wrote.
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // INVARIANT: the exchange succeeded, so this is the only guard.
        Some(TryLockGuard { lock: self })
    }
}

/// Exclusive access to a [`TryLock`]'s data until dropped.
pub struct TryLockGuard<'a, T> {
    lock: &'a TryLock<T>,
}

impl<T> Deref for TryLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The guard's existence means the lock is held by it alone
        // (`TryLock` invariants).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for TryLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: As in `deref`, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for TryLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}
