// SPDX-License-Identifier: GPL-2.0

//! vmatrack's platform-free core, compiled exactly as the kernel module
//! compiles it: `rust/rangetree/`, `rust/engine/` and `rust/selftest/`
//! included as modules of a `no_std` crate that links neither `std` nor
//! `alloc`. If this crate builds, the core needs nothing but `core`.

#![no_std]

#[path = "../../../rangetree/mod.rs"]
pub mod rangetree;

#[path = "../../../engine/mod.rs"]
pub mod engine;

#[path = "../../../selftest/mod.rs"]
pub mod selftest;
