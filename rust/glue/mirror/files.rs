// SPDX-License-Identifier: GPL-2.0

//! The mirror's debugfs files: what each read renders and each write does.

use core::{fmt, sync::atomic::Ordering};
use kernel::{mm::MmWithUser, prelude::*, sync::Arc, uaccess::UserSliceReader};

use super::{spin, Mirror, MirrorState, Range, MAPS_FORMAT, MERGE_ARCH, USER_TOP};
use crate::engine::{
    events::Outcome,
    maps::{vma_name, write_line, write_pad, write_prefix, VmaName},
    merge::{
        unmerged_reasons, write_attempts, write_stats, write_unmerged_line, write_whatif, Placed,
        Summary, SummaryHead, Totals, WhatIf,
    },
    record::VmaRecord,
};
use crate::glue::{
    deferred::DeferredPlatform,
    probes,
    rawfile::{Command, Lines, Show},
    vma::{kernel_empty_area, walk},
};
use crate::rangetree::{Gfp, Platform};

impl Mirror {
    /// The first touching pair of VMAs whose second starts at or above
    /// `from`: `((first, last, rec), (first, last, rec))`.
    fn touching_pair(
        &self,
        from: usize,
        g: &<DeferredPlatform as Platform>::ReadGuard,
    ) -> Option<(Range, Range)> {
        let mut prev = self.shadow.find(from.saturating_sub(1), usize::MAX, g)?;
        loop {
            let after = prev.1.checked_add(1)?;
            let next = self.shadow.find(after, usize::MAX, g)?;
            if next.0 == after && next.0 >= from {
                return Some((prev, next));
            }
            prev = next;
        }
    }

