// SPDX-License-Identifier: GPL-2.0

//! vmatrack: a live shadow of one process's VMA tree, with merge statistics.
//!
//! The module owns a debugfs directory, `/sys/kernel/debug/vmatrack/`. Its
//! files are described in the project README; the platform-free parts (the
//! range tree and the mirror engine) live in their own modules so that the
//! same source also builds on the host with cargo.

use glue::{
    mirror::{self, MapsFile, Mirror, StatsFile, TargetFile, UnmergedFile},
    rawfile::{CommandFile, LineFile, RawFile},
};
use kernel::{
    debugfs,
    prelude::*,
    sync::Arc,
    time::{Instant, Monotonic},
};

pub mod engine;
pub mod glue;
pub mod rangetree;

module! {
    type: Vmatrack,
    name: "vmatrack",
    authors: ["vmatrack developers"],
    description: "Live shadow of a process's VMA tree, with merge statistics",
    license: "GPL",
    params: {
        selftest_seed: u64 {
            default: 0,
            description: "Seed of the selftest file's random cases (0: a new one per read)",
        },
        bench_n1: usize {
            default: 1000,
            description: "First tree size the bench file measures",
        },
        bench_n2: usize {
            default: 100000,
            description: "Second tree size the bench file measures (0: skip)",
        },
    },
}

/// The debugfs directory, `/sys/kernel/debug/vmatrack/`.
const DIR: &CStr = c"vmatrack";

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

/// Renders `selftest`: the range tree's in-kernel checks, KTAP.
///
/// `loaded` is when the module was loaded: the time since then seeds a read
/// when no seed was given.
fn show_selftest(
    loaded: &Instant<Monotonic>,
    f: &mut core::fmt::Formatter<'_>,
) -> core::fmt::Result {
    let seed = match module_parameters::selftest_seed.value() {
        // A new seed per read; it is printed, so a failure can be replayed.
        0 => loaded.elapsed().as_nanos().unsigned_abs(),
        s => s,
    };
    glue::selftest::run(seed, f)
}

/// Renders `bench`: the range tree against the C maple tree, this boot.
fn show_bench(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let n1 = module_parameters::bench_n1.value();
    match module_parameters::bench_n2.value() {
        0 => glue::bench::run(&[n1], f),
        n2 => glue::bench::run(&[n1, n2], f),
    }
}

/// Everything the module owns; dropping it removes the debugfs files.
#[pin_data]
struct Vmatrack {
    _layout_checked: (),
    #[pin]
    _version: debugfs::File<Version>,
    #[pin]
    _selftest: debugfs::File<Instant<Monotonic>>,
    #[pin]
    _bench: debugfs::File<()>,
    _target: RawFile<TargetFile>,
    _maps: RawFile<MapsFile>,
    _stats: RawFile<StatsFile>,
    _unmerged: RawFile<UnmergedFile>,
    #[pin]
    _tree: debugfs::File<Arc<Mirror>>,
    #[pin]
    _check: debugfs::File<Arc<Mirror>>,
    #[pin]
    _events: debugfs::File<Arc<Mirror>>,
    #[pin]
    _probes: debugfs::File<Arc<Mirror>>,
    // Dropped last: files go before their directory.
    _dir: debugfs::Dir,
    // Last of all: nothing of ours may run or wait in a queue after unload.
    _quiesce: Quiesce,
}

/// Dropped last: waits for vmatrack's irq_work, frees what it left queued,
/// and waits for the RCU callbacks the module queued.
struct Quiesce;

impl Drop for Quiesce {
    fn drop(&mut self) {
        glue::deferred::drain_sync();
        kernel::sync::rcu::rcu_barrier();
    }
}

impl kernel::InPlaceModule for Vmatrack {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let dir = debugfs::Dir::new(DIR);
        let mirror = Arc::pin_init(Mirror::new(), GFP_KERNEL);
        try_pin_init!(Self {
            // First: nothing is read through bindgen's struct layouts
            // before they are known to match C's.
            _layout_checked: glue::layout::check()?,
            _version <- dir.read_only_file(c"version", Version),
            _selftest <- dir.read_callback_file(c"selftest", Instant::now(), &show_selftest),
            _bench <- dir.read_callback_file(c"bench", (), &show_bench),
            // Raw files (see `glue::rawfile` for why), in the directory
            // made above.
            _target: CommandFile::create(
                DIR,
                c"target",
                Arc::new(TargetFile(mirror.clone()?), GFP_KERNEL)?,
            )?,
            _maps: LineFile::create(DIR, c"maps", Arc::new(MapsFile(mirror.clone()?), GFP_KERNEL)?)?,
            _stats: CommandFile::create(
                DIR,
                c"stats",
                Arc::new(StatsFile(mirror.clone()?), GFP_KERNEL)?,
            )?,
            _unmerged: LineFile::create(
                DIR,
                c"unmerged",
                Arc::new(UnmergedFile(mirror.clone()?), GFP_KERNEL)?,
            )?,
            _tree <- dir.read_callback_file(c"tree", mirror.clone()?, &mirror::show_tree),
            _check <- dir.read_callback_file(c"check", mirror.clone()?, &mirror::show_check),
            _events <- dir.read_callback_file(c"events", mirror.clone()?, &mirror::show_events),
            _probes <- dir.read_callback_file(c"probes", mirror?, &mirror::show_probes),
            _dir: dir,
            _quiesce: Quiesce,
        })
    }
}
