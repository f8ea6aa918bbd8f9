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
        self.mix(p.addr() as u64)
    }

    /// The id of a byte string (ids of contents, where the kernel compares
    /// contents); never [`ObjectId::NONE`].
    pub(crate) fn id_of_bytes(&self, b: &[u8]) -> ObjectId {
        // FNV-1a, then the keyed mix.
        let h = b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| {
            (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3)
        });
        self.mix(h)
    }

    /// splitmix64's finaliser over the keyed value: distinct values stay
    /// distinct (the mix is a bijection), and 0 is avoided below.
    fn mix(&self, v: u64) -> ObjectId {
        let mut z = (v ^ self.0).wrapping_mul(self.1);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ObjectId(if z == 0 { 1 } else { z })
    }
}
