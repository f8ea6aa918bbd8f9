// SPDX-License-Identifier: GPL-2.0

//! The range tree tested inside the kernel, on the kernel's allocators and
//! RCU: the KUnit suite (the tree alone), the `selftest` file (against the
//! kernel's C maple tree on the same random inputs) and the `bench` file
//! (timed against the C maple tree). The mirror does not use any of it.

pub(crate) mod bench;
mod kunit;
mod maple_peer;
pub(crate) mod selftest;
