// SPDX-License-Identifier: GPL-2.0

//! The mirror engine: platform-free knowledge of VMAs.
//!
//! What a mirrored VMA is ([`record`]), how the shadow is shown as
//! `/proc/PID/maps` ([`maps`]), how a snapshot of the kernel's tree is
//! brought into the shadow ([`sync`]), and what may be written to the
//! `target` file ([`target`]). Like the range tree it imports only `core`, so the
//! host crate tests the very same files.

pub mod changes;
pub mod dirty;
pub mod events;
pub mod maps;
pub mod merge;
pub mod record;
pub mod sync;
pub mod target;
pub mod trylock;
