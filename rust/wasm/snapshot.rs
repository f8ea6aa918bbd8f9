// SPDX-License-Identifier: GPL-2.0

//! The snapshot mirror: the shadow of one process's VMAs, brought up to
//! date from a walk of the kernel's tree at every read (the m68k module
//! has no probes), and everything the debugfs files render from it.
//!
//! A snapshot arrives in three steps, because its VMAs cross from C one at
//! a time: [`Mirror::begin`], one [`Mirror::add`] per VMA in address
//! order (under the target's mmap read lock, in C), then [`Mirror::end`],
//! which hands the whole list to [`engine::sync::sync`].

use core::fmt::{self, Write};

use super::buf::Buf;
use super::platform::{heap_usage, LinearPlatform};
use crate::engine::{
    self,
    maps::{vma_name, write_line, write_pad, write_prefix, MapsFormat, MmLayout, VmaName},
    record::{FileRef, ObjectId, VmaRecord},
    sync::{SyncCounts, SyncError},
};
use crate::rangetree::{Gfp, RangeTree};

/// A file path, by file id, as offsets into the name arena.
#[derive(Clone, Copy)]
struct Name {
    file: ObjectId,
    at: usize,
    len: usize,
}

/// Totals over every sync since load or `reset`.
#[derive(Clone, Copy, Default)]
struct Totals {
    syncs: u64,
    failures: u64,
    counts: [u64; 4],
}

/// The shadow and what goes with it.
pub(crate) struct Mirror {
    tree: RangeTree<VmaRecord, LinearPlatform>,
    /// The snapshot being taken, and the paths of its files.
    taking: Buf<(usize, usize, VmaRecord)>,
    names: Buf<Name>,
    arena: Buf<u8>,
    layout: MmLayout,
    format: MapsFormat,
    /// The last sync failed: the shadow holds part of a snapshot.
    stale: bool,
    /// A VMA could not be added to the snapshot being taken.
    taking_failed: bool,
    last: SyncCounts,
    totals: Totals,
}

impl Mirror {
    /// An empty mirror for a (nommu) kernel with `page_shift`.
    pub(crate) fn new(page_shift: u32) -> Self {
        Self {
            tree: RangeTree::new(LinearPlatform),
            taking: Buf::new(),
            names: Buf::new(),
            arena: Buf::new(),
            layout: MmLayout::default(),
            format: MapsFormat {
                page_shift,
                nommu: true,
            },
            stale: false,
            taking_failed: false,
            last: SyncCounts::default(),
            totals: Totals::default(),
        }
    }

    /// Starts a snapshot.
    pub(crate) fn begin(&mut self) {
        self.taking.clear();
        self.names.clear();
        self.arena.clear();
        self.taking_failed = false;
    }

    /// Adds the next VMA, `[start, end)`, with its file's `path` if it has
    /// one. The one place the kernel's exclusive end becomes inclusive.
    pub(crate) fn add(&mut self, start: usize, end: usize, rec: VmaRecord, path: &[u8]) {
        if end <= start {
            self.taking_failed = true;
            return;
        }
        let mut ok = self.taking.push((start, end - 1, rec)).is_ok();
        if let Some(file) = rec.file {
            if !self.names.as_slice().iter().any(|n| n.file == file.file) {
                let at = self.arena.as_slice().len();
                ok &= self.arena.extend(path).is_ok();
                ok &= self
                    .names
                    .push(Name {
                        file: file.file,
                        at,
                        len: path.len(),
                    })
                    .is_ok();
            }
        }
        self.taking_failed |= !ok;
    }

    /// Ends the snapshot: syncs the shadow to it. Errors: `ENOMEM` (the
    /// shadow is then stale until a sync succeeds), `EINVAL` for a
    /// snapshot out of address order.
    pub(crate) fn end(&mut self, layout: MmLayout) -> Result<(), i32> {
        self.layout = layout;
        self.totals.syncs += 1;
        let r = if self.taking_failed {
            Err(SyncError::Alloc)
        } else {
            engine::sync::sync(
                &mut self.tree,
                self.taking.as_slice().iter().copied(),
                Gfp::Kernel,
            )
        };
        self.taking.clear();
        match r {
            Ok(c) => {
                self.stale = false;
                self.last = c;
                for (t, v) in self
                    .totals
                    .counts
                    .iter_mut()
                    .zip([c.added, c.removed, c.changed, c.kept])
                {
                    *t += v as u64;
                }
                Ok(())
            }
            Err(e) => {
                self.stale = true;
                self.totals.failures += 1;
                Err(match e {
                    SyncError::Alloc => -12,
                    SyncError::Unsorted(_) => -22,
                })
            }
        }
    }

