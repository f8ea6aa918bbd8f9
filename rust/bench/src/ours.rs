// SPDX-License-Identifier: GPL-2.0
//! Our contestants. Until the core's host packages exist (rust/host/core,
//! rust/host/host) the bench builds without the `ours` feature and runs the
//! peers alone.

#[cfg(not(feature = "ours"))]
pub fn contestants() -> Vec<crate::map::Contestant> {
    Vec::new()
}

#[cfg(feature = "ours")]
pub use real::contestants;

#[cfg(feature = "ours")]
mod real;
