// SPDX-License-Identifier: GPL-2.0

//! The mirror engine: platform-free knowledge of VMAs.
//!
//! What a mirrored VMA is ([`record`]), how the shadow is shown as
//! `/proc/PID/maps` ([`maps`]), and what may be written to the `target`
//! file ([`target`]). Like the range tree it imports only `core`, so the
//! host crate tests the very same files.

pub mod dirty;
pub mod events;
pub mod maps;
pub mod merge;
pub mod record;
pub mod target;
pub mod trylock;
