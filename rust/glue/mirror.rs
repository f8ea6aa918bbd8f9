// SPDX-License-Identifier: GPL-2.0

//! The mirror: one target process, its shadow VMA tree, and the debugfs
//! files that show them.
//!
//! This first stage keeps the shadow by snapshot: attaching, and every read
//! of `maps` or `tree`, walks the target's `mm->mm_mt` under the mmap read
//! lock and rebuilds the shadow from it (the engine's sync path), and the
//! `target` file says `state=snapshot`. Live updates through kprobes are
//! the next stage; the shadow is already the RCU-mode range tree they will
//! write to, so readers walk it without locks.

use core::fmt;
use kernel::{
    mm::Mm,
    new_mutex,
    prelude::*,
    sync::{aref::ARef, Arc, Mutex},
    uaccess::UserSliceReader,
};

use super::{
    ids::IdKey,
    names::NameTable,
    platform::KernelPlatform,
    target::{current_pid_max, resolve},
    vma::snapshot,
};
use crate::engine::{
    maps::{vma_name, write_line, write_pad, write_prefix, MmLayout, VmaName},
    record::VmaRecord,
    target::{parse_target, TargetCmd, TARGET_MAX_LEN},
};
use crate::rangetree::{Gfp, Platform, RangeTree, RcuRangeTree};

/// The shadow: the target's VMAs, as inclusive ranges.
type Shadow = RcuRangeTree<VmaRecord, KernelPlatform>;

/// What is mirrored, guarded by [`Mirror::state`].
struct Attached {
    mm: ARef<Mm>,
    pid: u32,
    comm: [u8; 16],
    follow: bool,
    layout: MmLayout,
    /// The process is gone (its mm has no users and the pid no longer
    /// resolves); the shadow was emptied.
    exited: bool,
}

/// The mirror's state; writers of `target` and readers that resync take
/// the mutex, readers of the shadow itself do not.
#[pin_data]
pub(crate) struct Mirror {
    ids: IdKey,
    shadow: Shadow,
    #[pin]
    state: Mutex<MirrorState>,
}

struct MirrorState {
    target: Option<Attached>,
    /// File paths and anon names of the shadow's VMAs.
    names: NameTable,
    /// Full rebuilds of the shadow from the kernel's tree.
    resyncs: u64,
}

