// SPDX-License-Identifier: GPL-2.0

//! The kernel side of vmatrack: everything that needs the `kernel` crate.
//!
//! The range tree (`rangetree`) knows nothing of the kernel; this module
//! gives it a [`platform::KernelPlatform`] and puts it to work behind
//! debugfs files.

pub(crate) mod deferred;
pub(crate) mod ids;
pub(crate) mod layout;
pub(crate) mod mirror;
pub(crate) mod names;
#[cfg(not(CONFIG_MMU))]
pub(crate) mod nommu;
pub(crate) mod platform;
pub(crate) mod probes;
pub(crate) mod rawfile;
pub(crate) mod target;
pub(crate) mod treetest;
pub(crate) mod vma;
pub(crate) mod vma_fields;