    /// Starts a read of `unmerged`: the shadow up to date, attributes too.
    fn unmerged_head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare_all(&mut st);
        self.stale_line(f, &r)?;
        if matches!(r, Ok(false)) {
            writeln!(f, "# no live target")?;
        }
        Ok(())
    }

    /// Where `unmerged` looks for the pair after the first one at `from`.
    fn unmerged_next_from(&self, from: usize) -> Option<usize> {
        let g = self.shadow.platform().read_lock();
        let (_, next) = self.touching_pair(from, &g)?;
        Some(next.0.saturating_add(1))
    }

    /// Writes the `unmerged` line of the first touching pair at `from`.
    fn unmerged_line(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.shadow.platform().read_lock();
        let Some(((pf, pl, prev), (nf, nl, next))) = self.touching_pair(from, &g) else {
            return Ok(());
        };
        let reasons = unmerged_reasons(&MERGE_ARCH, &prev, pf, pl, &next, nf, nl);
        let placed = |rec, first, last| Placed { rec, first, last };
        write_unmerged_line(
            f,
            &MERGE_ARCH,
            placed(&prev, pf, pl),
            placed(&next, nf, nl),
            &reasons,
        )
    }

    /// Renders `stats`: counters since the last reset, totals of now.
    fn show_stats(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare_all(&mut st);
        self.stale_line(f, &r)?;
        // A copy of the counters: `Live` is held for as short as possible
        // (the exit probe may wait for it).
        let Ok(mut stats) = spin(|| self.live.try_lock().map(|live| live.merge)) else {
            return writeln!(f, "# busy");
        };
        let mut totals = Totals::default();
        stats.reset_unmerged();
        {
            let g = self.shadow.platform().read_lock();
            totals.vmas = self.shadow.len(&g) as u64;
            let mut from = 0;
            while let Some(((pf, pl, prev), (nf, nl, next))) = self.touching_pair(from, &g) {
                totals.touching_pairs += 1;
                let reasons = unmerged_reasons(&MERGE_ARCH, &prev, pf, pl, &next, nf, nl);
                if !reasons.is_eligible() {
                    totals.unmerged_pairs += 1;
                }
                stats.count_unmerged(&reasons);
                from = nf.saturating_add(1);
            }
        }
        if !st.verdicts {
            writeln!(
                f,
                "# verdicts off: kernel_* and *_disagreements count nothing (write 'verdicts on')"
            )?;
        }
        stats.kernel_new_merges = self.kernel_new_merges.load(Ordering::Relaxed);
        stats.kernel_existing_merges = self.kernel_existing_merges.load(Ordering::Relaxed);
        write_stats(f, &stats, &totals)
    }

    /// The verdict probes wanted with the mirror's (none unless `verdicts on`).
    pub(super) fn verdict_mask(st: &MirrorState) -> u32 {
        if st.verdicts {
            probes::VERDICT_PROBES
        } else {
            0
        }
    }

    /// Handles a write to `stats`: `reset` zeroes the counters; `verdicts
    /// on` / `verdicts off` arms or disarms the probes that read
    /// the kernel's own merge verdicts (they cost every process in the
    /// system a probe hit per mmap and mprotect, so they are off unless
    /// asked for).
    fn write_stats(&self, reader: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 16];
        let len = reader.len();
        let input = buf.get_mut(..len).ok_or(EINVAL)?;
        reader.read_slice(input)?;
        let input = input.strip_suffix(b"\n").unwrap_or(input);
        let verdicts = match input {
            b"verdicts on" => Some(true),
            b"verdicts off" => Some(false),
            b"reset" => None,
            _ => return Err(EINVAL),
        };
        if let Some(on) = verdicts {
            let mut st = self.state.lock();
            if st.registered && on && !st.verdicts {
                // SAFETY: As in `write_target`: the mirror outlives its
                // probes, which `PinnedDrop` unregisters.
                unsafe { probes::arm(self, probes::VERDICT_PROBES) }?;
            } else if st.registered && !on {
                probes::disarm(probes::VERDICT_PROBES);
            }
            st.verdicts = on;
            return Ok(());
        }
        // Every change made before this write is counted before the reset,
        // not after it: apply what waits first.
        self.apply_waiting()?;
        // Process context holds `Live` only briefly (no sleeping holder).
        spin(|| self.live.try_lock())?.merge.reset();
        self.kernel_new_merges.store(0, Ordering::Relaxed);
        self.kernel_existing_merges.store(0, Ordering::Relaxed);
        self.reset_attempts();
        Ok(())
    }

    /// The first line every file starts with while the mirror is stale.
    fn stale_line(&self, f: &mut fmt::Formatter<'_>, r: &Result<bool>) -> fmt::Result {
        match r {
            Err(e) => writeln!(f, "# stale: resync failed ({e:?})"),
            Ok(_) if self.stale.load(Ordering::Acquire) => writeln!(f, "# stale"),
            Ok(_) => Ok(()),
        }
    }

    /// Calls `f` with every VMA of the shadow, in address order, under one
    /// read-side critical section.
    fn each_shadow_vma(&self, mut f: impl FnMut(Placed<'_>)) {
        let g = self.shadow.platform().read_lock();
        for (first, last, rec) in self.shadow.iter(&g) {
            f(Placed {
                rec: &rec,
                first,
                last,
            });
        }
    }

    /// Renders `whatif`: what two relaxed merge rules would save in the
    /// target now (`crate::engine::merge::WhatIf` says how it counts).
    fn show_whatif(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        // Every attribute re-read: whether an anon_vma is shared changes
        // with forks and exits elsewhere, which no probe of ours sees.
        let r = self.prepare_all(&mut st);
        self.stale_line(f, &r)?;
        if matches!(r, Ok(false)) {
            return writeln!(f, "# no live target");
        }
        let mut w = WhatIf::new(&MERGE_ARCH);
        self.each_shadow_vma(|v| w.push(v));
        let verdicts = st.verdicts;
        drop(st);
        write_whatif(f, &w.finish())?;
        if verdicts {
            write_attempts(f, &self.attempt_counts())
        } else {
            writeln!(
                f,
                "# attempts: not counted (write 'verdicts on' to stats: the probes on the kernel's merge attempts)"
            )
        }
    }

    /// Renders `summary`: the one screen to read first.
    fn show_summary(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare_all(&mut st);
        self.stale_line(f, &r)?;
        // The target line always fits: 83 bytes of fixed text, a pid (10
        // digits), a comm (15 bytes, or "?"), mode and state (14) and five
        // 64-bit counters (100): 222 at most.
        let mut line = [0u8; 256];
        let mut w = kernel::str::Formatter::new(&mut line);
        self.target_line(&st, &r, &mut w)?;
        let n = w.bytes_written();
        let target = line
            .get(..n)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("");
        let merges_after =
            spin(|| self.live.try_lock().map(|live| live.merge.merges_after)).unwrap_or_default();
        let mut s = Summary::new(&MERGE_ARCH);
        if matches!(r, Ok(true)) {
            self.each_shadow_vma(|v| s.push(v));
        }
        drop(st);
        s.write(
            f,
            &SummaryHead {
                target,
                max_map_count: crate::glue::layout::max_map_count(),
                merges_after: &merges_after,
            },
        )
    }

    /// Renders `target`.
    fn show_target(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare(&mut st);
        self.stale_line(f, &r)?;
        self.target_line(&st, &r, f)
    }

    /// Writes `target`'s line, `r` being how bringing the shadow up to
    /// date went.
    fn target_line(
        &self,
        st: &MirrorState,
        r: &Result<bool>,
        f: &mut impl fmt::Write,
    ) -> fmt::Result {
        let g = self.shadow.platform().read_lock();
        // Not the `Live` lock: a probe of the running target may hold it.
        let events = self.events_total.load(Ordering::Relaxed);
        match &st.target {
            None => writeln!(
                f,
                "pid=0 comm= mode=single state=detached vmas=0 events={events} resyncs={} \
                 exit_checks_ok={} exit_checks_failed={}",
                st.resyncs,
                self.exit_checks_ok.load(Ordering::Relaxed),
                self.exit_checks_failed.load(Ordering::Relaxed)
            ),
            Some(a) => {
                let comm = a.comm.split(|&c| c == 0).next().unwrap_or(&[]);
                let state = if a.exited {
                    "exited"
                } else if r.is_err() || self.stale.load(Ordering::Acquire) {
                    "stale"
                } else {
                    "live"
                };
                writeln!(
                    f,
                    "pid={} comm={} mode={} state={state} vmas={} events={events} resyncs={} \
                     exit_checks_ok={} exit_checks_failed={}",
                    a.process.nr(),
                    core::str::from_utf8(comm).unwrap_or("?"),
                    if a.follow { "follow" } else { "single" },
                    self.shadow.len(&g),
                    st.resyncs,
                    self.exit_checks_ok.load(Ordering::Relaxed),
                    self.exit_checks_failed.load(Ordering::Relaxed)
                )
            }
        }
    }

    /// Starts a read of `maps`: brings the shadow up to date, says when
    /// it is stale or there is nothing to show.
    fn maps_head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare(&mut st);
        self.stale_line(f, &r)?;
        match r {
            Ok(false) => writeln!(f, "# no live target")?,
            // Without its names the read would print empty paths: say so.
            Ok(true) => {
                if let Err(e) = self.refresh_names(&mut st) {
                    writeln!(f, "# names not refreshed: errno {}", e.to_errno())?;
                }
            }
            Err(_) => {}
        }
        Ok(())
    }

    /// Where `maps` looks for the VMA after the first one at or above
    /// `from`: that VMA's end (`None` when there is none).
    fn maps_next_from(&self, from: usize) -> Option<usize> {
        let g = self.shadow.platform().read_lock();
        let (_, last, _) = self.shadow.find(from, usize::MAX, &g)?;
        Some(last.saturating_add(1))
    }

    /// Writes the `maps` line of the first VMA at or above `from`, in
    /// `/proc/PID/maps` format.
    fn maps_line(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        let Some(layout) = st.target.as_ref().map(|a| a.layout) else {
            return Ok(());
        };
        let g = self.shadow.platform().read_lock();
        let Some((first, last, rec)) = self.shadow.find(from, usize::MAX, &g) else {
            return Ok(());
        };
        let (start, end) = (first as u64, last as u64 + 1);
        let anon = st
            .names
            .get(rec.anon_name)
            .and_then(|b| core::str::from_utf8(b).ok());
        match vma_name(&rec, start, end, &layout, anon) {
            VmaName::Path => {
                let n = write_prefix(f, start, end, &rec, MAPS_FORMAT)?;
                write_pad(f, n)?;
                let path = rec
                    .file
                    .and_then(|file| st.names.get(file.file))
                    .unwrap_or(b"");
                write_escaped(f, path)?;
                writeln!(f)
            }
            name => write_line(f, start, end, &rec, &name, MAPS_FORMAT),
        }
    }

    /// Renders `tree`: the shadow's node structure.
    fn show_tree(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        let r = self.prepare(&mut st);
        self.stale_line(f, &r)?;
        let g = self.shadow.platform().read_lock();
        self.shadow.dump(f, &g)
    }

    /// Renders `events`: the target's recent changes, oldest first.
    fn show_events(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        if self.stale.load(Ordering::Acquire) {
            writeln!(f, "# stale")?;
        }
        // The target's mmap read lock keeps its probes out of the `Live`
        // lock while the log is copied out.
        let user = st.target.as_ref().and_then(|a| a.mm.mmget_not_zero());
        let _lock = user.as_ref().map(|u| u.mmap_read_lock());
        let Ok(mut live) = spin(|| self.live.try_lock()) else {
            return writeln!(f, "# busy");
        };
        if let Ok(mut w) = spin(|| self.shadow.try_write()) {
            self.apply_changes(&mut live, &mut w, Gfp::Kernel);
        }
        for e in live.events.iter() {
            let outcome = match e.outcome {
                Outcome::Applied => "applied",
                Outcome::Stale => "stale",
            };
            write!(
                f,
                "{} {} {:x}-{:x} {outcome}",
                e.seq,
                e.op.name(),
                e.first,
                e.last.wrapping_add(1)
            )?;
            match e.what {
                ("", _) => writeln!(f)?,
                (kind, cause) => writeln!(f, " {kind} {cause}")?,
            }
        }
        Ok(())
    }

    /// Renders `check`: compares the shadow with the kernel's tree now.
    ///
    /// Under the mmap read lock: dirty ranges are refreshed first (that only
    /// updates attributes of VMAs whose range and identity already match),
    /// then every VMA and every gap search of a few sizes is compared.
    /// `anon_vma`, which changes under the read lock, is refreshed, not
    /// compared. Prints each divergence and `FAIL n`, or `ok vmas=N`.
    fn show_check(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut st = self.state.lock();
        match &st.target {
            None => return writeln!(f, "# detached"),
            Some(a) if a.exited => return writeln!(f, "# exited"),
            Some(_) => {}
        }
        if self.known_stale(&st) {
            // Known stale: resync, say so, and check the result.
            writeln!(f, "# stale: resynced before checking")?;
            if let Err(e) = self.resync(&mut st) {
                return writeln!(f, "# resync failed ({e:?})");
            }
        }
        let Some(user) = st.target.as_ref().and_then(|a| a.mm.mmget_not_zero()) else {
            return writeln!(f, "# exited");
        };
        match self.check_now(&mut st, &user, f) {
            Ok(0) => {
                let g = self.shadow.platform().read_lock();
                writeln!(f, "ok vmas={}", self.shadow.len(&g))
            }
            Ok(n) => {
                self.stale.store(true, Ordering::Release);
                writeln!(f, "FAIL {n}")
            }
            Err(e) => writeln!(f, "# check failed ({e:?})"),
        }
    }

    /// The comparison behind `check`; returns the number of divergences.
    fn check_now(
        &self,
        st: &mut MirrorState,
        user: &MmWithUser,
        f: &mut fmt::Formatter<'_>,
    ) -> Result<usize> {
        // One lock for refreshing and comparing: with it held no thread of
        // the target can change anything in between.
        let lock = user.mmap_read_lock();
        let mismatched = self.refresh_dirty_locked(st, &lock, user)?;
        let mut w = spin(|| self.shadow.try_write())?;
        let mut bad = 0usize;
        // One line per side of a divergence; the caller counts divergences.
        let mut report = |what: &str, first: usize, last: usize, rec: &VmaRecord| {
            let _ = writeln!(f, "{what} {first:x}-{:x} {rec:?}", last.wrapping_add(1));
        };
        let mut anon_updates = KVec::new();
        {
            // Both trees in one pass, in address order: no copy of the
            // kernel's VMAs (at 64,000 VMAs that was an 8 MiB array).
            let mut shadow = w.iter().peekable();
            walk(
                &lock,
                user,
                &self.ids,
                &mut st.names,
                0,
                usize::MAX,
                |ks, ke, krec| {
                    // The kernel's exclusive `vm_end` as the tree's inclusive `last`.
                    let kl = ke - 1;
                    // Shadow entries before this kernel VMA exist only in the shadow.
                    while let Some(&(ss, sl, srec)) = shadow.peek() {
                        if ss >= ks {
                            break;
                        }
                        report("shadow-only", ss, sl, &srec);
                        bad += 1;
                        shadow.next();
                    }
                    match shadow.peek().copied() {
                        Some((ss, sl, srec)) if ss == ks => {
                            shadow.next();
                            let same = sl == kl && srec.with_fault_fields_of(&krec) == krec;
                            if !same {
                                report("kernel", ks, kl, &krec);
                                report("shadow", ss, sl, &srec);
                                bad += 1;
                            } else if srec != krec {
                                anon_updates.push((ks, kl, krec), GFP_KERNEL)?;
                            }
                        }
                        _ => {
                            report("kernel-only", ks, kl, &krec);
                            bad += 1;
                        }
                    }
                    Ok(())
                },
            )?;
            for (ss, sl, srec) in shadow {
                report("shadow-only", ss, sl, &srec);
                bad += 1;
            }
        }
        for &(s, l, rec) in anon_updates.iter() {
            w.store(s, l, Some(rec), Gfp::Kernel).map_err(|_| ENOMEM)?;
        }
        // Gap search: the shadow must answer as mas_empty_area[_rev] does.
        for size in [1usize << 12, 1 << 16, 1 << 21, 1 << 30] {
            for rev in [false, true] {
                let ours = if rev {
                    w.empty_area_rev(0, USER_TOP, size)
                } else {
                    w.empty_area(0, USER_TOP, size)
                };
                let theirs = kernel_empty_area(&lock, user, 0, USER_TOP, size, rev);
                if ours != theirs {
                    bad += 1;
                    let name = if rev { "empty_area_rev" } else { "empty_area" };
                    let _ = writeln!(
                        f,
                        "gap {name} size={size:#x} kernel={theirs:x?} shadow={ours:x?}"
                    );
                }
            }
        }
        #[cfg(not(CONFIG_MMU))]
        crate::glue::nommu::note_mremapped(&lock, user, f);
        Ok(bad + mismatched)
    }

    /// Renders `probes`: one line per probe.
    fn show_probes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registered = self.state.lock().registered;
        writeln!(
            f,
            "# {}",
            if registered {
                "registered (from the first attach until rmmod: attach and detach patch no kernel text)"
            } else {
                "not registered (no target since the module was loaded)"
            }
        )?;
        for (i, name, hits, missed) in probes::stats() {
            writeln!(
                f,
                "{name} hits={hits} nmissed={missed} armed={}",
                probes::state_name(i)
            )?;
        }
        let [asked, busy, moved, refused] = probes::FOLLOW_STATS
            .each_ref()
            .map(|c| c.load(Ordering::Relaxed));
        writeln!(
            f,
            "# moves (follow, exec): asked={asked} busy={busy} done={moved} refused={refused}"
        )?;
        writeln!(
            f,
            "# changes: waiting={} dropped={} ring={}",
            self.changes.len(),
            self.changes.dropped(),
            self.changes.capacity()
        )?;
        if let Some(n) = probes::stack_left_min() {
            writeln!(
                f,
                "# stack: least left on entry to a store of the target: {n} bytes"
            )?;
        }
        Ok(())
    }
}

