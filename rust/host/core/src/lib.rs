// SPDX-License-Identifier: GPL-2.0

//! vmatrack's platform-free core, compiled exactly as the kernel module
//! compiles it: `rust/core/` mounted once as a module of a `no_std` crate
//! that links neither `std` nor `alloc`. If this crate builds, the core
//! needs nothing but `core`.

#![no_std]

#[path = "../../../core/mod.rs"]
mod vtcore;

pub use vtcore::{engine, rangetree, selftest};
