// SPDX-License-Identifier: GPL-2.0

//! A growable array of `Copy` values in linear memory: the wasm build has
//! no `alloc` crate either, and needs a few of these (the snapshot being
//! taken, the name arena, the output of a debugfs read).

use core::alloc::Layout;
use core::fmt;
use core::ptr::NonNull;

use super::platform::LinearPlatform;
use crate::rangetree::{Gfp, Platform};

/// A growable array. Growth that cannot get memory fails and keeps what
/// is there.
///
/// # Invariants
///
/// `len <= cap`; the first `len` elements at `ptr` are initialised; when
/// `cap > 0`, `ptr` is a block from [`LinearPlatform`] with the layout of
/// `cap` elements, owned by this array (`ptr` is dangling when `cap` is 0).
pub(crate) struct Buf<T: Copy> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
}

impl<T: Copy> Buf<T> {
    /// An empty array (allocates nothing).
    pub(crate) const fn new() -> Self {
        // INVARIANT: Nothing allocated, nothing initialised.
        Self {
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
        }
    }

    fn layout(cap: usize) -> Option<Layout> {
        Layout::array::<T>(cap).ok()
    }

    /// Makes room for `more` further elements.
    pub(crate) fn reserve(&mut self, more: usize) -> Result<(), ()> {
        let need = self.len.checked_add(more).ok_or(())?;
        if need <= self.cap {
            return Ok(());
        }
        let cap = need.max(self.cap * 2).max(16);
        let fresh = LinearPlatform
            .alloc(Self::layout(cap).ok_or(())?, Gfp::Kernel)
            .ok_or(())?;
        let fresh = fresh.cast::<T>();
        if self.cap > 0 {
            // SAFETY: Both blocks hold at least `len` elements and do not
            // overlap; the old one is then freed with its own layout.
            unsafe {
                core::ptr::copy_nonoverlapping(self.ptr.as_ptr(), fresh.as_ptr(), self.len);
                if let Some(l) = Self::layout(self.cap) {
                    LinearPlatform.free(self.ptr.cast(), l);
                }
            }
        }
        // INVARIANT: The `len` elements were copied into the new block of
        // `cap >= len` elements, which is now ours; the old one is freed.
        self.ptr = fresh;
        self.cap = cap;
        Ok(())
    }

    /// Appends `v`.
    pub(crate) fn push(&mut self, v: T) -> Result<(), ()> {
        self.reserve(1)?;
        // SAFETY: `len < cap` after `reserve`.
        unsafe { self.ptr.as_ptr().add(self.len).write(v) };
        // INVARIANT: The element at the old `len` was just written.
        self.len += 1;
        Ok(())
    }

    /// Appends every element of `s`.
    pub(crate) fn extend(&mut self, s: &[T]) -> Result<(), ()> {
        self.reserve(s.len())?;
        // SAFETY: Room for `s.len()` more after `reserve`; `s` is not in
        // our block (we never hand out mutable access while borrowed).
        unsafe {
            core::ptr::copy_nonoverlapping(s.as_ptr(), self.ptr.as_ptr().add(self.len), s.len())
        };
        // INVARIANT: The `s.len()` elements after the old `len` were just copied.
        self.len += s.len();
        Ok(())
    }

    /// Forgets the elements, keeps the memory.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// The elements.
    pub(crate) fn as_slice(&self) -> &[T] {
        // SAFETY: `ptr` holds `len` initialised elements (or is dangling
        // with `len == 0`).
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The elements, mutable (spare capacity excluded).
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: As in `as_slice`, and `&mut self` makes it exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// Grows to `len` elements, new ones set to `v`.
    pub(crate) fn resize(&mut self, len: usize, v: T) -> Result<(), ()> {
        if len > self.len {
            self.reserve(len - self.len)?;
            for i in self.len..len {
                // SAFETY: `i < len <= cap` after `reserve`.
                unsafe { self.ptr.as_ptr().add(i).write(v) };
            }
        }
        // INVARIANT: Elements up to the new `len` are initialised (kept or
        // just written).
        self.len = len;
        Ok(())
    }
}

impl<T: Copy> Drop for Buf<T> {
    fn drop(&mut self) {
        if self.cap > 0 {
            if let Some(l) = Self::layout(self.cap) {
                // SAFETY: Our block, allocated with this layout.
                unsafe { LinearPlatform.free(self.ptr.cast(), l) };
            }
        }
    }
}

impl fmt::Write for Buf<u8> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.extend(s.as_bytes()).map_err(|()| fmt::Error)
    }
}
