// SPDX-License-Identifier: GPL-2.0

//! vmatrack: a live shadow of one process's VMA tree, with merge statistics.
//!
//! The module owns a debugfs directory, `/sys/kernel/debug/vmatrack/`. Its
//! files are described in the project README; the platform-free parts (the
//! range tree and the mirror engine) live in their own modules so that the
//! same source also builds on the host with cargo.

use glue::{
    deferred::NodeCache,
    mirror::{self, MapsFile, Mirror, StatsFile, TargetFile, UnmergedFile},
    rawfile::{CommandFile, LineFile, RawFile, ShowFn},
};
use kernel::{
    debugfs,
    prelude::*,
    sync::Arc,
    time::{Instant, Monotonic},
};

pub mod glue;
#[path = "core/mod.rs"]
pub mod vtcore;

// The glue names the core's modules from the crate root.
pub(crate) use vtcore::{engine, rangetree, selftest};

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

/// Renders `version`: the bare version string and a newline.
fn show_version(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    writeln!(f, "{VERSION}")
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
    glue::treetest::selftest::run(seed, f)
}

/// Renders `bench`: the range tree against the C maple tree, this boot.
fn show_bench(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let n1 = module_parameters::bench_n1.value();
    match module_parameters::bench_n2.value() {
        0 => glue::treetest::bench::run(&[n1], f),
        n2 => glue::treetest::bench::run(&[n1, n2], f),
    }
}

/// Everything the module owns; dropping it removes the debugfs files.
///
/// Every file is a [`RawFile`] (see `glue::rawfile` for why not
/// `kernel::debugfs` files): an open file pins the module.
struct Vmatrack {
    _version: RawFile<ShowFn<()>>,
    _selftest: RawFile<ShowFn<Instant<Monotonic>>>,
    _bench: RawFile<ShowFn<()>>,
    _target: RawFile<TargetFile>,
    _maps: RawFile<MapsFile>,
    _stats: RawFile<StatsFile>,
    _unmerged: RawFile<UnmergedFile>,
    // The mirror's read-only files, one per row of `mirror::SHOWN`.
    _shown: KVec<RawFile<ShowFn<Arc<Mirror>>>>,
    // Dropped last: files go before their directory.
    _dir: debugfs::Dir,
    // Last of all: nothing of ours may run or wait in a queue after unload.
    _quiesce: Quiesce,
    // After the quiesce: the shadow's nodes are all freed by then.
    _node_cache: NodeCache,
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

impl kernel::Module for Vmatrack {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // First: nothing is read through bindgen's struct layouts before
        // they are known to match C's.
        glue::layout::check()?;
        glue::probes::check_table()?;
        // Fields are dropped in declaration order, so a failure below
        // removes what was made, files before the directory, and quiesces.
        let _node_cache = NodeCache::create()?;
        let _quiesce = Quiesce;
        let _dir = debugfs::Dir::new(DIR);
        let mirror = Arc::pin_init(Mirror::new()?, GFP_KERNEL)?;
        let mut shown = KVec::with_capacity(mirror::SHOWN.len(), GFP_KERNEL)?;
        for (name, show) in mirror::SHOWN {
            shown.push(ShowFn::file(DIR, name, mirror.clone(), show)?, GFP_KERNEL)?;
        }
        Ok(Self {
            _version: ShowFn::file(DIR, c"version", (), show_version)?,
            _selftest: ShowFn::file(DIR, c"selftest", Instant::now(), show_selftest)?,
            _bench: ShowFn::file(DIR, c"bench", (), show_bench)?,
            _target: CommandFile::create(
                DIR,
                c"target",
                Arc::new(TargetFile(mirror.clone()), GFP_KERNEL)?,
            )?,
            _maps: LineFile::create(
                DIR,
                c"maps",
                Arc::new(MapsFile(mirror.clone()), GFP_KERNEL)?,
            )?,
            _stats: CommandFile::create(
                DIR,
                c"stats",
                Arc::new(StatsFile(mirror.clone()), GFP_KERNEL)?,
            )?,
            _unmerged: LineFile::create(
                DIR,
                c"unmerged",
                Arc::new(UnmergedFile(mirror.clone()), GFP_KERNEL)?,
            )?,
            _shown: shown,
            _dir,
            _quiesce,
            _node_cache,
        })
    }
}
