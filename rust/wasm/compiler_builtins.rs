// SPDX-License-Identifier: GPL-2.0

//! The `compiler_builtins` every `no_std` crate links, for the wasm32
//! build of the m68k module's core (scripts/build-wasm).
//!
//! Like the kernel's `rust/compiler_builtins.rs` it is nearly empty, with
//! one exception: the memory functions. The core is built without wasm's
//! bulk-memory instructions because wasm2c 1.0.32 translates `memory.copy`
//! and `memory.fill` wrongly for big-endian hosts (it keeps big-endian
//! linear memory byte-reversed, and those two ignore that), so LLVM calls
//! these instead; they are plain loads and stores, which it translates
//! right. `no_builtins` keeps LLVM from turning the loops back into calls
//! to themselves.

#![allow(internal_features)]
#![feature(compiler_builtins)]
#![compiler_builtins]
#![no_builtins]
#![no_std]

/// `memcpy`.
///
/// # Safety
///
/// As C's: `d` and `s` valid for `n` bytes, not overlapping.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: The caller's contract.
    unsafe { memmove(d, s, n) }
}

/// `memmove`.
///
/// # Safety
///
/// As C's: `d` and `s` valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    let mut i = 0;
    if (d as usize) <= (s as usize) {
        while i < n {
            // SAFETY: `i < n`, within both buffers.
            unsafe { *d.add(i) = *s.add(i) };
            i += 1;
        }
    } else {
        while i < n {
            // SAFETY: As above, copied from the top down for an overlap.
            unsafe { *d.add(n - 1 - i) = *s.add(n - 1 - i) };
            i += 1;
        }
    }
    d
}

/// `memset`.
///
/// # Safety
///
/// As C's: `d` valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n`.
        unsafe { *d.add(i) = c as u8 };
        i += 1;
    }
    d
}

/// `memcmp`.
///
/// # Safety
///
/// As C's: `a` and `b` valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n`.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// `bcmp`: LLVM's equality-only `memcmp`.
///
/// # Safety
///
/// As `memcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: The caller's contract.
    unsafe { memcmp(a, b, n) }
}
