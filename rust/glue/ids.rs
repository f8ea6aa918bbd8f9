// SPDX-License-Identifier: GPL-2.0

//! Opaque identities for kernel objects.
//!
//! The shadow must say "same `struct file`" or "same `anon_vma`" without
//! ever holding or printing a kernel address. An [`IdKey`] drawn at module
//! load turns an address into a 64-bit value through a keyed mix: equal
//! addresses give equal ids, and nobody without the key can go back.

use kernel::bindings;

use crate::engine::record::ObjectId;

/// The per-load secret behind [`ObjectId`]s.
pub(crate) struct IdKey(u64, u64);

impl IdKey {
    /// A fresh key from the kernel's random pool.
    pub(crate) fn new() -> Self {
        // SAFETY: `get_random_u64` may be called from any context.
        let (a, b) = unsafe { (bindings::get_random_u64(), bindings::get_random_u64()) };
        IdKey(a, b | 1)
    }

    /// The id of the object at `p`; [`ObjectId::NONE`] for a null pointer.
    pub(crate) fn id<T>(&self, p: *const T) -> ObjectId {
        if p.is_null() {
            return ObjectId::NONE;
        }
        // splitmix64's finaliser over the keyed address: distinct addresses
        // stay distinct (the mix is a bijection), and 0 is avoided below.
        let mut z = (p.addr() as u64 ^ self.0).wrapping_mul(self.1);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ObjectId(if z == 0 { 1 } else { z })
    }
}
