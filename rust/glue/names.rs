// SPDX-License-Identifier: GPL-2.0

//! Names the maps file shows but the shadow's records do not hold: file
//! paths and anon VMA names, keyed by the object's opaque id.
//!
//! Records stay small and `Copy` (lockless readers copy them whole out of
//! tree nodes), so text lives here, filled in process context while the
//! mmap read lock is held, when a VMA with a new file or name is read.

use kernel::{bindings, prelude::*};

use super::ids::IdKey;
use crate::engine::record::ObjectId;

/// Longest path kept; longer ones are cut (as rare as they are in maps).
const PATH_MAX: usize = 4096;

/// Text by object id.
pub(crate) struct NameTable {
    entries: KVec<(ObjectId, KVec<u8>)>,
}

impl NameTable {
    /// An empty table.
    pub(crate) const fn new() -> Self {
        Self {
            entries: KVec::new(),
        }
    }

    /// Forgets every name (before a full resync).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// The text for `id`, if known.
    pub(crate) fn get(&self, id: ObjectId) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, v)| &v[..])
    }

    fn insert(&mut self, id: ObjectId, text: &[u8]) -> Result {
        if self.get(id).is_some() {
            return Ok(());
        }
        let mut v = KVec::with_capacity(text.len(), GFP_KERNEL)?;
        v.extend_from_slice(text, GFP_KERNEL)?;
        self.entries.push((id, v), GFP_KERNEL)?;
        Ok(())
    }

    /// Records the names of one VMA: its file's path (as `d_path` gives it,
    /// " (deleted)" included) and its anon name.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA of an mm whose mmap lock the caller holds.
    pub(crate) unsafe fn add_vma(
        &mut self,
        vma: *const bindings::vm_area_struct,
        ids: &IdKey,
    ) -> Result {
        // SAFETY: `vma` is valid under the caller's mmap lock.
        let v = unsafe { &*vma };
        if !v.vm_file.is_null() && self.get(ids.id(v.vm_file)).is_none() {
            let mut buf = KVec::<u8>::with_capacity(PATH_MAX, GFP_KERNEL)?;
            // SAFETY: `vm_file` is valid while the VMA is; `d_path` writes
            // at most `PATH_MAX` bytes into `buf`'s spare capacity and
            // returns a pointer into it, or an ERR_PTR.
            let p = unsafe {
                bindings::d_path(
                    &raw const (*v.vm_file).__bindgen_anon_1.f_path,
                    buf.as_mut_ptr().cast(),
                    PATH_MAX as i32,
                )
            };
            if kernel::error::from_err_ptr(p).is_ok() {
                // SAFETY: On success `p` points to a NUL-terminated string
                // inside `buf`'s capacity.
                let s = unsafe { CStr::from_char_ptr(p) };
                self.insert(ids.id(v.vm_file), s.to_bytes())?;
            }
        }
        let anon_name = super::vma_fields::anon_name(v);
        // SAFETY: `anon_name` of a VMA under the caller's mmap lock.
        let anon = unsafe { anon_name_id(ids, anon_name) };
        if anon.is_some() && self.get(anon).is_none() {
            // SAFETY: `anon_name` is a valid, NUL-terminated `anon_vma_name`
            // while the VMA holds its reference.
            let s = unsafe { CStr::from_char_ptr((*anon_name).name.as_ptr()) };
            self.insert(anon, s.to_bytes())?;
        }
        Ok(())
    }
}

/// The id of a VMA's anon name: of its text, not of the `anon_vma_name`
/// object, because the merge rules compare the text
/// (`anon_vma_name_eq()`): two VMAs named alike by two prctl() calls hold
/// two objects and still merge. [`ObjectId::NONE`] for no name.
///
/// The text is mixed under the module's key like an address (it is not a
/// secret, but the ids all come from one function).
/// Takes no lock and allocates nothing: probes call it too.
///
/// # Safety
///
/// `name` is null or the `anon_name` of a VMA whose mmap lock the caller
/// holds (read or write).
pub(crate) unsafe fn anon_name_id(ids: &IdKey, name: *const bindings::anon_vma_name) -> ObjectId {
    if name.is_null() {
        return ObjectId::NONE;
    }
    // SAFETY: A non-null `anon_name` of a VMA under its mmap lock is a valid
    // `anon_vma_name` whose `name` is NUL-terminated.
    let s = unsafe { CStr::from_char_ptr((*name).name.as_ptr()) };
    ids.id_of_bytes(s.to_bytes())
}
