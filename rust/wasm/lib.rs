// SPDX-License-Identifier: GPL-2.0

//! vmatrack's core for the m68k-nommu (ColdFire) module.
//!
//! No Rust compiler targets ColdFire and Linux 7.3 has no Rust support on
//! m68k, so the very same `rust/core/` sources are
//! built here for `wasm32-unknown-unknown`, translated to C by `wasm2c`,
//! and compiled by gcc into the module with the C glue in `rust/m68k/`
//! (see `scripts/build-module`).
//!
//! The functions below are the whole interface between the two. The glue
//! calls them with one mutex held, so the instance is single-threaded.
//! Bytes cross through linear memory: text in via [`vt_in`], rendered
//! files out via [`vt_out`]. Errors are negative errno values.

#![no_std]

#[path = "../core/mod.rs"]
pub mod vtcore;

// The rest of this crate names the core's modules from its root.
use vtcore::{engine, rangetree, selftest};

mod buf;
mod model_cases;
mod platform;
mod snapshot;

use core::cell::UnsafeCell;

use buf::Buf;
use engine::{
    maps::MmLayout,
    record::{FileRef, ObjectId, VmaRecord},
    target::{parse_target, TargetCmd},
};
use snapshot::Mirror;

const EINVAL: i32 = 22;
const ENOMEM: i32 = 12;
const EOPNOTSUPP: i32 = 95;

/// Everything the instance keeps between calls.
struct State {
    mirror: Option<Mirror>,
    input: Buf<u8>,
    output: Buf<u8>,
}

struct StateCell(UnsafeCell<State>);

// SAFETY: A wasm32 instance has one thread, and the C glue serializes
// every call into it (see the crate documentation).
unsafe impl Sync for StateCell {}

static STATE: StateCell = StateCell(UnsafeCell::new(State {
    mirror: None,
    input: Buf::new(),
    output: Buf::new(),
}));

/// Runs `f` on the state.
fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    // SAFETY: Single-threaded and not re-entered (the exports below do not
    // call each other), so this is the only reference.
    f(unsafe { &mut *STATE.0.get() })
}

/// A panic is a bug: trap, which the C runtime turns into an error for
/// this call and every later one (the instance is not trusted again).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// Sets the mirror up for a kernel with `page_shift`. Return: 0.
#[unsafe(no_mangle)]
pub extern "C" fn vt_init(page_shift: u32) -> i32 {
    with_state(|s| s.mirror = Some(Mirror::new(page_shift)));
    0
}

/// A buffer of `len` bytes in linear memory for the glue to fill before
/// the next call that reads input. Return: its address, or 0.
#[unsafe(no_mangle)]
pub extern "C" fn vt_in(len: u32) -> u32 {
    with_state(|s| {
        s.input.clear();
        match s.input.resize(len as usize, 0) {
            Ok(()) => s.input.as_slice().as_ptr() as u32,
            Err(()) => 0,
        }
    })
}

/// Where the last render is.
#[unsafe(no_mangle)]
pub extern "C" fn vt_out() -> u32 {
    with_state(|s| s.output.as_slice().as_ptr() as u32)
}

/// Parses the `len` input bytes as a write to `target`. Return: the pid to
/// mirror, 0 for detach, `-EINVAL` for anything malformed or out of range,
/// `-EOPNOTSUPP` for `follow` (no fork hooks without kprobes).
#[unsafe(no_mangle)]
pub extern "C" fn vt_parse_target(len: u32, pid_max: u32) -> i64 {
    with_state(|s| {
        let input = s.input.as_slice().get(..len as usize).unwrap_or(&[]);
        match parse_target(input, pid_max) {
            Ok(TargetCmd::Detach) => 0,
            Ok(TargetCmd::Single(pid)) => i64::from(pid),
            Ok(TargetCmd::Follow(_)) => -i64::from(EOPNOTSUPP),
            Err(_) => -i64::from(EINVAL),
        }
    })
}