/// Writes a path as `seq_path(m, path, "\n")` does: a newline becomes
/// `\012`. Bytes that are not UTF-8 are written as `\xNN` (the maps file
/// writes them raw; a formatter cannot).
fn write_escaped(f: &mut fmt::Formatter<'_>, path: &[u8]) -> fmt::Result {
    for chunk in path.utf8_chunks() {
        for (i, part) in chunk.valid().split('\n').enumerate() {
            if i > 0 {
                f.write_str("\\012")?;
            }
            f.write_str(part)?;
        }
        for b in chunk.invalid() {
            write!(f, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

/// The `target` file: reads show the target, writes choose it.
pub(crate) struct TargetFile(pub(crate) Arc<Mirror>);

impl Show for TargetFile {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.show_target(f)
    }
}

impl Command for TargetFile {
    fn run(&self, input: &mut UserSliceReader) -> Result {
        self.0.write_target(input)
    }
}

/// The `stats` file: merge statistics; writing `reset` zeroes them.
pub(crate) struct StatsFile(pub(crate) Arc<Mirror>);

impl Show for StatsFile {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.show_stats(f)
    }
}

impl Command for StatsFile {
    fn run(&self, input: &mut UserSliceReader) -> Result {
        self.0.write_stats(input)
    }
}

/// The `unmerged` file: every touching pair of VMAs and why it is two.
pub(crate) struct UnmergedFile(pub(crate) Arc<Mirror>);

impl Lines for UnmergedFile {
    fn head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.unmerged_head(f)
    }

    fn next_from(&self, from: usize) -> Option<usize> {
        self.0.unmerged_next_from(from)
    }

    fn show(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.unmerged_line(from, f)
    }
}

/// The `maps` file: the shadow in `/proc/PID/maps` format, streamed.
pub(crate) struct MapsFile(pub(crate) Arc<Mirror>);

impl Lines for MapsFile {
    fn head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.maps_head(f)
    }

    fn next_from(&self, from: usize) -> Option<usize> {
        self.0.maps_next_from(from)
    }

    fn show(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.maps_line(from, f)
    }
}

/// What a read of one of the mirror's read-only files shows.
pub(crate) type ShowMirror = fn(&Arc<Mirror>, &mut fmt::Formatter<'_>) -> fmt::Result;

/// The mirror's read-only files (0400): name, then what a read shows. The
/// module creates one file per row (`rust/vmatrack.rs`), so a new one is a
/// row here, its renderer above, and a row in the README's debugfs table
/// (which the host test `tests/readme.rs` holds to this list).
pub(crate) const SHOWN: [(&CStr, ShowMirror); 6] = [
    (c"tree", |m, f| m.show_tree(f)),
    (c"check", |m, f| m.show_check(f)),
    (c"events", |m, f| m.show_events(f)),
    (c"probes", |m, f| m.show_probes(f)),
    (c"whatif", |m, f| m.show_whatif(f)),
    (c"summary", |m, f| m.show_summary(f)),
];
