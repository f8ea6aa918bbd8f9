// SPDX-License-Identifier: GPL-2.0

//! vmatrack's platform-free core: everything that imports only `core`.
//!
//! Three crates compile this one directory, each by mounting this file
//! once: the kernel module (`rust/vmatrack.rs`), the wasm32 core of the
//! m68k module (`rust/wasm/lib.rs`) and the host shim crate
//! (`rust/host/core/`), which the host tests, fuzzer and benchmark use.
//! Inside, modules name each other only by relative paths (`super::`), so
//! the core does not care where a crate mounts it.
//!
//! * [`rangetree`]: the range tree (a maple-tree-like B-tree of inclusive
//!   ranges, lockless RCU readers, gap search, preallocation, bulk build,
//!   dup). Every allocation, deferred free and read-side section goes
//!   through its [`rangetree::Platform`] trait.
//! * [`engine`]: the mirror's platform-free knowledge of VMAs: records,
//!   the `maps` format, snapshot sync, the change ring, the merge rules and
//!   statistics.
//! * [`selftest`]: the range-tree cases the in-kernel checks share (the
//!   kernel module's KUnit suite and `selftest` file, the m68k module's
//!   `selftest` file), with their seeded generator.

pub mod engine;
pub mod rangetree;
pub mod selftest;