/// Starts a snapshot.
#[unsafe(no_mangle)]
pub extern "C" fn vt_sync_begin() {
    with_state(|s| {
        if let Some(m) = &mut s.mirror {
            m.begin();
        }
    });
}

/// Adds the next VMA of the snapshot; a file-backed one (`file` != 0) has
/// its path in the first `path_len` input bytes. Ids are the glue's keyed
/// hashes of kernel pointers (never the pointers).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn vt_sync_vma(
    start: u32,
    end: u32,
    flags: u64,
    pgoff: u64,
    vma: u64,
    anon_vma: u64,
    file: u64,
    dev: u32,
    ino: u64,
    path_len: u32,
) {
    with_state(|s| {
        let Some(m) = &mut s.mirror else { return };
        let rec = VmaRecord {
            vma: ObjectId(vma),
            flags,
            pgoff,
            file: (file != 0).then_some(FileRef {
                file: ObjectId(file),
                dev,
                ino,
            }),
            anon_vma: ObjectId(anon_vma),
            ..VmaRecord::default()
        };
        let path = s.input.as_slice().get(..path_len as usize).unwrap_or(&[]);
        m.add(start as usize, end as usize, rec, path);
    });
}

/// Ends the snapshot and syncs the shadow to it. Return: 0 or -errno.
#[unsafe(no_mangle)]
pub extern "C" fn vt_sync_end(start_brk: u32, brk: u32, start_stack: u32) -> i32 {
    with_state(|s| {
        let layout = MmLayout {
            start_brk: u64::from(start_brk),
            brk: u64::from(brk),
            start_stack: u64::from(start_stack),
        };
        match &mut s.mirror {
            Some(m) => m.end(layout).err().unwrap_or(0),
            None => -EINVAL,
        }
    })
}

/// Forgets the target's VMAs. Return: 0 or -errno.
#[unsafe(no_mangle)]
pub extern "C" fn vt_clear() -> i32 {
    with_state(|s| match &mut s.mirror {
        Some(m) => m.clear().err().unwrap_or(0),
        None => -EINVAL,
    })
}

/// VMAs in the shadow.
#[unsafe(no_mangle)]
pub extern "C" fn vt_len() -> u32 {
    with_state(|s| s.mirror.as_ref().map_or(0, |m| m.len() as u32))
}

/// Zeroes the `stats` totals.
#[unsafe(no_mangle)]
pub extern "C" fn vt_stats_reset() {
    with_state(|s| {
        if let Some(m) = &mut s.mirror {
            m.reset();
        }
    });
}

/// What [`vt_render`] renders.
const RENDER_MAPS: u32 = 0;
const RENDER_TREE: u32 = 1;
const RENDER_STATS: u32 = 2;
const RENDER_CHECK: u32 = 3;
const RENDER_SELFTEST: u32 = 4;

/// Renders a file into the output buffer ([`vt_out`]); `seed` is for the
/// selftest. Return: its length, or -errno.
#[unsafe(no_mangle)]
pub extern "C" fn vt_render(what: u32, seed: u64) -> i32 {
    with_state(|s| {
        let State { mirror, output, .. } = s;
        let Some(m) = mirror else { return -EINVAL };
        output.clear();
        // Room first, so the selftest's leak check does not see the
        // output grow.
        if output.reserve(4096).is_err() {
            return -ENOMEM;
        }
        let r = match what {
            RENDER_MAPS => m.show_maps(output),
            RENDER_TREE => m.show_tree(output),
            RENDER_STATS => m.show_stats(output),
            RENDER_CHECK => m.show_check(output),
            RENDER_SELFTEST => model_cases::run(seed, output),
            _ => return -EINVAL,
        };
        match r {
            Ok(()) => output.as_slice().len() as i32,
            Err(_) => -ENOMEM,
        }
    })
}
