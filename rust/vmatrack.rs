// SPDX-License-Identifier: GPL-2.0

//! vmatrack: a live shadow of one process's VMA tree, with merge statistics.
//!
//! The module owns a debugfs directory, `/sys/kernel/debug/vmatrack/`. Its
//! files are described in the project README; the platform-free parts (the
//! range tree and the mirror engine) live in their own modules so that the
//! same source also builds on the host with cargo.

use kernel::{debugfs, prelude::*};

module! {
    type: Vmatrack,
    name: "vmatrack",
    authors: ["vmatrack developers"],
    description: "Live shadow of a process's VMA tree, with merge statistics",
    license: "GPL",
}

/// The module version, as shown by the `version` debugfs file.
const VERSION: &str = "0.1.0";

/// What `version` prints: the bare version string and a newline.
struct Version;

impl core::fmt::Debug for Version {
    // `kernel::debugfs` renders a file through `Debug`; print the bare
    // string rather than `Debug`'s quoted form so scripts can compare it.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(VERSION)
    }
}

/// Everything the module owns; dropping it removes the debugfs files.
#[pin_data]
struct Vmatrack {
    #[pin]
    _version: debugfs::File<Version>,
    // Dropped last: files go before their directory.
    _dir: debugfs::Dir,
}

impl kernel::InPlaceModule for Vmatrack {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let dir = debugfs::Dir::new(c"vmatrack");
        try_pin_init!(Self {
            _version <- dir.read_only_file(c"version", Version),
            _dir: dir,
        })
    }
}
