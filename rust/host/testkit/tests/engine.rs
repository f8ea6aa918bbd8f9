// SPDX-License-Identifier: GPL-2.0

//! The mirror engine's platform-free parts: what `target` accepts, and the
//! maps rendering, which must match `fs/proc/task_mmu.c` byte for byte.

use vmatrack_core::engine::{
    maps::{vma_name, write_line, MapsFormat, MmLayout, VmaName},
    record::{vm_flags, FileRef, ObjectId, SpecialName, VmaRecord},
    target::{parse_target, TargetCmd, TargetParseError},
};

const PID_MAX: u32 = 4_194_304;

/// x86_64's maps format.
const MMU: MapsFormat = MapsFormat {
    page_shift: 12,
    nommu: false,
};

#[test]
fn target_accepts_pids_none_and_follow() {
    assert_eq!(parse_target(b"42", PID_MAX), Ok(TargetCmd::Single(42)));
    assert_eq!(parse_target(b"42\n", PID_MAX), Ok(TargetCmd::Single(42)));
    assert_eq!(parse_target(b"none\n", PID_MAX), Ok(TargetCmd::Detach));
    assert_eq!(parse_target(b"0", PID_MAX), Ok(TargetCmd::Detach));
    assert_eq!(
        parse_target(b"follow 7\n", PID_MAX),
        Ok(TargetCmd::Follow(7))
    );
    assert_eq!(
        parse_target(b"4194303", PID_MAX),
        Ok(TargetCmd::Single(4_194_303))
    );
}