    /// Forgets the target's VMAs (detach).
    pub(crate) fn clear(&mut self) -> Result<(), i32> {
        self.begin();
        self.end(MmLayout::default())
    }

    /// VMAs in the shadow.
    pub(crate) fn len(&self) -> usize {
        self.tree.len()
    }

    /// Zeroes the totals (`stats` write of `reset`).
    pub(crate) fn reset(&mut self) {
        self.totals = Totals::default();
    }

    fn stale_line(&self, out: &mut impl Write) -> fmt::Result {
        if self.stale {
            writeln!(out, "# stale")?;
        }
        Ok(())
    }

    fn path(&self, file: Option<FileRef>) -> &[u8] {
        let Some(file) = file else { return &[] };
        let Some(n) = self.names.as_slice().iter().find(|n| n.file == file.file) else {
            return &[];
        };
        self.arena.as_slice().get(n.at..n.at + n.len).unwrap_or(&[])
    }

    /// Renders `maps`: the shadow in `/proc/PID/maps` format.
    pub(crate) fn show_maps(&self, out: &mut impl Write) -> fmt::Result {
        self.stale_line(out)?;
        for (first, last, rec) in self.tree.iter() {
            let (start, end) = (first as u64, last as u64 + 1);
            match vma_name(&rec, start, end, &self.layout, None) {
                VmaName::Path => {
                    let n = write_prefix(out, start, end, &rec, self.format)?;
                    write_pad(out, n)?;
                    for &c in self.path(rec.file) {
                        // seq_path() escapes a newline as "\012".
                        if c == b'\n' {
                            out.write_str("\\012")?;
                        } else {
                            out.write_char(char::from(c))?;
                        }
                    }
                    out.write_char('\n')?;
                }
                name => write_line(out, start, end, &rec, &name, self.format)?,
            }
        }
        Ok(())
    }

    /// Renders `tree`: the shadow's node structure.
    pub(crate) fn show_tree(&self, out: &mut impl Write) -> fmt::Result {
        self.stale_line(out)?;
        self.tree.dump(out)
    }

    /// Renders `stats`: what snapshots can see, and says so.
    pub(crate) fn show_stats(&self, out: &mut impl Write) -> fmt::Result {
        self.stale_line(out)?;
        let t = &self.totals;
        let (blocks, bytes) = heap_usage();
        writeln!(
            out,
            "# snapshot mirror (no kprobes on m68k): VMAs are compared between two\n\
             # reads; merges, splits and misses in between are not seen"
        )?;
        writeln!(out, "snapshots {}", t.syncs)?;
        writeln!(out, "snapshot_failures {}", t.failures)?;
        writeln!(out, "vmas {}", self.tree.len())?;
        for (name, v) in ["vmas_added", "vmas_removed", "vmas_changed", "vmas_kept"]
            .iter()
            .zip(t.counts)
        {
            writeln!(out, "{name} {v}")?;
        }
        let l = &self.last;
        writeln!(
            out,
            "last_snapshot added={} removed={} changed={} kept={}",
            l.added, l.removed, l.changed, l.kept
        )?;
        writeln!(out, "tree_nodes {}", self.tree.node_count())?;
        writeln!(out, "tree_bytes {}", self.tree.bytes_used())?;
        writeln!(out, "heap_blocks {blocks}")?;
        writeln!(out, "heap_bytes {bytes}")
    }

    /// Renders `check`: the shadow's own invariants. Comparing it with the
    /// kernel's tree would compare a snapshot with itself, so that part is
    /// reported as skipped, with the reason; the m68k suite compares
    /// `maps` with `/proc/PID/maps` and with what it mapped instead.
    pub(crate) fn show_check(&self, out: &mut impl Write) -> fmt::Result {
        self.stale_line(out)?;
        writeln!(
            out,
            "# SKIP compare with the kernel's tree: a snapshot mirror was just synced from it"
        )?;
        match self.tree.validate() {
            Ok(()) => writeln!(out, "ok vmas={}", self.tree.len()),
            Err(e) => {
                writeln!(out, "# validate: {e}")?;
                writeln!(out, "FAIL 1")
            }
        }
    }
}