impl Mirror {
    /// A detached mirror with an empty shadow.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            ids: IdKey::new(),
            shadow: RangeTree::new(KernelPlatform).into_rcu(),
            state <- new_mutex!(MirrorState {
                target: None,
                names: NameTable::new(),
                resyncs: 0,
            }),
        })
    }

    /// Rebuilds the shadow from the mm's VMA tree (process context).
    ///
    /// When the mm has no users any more but the pid still resolves, the
    /// process has exec'd (a new mm for the same process): the target moves
    /// to the new mm. When it does not resolve, `ESRCH`: the target exited.
    fn sync(&self, a: &mut Attached, names: &mut NameTable) -> Result {
        let user = match a.mm.mmget_not_zero() {
            Some(u) => u,
            None => {
                let t = resolve(a.pid)?;
                a.mm = t.mm;
                a.comm = t.comm;
                a.mm.mmget_not_zero().ok_or(ESRCH)?
            }
        };
        let mut entries = KVec::new();
        names.clear();
        a.layout = snapshot(&user, &self.ids, names, |start, end, rec| {
            // The one place the kernel's exclusive `vm_end` becomes the
            // tree's inclusive `last`.
            entries
                .push((start, end - 1, rec), GFP_KERNEL)
                .map_err(Error::from)
        })?;
        drop(user);
        let mut w = self.shadow.try_write().ok_or(EBUSY)?;
        w.store(0, usize::MAX, None, Gfp::Kernel)
            .map_err(|_| ENOMEM)?;
        for &(first, last, rec) in entries.iter() {
            w.store(first, last, Some(rec), Gfp::Kernel)
                .map_err(|_| ENOMEM)?;
        }
        Ok(())
    }

    /// Handles a write to `target`.
    fn write_target(&self, reader: &mut UserSliceReader) -> Result {
        let len = reader.len();
        if len == 0 || len > TARGET_MAX_LEN {
            return Err(EINVAL);
        }
        let mut buf = [0u8; TARGET_MAX_LEN];
        let input = buf.get_mut(..len).ok_or(EINVAL)?;
        reader.read_slice(input)?;
        let cmd = parse_target(input, current_pid_max()).map_err(|_| EINVAL)?;
        let mut state = self.state.lock();
        let (pid, follow) = match cmd {
            TargetCmd::Detach => {
                state.target = None;
                let mut w = self.shadow.try_write().ok_or(EBUSY)?;
                return w
                    .store(0, usize::MAX, None, Gfp::Kernel)
                    .map_err(|_| ENOMEM);
            }
            TargetCmd::Single(pid) => (pid, false),
            TargetCmd::Follow(pid) => (pid, true),
        };
        // Resolve first: a bad pid leaves the current target as it was.
        let t = resolve(pid)?;
        let mut a = Attached {
            mm: t.mm,
            pid: t.pid,
            comm: t.comm,
            follow,
            layout: MmLayout::default(),
            exited: false,
        };
        let MirrorState { names, resyncs, .. } = &mut *state;
        self.sync(&mut a, names)?;
        *resyncs += 1;
        state.target = Some(a);
        Ok(())
    }

    /// Resyncs the attached target for a reader; `Ok(false)` when detached
    /// or when the target has exited (then the shadow is empty).
    fn refresh(&self) -> Result<bool> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let Some(a) = state.target.as_mut() else {
            return Ok(false);
        };
        if a.exited {
            return Ok(false);
        }
        match self.sync(a, &mut state.names) {
            Ok(()) => {
                state.resyncs += 1;
                Ok(true)
            }
            Err(e) if e == ESRCH => {
                a.exited = true;
                state.names.clear();
                let mut w = self.shadow.try_write().ok_or(EBUSY)?;
                w.store(0, usize::MAX, None, Gfp::Kernel)
                    .map_err(|_| ENOMEM)?;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Renders `target`.
    fn show_target(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        let g = KernelPlatform.read_lock();
        match &state.target {
            None => writeln!(
                f,
                "pid=0 comm= mode=single state=detached vmas=0 events=0 resyncs={}",
                state.resyncs
            ),
            Some(a) => {
                let comm = a.comm.split(|&c| c == 0).next().unwrap_or(&[]);
                let comm = core::str::from_utf8(comm).unwrap_or("?");
                writeln!(
                    f,
                    "pid={} comm={comm} mode={} state={} vmas={} events=0 resyncs={}",
                    a.pid,
                    if a.follow { "follow" } else { "single" },
                    if a.exited { "exited" } else { "snapshot" },
                    self.shadow.len(&g),
                    state.resyncs
                )
            }
        }
    }

    /// Renders `maps`: the shadow in `/proc/PID/maps` format.
    fn show_maps(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.refresh() {
            Ok(true) => {}
            Ok(false) => return writeln!(f, "# no live target"),
            Err(e) => return writeln!(f, "# stale: resync failed ({e:?})"),
        }
        let state = self.state.lock();
        let layout = match &state.target {
            Some(a) => a.layout,
            None => return writeln!(f, "# detached"),
        };
        let g = KernelPlatform.read_lock();
        for (first, last, rec) in self.shadow.iter(&g) {
            let (start, end) = (first as u64, last as u64 + 1);
            let anon = state
                .names
                .get(rec.anon_name)
                .and_then(|b| core::str::from_utf8(b).ok());
            match vma_name(&rec, start, end, &layout, anon) {
                VmaName::Path => {
                    let n = write_prefix(f, start, end, &rec)?;
                    write_pad(f, n)?;
                    let path = rec
                        .file
                        .and_then(|file| state.names.get(file.file))
                        .unwrap_or(b"");
                    write_escaped(f, path)?;
                    writeln!(f)?;
                }
                name => write_line(f, start, end, &rec, &name)?,
            }
        }
        Ok(())
    }

    /// Renders `tree`: the shadow's node structure.
    fn show_tree(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Err(e) = self.refresh() {
            writeln!(f, "# stale: resync failed ({e:?})")?;
        }
        let g = KernelPlatform.read_lock();
        self.shadow.dump(f, &g)
    }
}

/// Writes a path as `seq_path(m, path, "\n")` does: a newline becomes
/// `\012`. Bytes that are not UTF-8 are written as `\xNN` (the maps file
/// writes them raw; a formatter cannot).
fn write_escaped(f: &mut fmt::Formatter<'_>, path: &[u8]) -> fmt::Result {
    for chunk in path.utf8_chunks() {
        for part in chunk.valid().split('\n').enumerate() {
            if part.0 > 0 {
                f.write_str("\\012")?;
            }
            f.write_str(part.1)?;
        }
        for b in chunk.invalid() {
            write!(f, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

/// `target` read callback.
pub(crate) fn show_target(m: &Arc<Mirror>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    m.show_target(f)
}

/// `target` write callback.
pub(crate) fn write_target(m: &Arc<Mirror>, r: &mut UserSliceReader) -> Result {
    m.write_target(r)
}

/// `maps` read callback.
pub(crate) fn show_maps(m: &Arc<Mirror>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    m.show_maps(f)
}

/// `tree` read callback.
pub(crate) fn show_tree(m: &Arc<Mirror>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    m.show_tree(f)
}