#[test]
fn target_rejects_malformed_input_whole() {
    for bad in [
        &b""[..],
        b"\n",
        b"abc",
        b"-1",
        b"+5",
        b" 5",
        b"5 ",
        b"5\n\n",
        b"12x",
        b"0x10",
        b"007",
        b"1 2",
        b"none ",
        b"follow",
        b"follow ",
        b"follow -3",
        b"\x00\x01\x02",
        b"99999999999999999999",
    ] {
        assert!(parse_target(bad, PID_MAX).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn target_rejects_pids_at_or_above_pid_max() {
    assert_eq!(
        parse_target(b"4194304", PID_MAX),
        Err(TargetParseError::OutOfRange)
    );
    assert_eq!(parse_target(b"100", 100), Err(TargetParseError::OutOfRange));
    assert_eq!(parse_target(b"99", 100), Ok(TargetCmd::Single(99)));
    assert_eq!(
        parse_target(b"follow 0", PID_MAX),
        Err(TargetParseError::OutOfRange)
    );
}

#[test]
fn target_rejects_overlong_writes() {
    let long = [b'1'; 64];
    assert!(parse_target(&long, PID_MAX).is_err());
}

fn line(start: u64, end: u64, r: &VmaRecord, name: VmaName<'_>) -> String {
    let mut s = String::new();
    write_line(&mut s, start, end, r, &name, MMU).unwrap();
    s
}

#[test]
fn maps_line_without_a_name_ends_in_a_space() {
    // As /proc/PID/maps prints an anonymous VMA.
    let r = VmaRecord {
        flags: vm_flags::READ | vm_flags::WRITE,
        ..Default::default()
    };
    assert_eq!(
        line(0x5e5000, 0x5ec000, &r, VmaName::None),
        "005e5000-005ec000 rw-p 00000000 00:00 0 \n"
    );
}

#[test]
fn maps_line_pads_names_to_column_73() {
    let r = VmaRecord {
        flags: vm_flags::READ,
        ..Default::default()
    };
    let l = line(0x7f4db204e000, 0x7f4db2052000, &r, VmaName::Fixed("[vvar]"));
    assert_eq!(
        l,
        "7f4db204e000-7f4db2052000 r--p 00000000 00:00 0                          [vvar]\n"
    );
    assert_eq!(l.find('['), Some(73));
}

#[test]
fn maps_line_of_a_file_shows_offset_dev_inode() {
    let r = VmaRecord {
        flags: vm_flags::READ | vm_flags::EXEC,
        pgoff: 1,
        file: Some(FileRef {
            file: ObjectId(9),
            dev: 3,
            ino: 23,
        }),
        ..Default::default()
    };
    let mut s = String::new();
    let n = vmatrack_core::engine::maps::write_prefix(&mut s, 0x401000, 0x585000, &r, MMU).unwrap();
    assert_eq!(s, "00401000-00585000 r-xp 00001000 00:03 23 ");
    assert_eq!(n, s.len());
}

#[test]
fn maps_device_numbers_split_at_minorbits() {
    // dev_t 8:1 is (8 << 20) | 1 in the kernel's encoding.
    let r = VmaRecord {
        file: Some(FileRef {
            file: ObjectId(1),
            dev: (8 << 20) | 1,
            ino: 5,
        }),
        ..Default::default()
    };
    let mut s = String::new();
    vmatrack_core::engine::maps::write_prefix(&mut s, 0, 0x1000, &r, MMU).unwrap();
    assert!(s.contains(" 08:01 5 "), "{s}");
}

#[test]
fn maps_shared_flag_shows_s() {
    let r = VmaRecord {
        flags: vm_flags::READ | vm_flags::MAYSHARE,
        ..Default::default()
    };
    assert!(line(0, 0x1000, &r, VmaName::None).contains(" r--s "));
}

#[test]
fn maps_nommu_shows_shared_writable_as_capital_s() {
    // task_nommu.c: VM_MAYSHARE with VM_SHARED is 'S', without it 's';
    // task_mmu.c says 's' for both. Offsets use the given page size.
    let nommu = MapsFormat {
        page_shift: 13,
        nommu: true,
    };
    let shared = VmaRecord {
        flags: vm_flags::READ | vm_flags::WRITE | vm_flags::MAYSHARE | vm_flags::SHARED,
        pgoff: 1,
        file: Some(FileRef {
            file: ObjectId(1),
            dev: 0,
            ino: 7,
        }),
        ..Default::default()
    };
    let mut s = String::new();
    vmatrack_core::engine::maps::write_prefix(&mut s, 0, 0x2000, &shared, nommu).unwrap();
    assert!(s.contains(" rw-S 00002000 "), "{s}");
    s.clear();
    vmatrack_core::engine::maps::write_prefix(&mut s, 0, 0x2000, &shared, MMU).unwrap();
    assert!(s.contains(" rw-s 00001000 "), "{s}");
    let may_only = VmaRecord {
        flags: vm_flags::READ | vm_flags::MAYSHARE,
        ..Default::default()
    };
    s.clear();
    vmatrack_core::engine::maps::write_prefix(&mut s, 0, 0x2000, &may_only, nommu).unwrap();
    assert!(s.contains(" r--s "), "{s}");
}

#[test]
fn vma_names_follow_get_vma_name_precedence() {
    let mm = MmLayout {
        start_brk: 0x1000,
        brk: 0x3000,
        start_stack: 0x9000,
    };
    let anon = VmaRecord::default();
    assert!(matches!(
        vma_name(&anon, 0x1000, 0x2000, &mm, None),
        VmaName::Fixed("[heap]")
    ));
    assert!(matches!(
        vma_name(&anon, 0x8000, 0xa000, &mm, None),
        VmaName::Fixed("[stack]")
    ));
    assert!(matches!(
        vma_name(&anon, 0x5000, 0x6000, &mm, Some("x")),
        VmaName::Anon("x")
    ));
    assert!(matches!(
        vma_name(&anon, 0x5000, 0x6000, &mm, None),
        VmaName::None
    ));
    // A special mapping's own name beats [heap].
    let vdso = VmaRecord {
        special: SpecialName::new(b"[vdso]"),
        ..Default::default()
    };
    assert!(matches!(
        vma_name(&vdso, 0x1000, 0x2000, &mm, None),
        VmaName::Fixed("[vdso]")
    ));
    // A file wins over everything; a named shared anon mapping is a file.
    let file = VmaRecord {
        file: Some(FileRef::default()),
        ..Default::default()
    };
    assert!(matches!(
        vma_name(&file, 0x1000, 0x2000, &mm, None),
        VmaName::Path
    ));
    assert!(matches!(
        vma_name(&file, 0x1000, 0x2000, &mm, Some("n")),
        VmaName::AnonShmem("n")
    ));
}

#[test]
fn special_names_keep_up_to_15_bytes() {
    assert_eq!(
        SpecialName::new(b"[vvar_vclock]").as_str(),
        Some("[vvar_vclock]")
    );
    assert_eq!(SpecialName::new(b"").as_str(), None);
    assert_eq!(
        SpecialName::new(b"0123456789abcdefXYZ").as_str(),
        Some("0123456789abcde")
    );
}

mod dirty {
    use vmatrack_core::engine::dirty::{DirtySet, DIRTY_SLOTS};

    #[test]
    fn merges_overlapping_and_touching_ranges() {
        let mut d = DirtySet::new();
        d.insert(10, 19);
        d.insert(20, 29); // touches
        d.insert(5, 12); // overlaps
        d.insert(100, 100);
        assert_eq!(d.ranges(), &[(5, 29), (100, 100)]);
    }

    #[test]
    fn handles_the_ends_of_the_address_space() {
        let mut d = DirtySet::new();
        d.insert(usize::MAX - 4, usize::MAX);
        d.insert(0, 0);
        d.insert(1, 1);
        assert_eq!(d.ranges(), &[(0, 1), (usize::MAX - 4, usize::MAX)]);
    }

    #[test]
    fn when_full_merges_the_closest_neighbours_and_covers_everything() {
        let mut d = DirtySet::new();
        let mut inserted = Vec::new();
        for i in 0..(DIRTY_SLOTS + 10) {
            // Gaps of varying size so the closest pair is well defined.
            let f = i * 1000 + (i % 3) * 100;
            d.insert(f, f + 9);
            inserted.push((f, f + 9));
        }
        assert_eq!(d.ranges().len(), DIRTY_SLOTS);
        // Sorted, disjoint, not touching.
        for w in d.ranges().windows(2) {
            assert!(w[0].1 + 1 < w[1].0, "{:?}", d.ranges());
        }
        // Every inserted range is still covered: the set only grows.
        for (f, l) in inserted {
            assert!(
                d.ranges().iter().any(|&(a, b)| a <= f && l <= b),
                "lost {f}-{l}"
            );
        }
    }

    #[test]
    fn a_covered_range_changes_nothing() {
        let mut d = DirtySet::new();
        d.insert(10, 29);
        d.insert(100, 109);
        let before = d;
        d.insert(10, 29);
        d.insert(12, 20);
        d.insert(100, 100);
        assert_eq!(d.ranges(), before.ranges());
        // Not covered: one address past the end still joins.
        d.insert(12, 30);
        assert_eq!(d.ranges(), &[(10, 30), (100, 109)]);
    }

    #[test]
    fn ignores_reversed_ranges_and_clears() {
        let mut d = DirtySet::new();
        d.insert(5, 4);
        assert!(d.is_empty());
        d.insert(1, 2);
        d.clear();
        assert!(d.is_empty());
    }
}

mod events {
    use vmatrack_core::engine::events::{EventLog, EventOp, Outcome, EVENT_SLOTS};

    #[test]
    fn keeps_the_last_events_in_order() {
        let mut log = EventLog::new();
        for i in 0..(EVENT_SLOTS + 5) {
            log.push(EventOp::Store, i, i, Outcome::Applied);
        }
        assert_eq!(log.total(), (EVENT_SLOTS + 5) as u64);
        let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
        assert_eq!(seqs.len(), EVENT_SLOTS);
        assert_eq!(seqs[0], 6);
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn an_empty_log_yields_nothing() {
        assert_eq!(EventLog::new().iter().count(), 0);
    }
}

mod trylock {
    use vmatrack_core::engine::trylock::TryLock;

    #[test]
    fn only_one_guard_at_a_time() {
        let l = TryLock::new(5);
        let mut g = l.try_lock().unwrap();
        assert!(l.try_lock().is_none());
        *g += 1;
        drop(g);
        assert_eq!(*l.try_lock().unwrap(), 6);
    }

    #[test]
    fn contended_from_threads_never_gives_two_guards() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let l = TryLock::new(0u64);
        let inside = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20_000 {
                        if let Some(mut g) = l.try_lock() {
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                            *g += 1;
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert!(*l.try_lock().unwrap() > 0);
    }
}
