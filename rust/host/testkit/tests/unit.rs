//! One behaviour per test.

use vmatrack_testkit::model::Model;
use vmatrack_testkit::rangetree::{BuildError, Gfp, Platform, RangeTree, StoreError};
use vmatrack_testkit::{ops, StdPlatform};

type T = RangeTree<u64, StdPlatform>;
const MAX: usize = usize::MAX;

fn tree(entries: &[(usize, usize, u64)]) -> T {
    let mut t = T::new(StdPlatform::new());
    for &(f, l, v) in entries {
        t.store(f, l, Some(v), Gfp::Kernel).unwrap();
    }
    t.validate().unwrap();
    t
}

fn all(t: &T) -> Vec<(usize, usize, u64)> {
    t.iter().collect()
}

#[test]
fn store_overwrites_middle_and_splits_neighbour() {
    //  |------- 1 -------|        store 2 over the middle
    //  |-1-|---- 2 ----|-1-|
    let mut t = tree(&[(0, 99, 1)]);
    t.store(10, 19, Some(2), Gfp::Kernel).unwrap();
    assert_eq!(all(&t), vec![(0, 9, 1), (10, 19, 2), (20, 99, 1)]);
    t.validate().unwrap();
}

#[test]
fn store_none_clears_and_trims() {
    let mut t = tree(&[(0, 9, 1), (10, 19, 2), (20, 29, 3)]);
    t.store(5, 24, None, Gfp::Kernel).unwrap();
    assert_eq!(all(&t), vec![(0, 4, 1), (25, 29, 3)]);
}

#[test]
fn store_rejects_reversed_range() {
    let mut t = tree(&[]);
    assert_eq!(
        t.store(5, 4, Some(1), Gfp::Kernel),
        Err(StoreError::InvalidRange)
    );
}

#[test]
fn ranges_at_zero_and_max() {
    let mut t = tree(&[(0, 0, 1), (MAX, MAX, 2), (MAX - 10, MAX - 1, 3)]);
    assert_eq!(t.load(0), Some(1));
    assert_eq!(t.load(MAX), Some(2));
    assert_eq!(t.find(MAX, MAX), Some((MAX, MAX, 2)));
    assert_eq!(t.find_rev(0, 0), Some((0, 0, 1)));
    t.store(0, MAX, Some(9), Gfp::Kernel).unwrap();
    assert_eq!(all(&t), vec![(0, MAX, 9)]);
    assert_eq!(t.empty_area(0, MAX, 1), None);
    t.store(1, MAX - 1, None, Gfp::Kernel).unwrap();
    assert_eq!(all(&t), vec![(0, 0, 9), (MAX, MAX, 9)]);
    assert_eq!(t.empty_area(0, MAX, MAX - 1), Some(1));
    assert_eq!(t.empty_area(0, MAX, MAX), None);
    assert_eq!(t.empty_area_rev(0, MAX, MAX - 1), Some(1));
    t.validate().unwrap();
}

#[test]
fn erase_removes_whole_entry() {
    let mut t = tree(&[(10, 19, 1), (20, 29, 2)]);
    assert_eq!(t.erase(15, Gfp::Kernel).unwrap(), Some((10, 19, 1)));
    assert_eq!(t.erase(15, Gfp::Kernel).unwrap(), None);
    assert_eq!(all(&t), vec![(20, 29, 2)]);
}

// Gap search, checked by hand against lib/maple_tree.c:
// mas_empty_area(): -EINVAL if min > max, size == 0 or max - min < size - 1;
// else the lowest index of a NULL range (clipped to [min, max]) that holds
// `size`; -EBUSY if none. mas_empty_area_rev(): the highest such start.
//
//   0x0      0x1000   0x2000   0x3000   0x4000
//   |  free  |   A    |  free  |   B    |  free ... MAX
#[test]
fn empty_area_matches_mas_empty_area() {
    let t = tree(&[(0x1000, 0x1fff, 1), (0x3000, 0x3fff, 2)]);
    assert_eq!(t.empty_area(0, MAX, 0x1000), Some(0));
    assert_eq!(t.empty_area(1, MAX, 0x1000), Some(0x2000));
    assert_eq!(t.empty_area(0x1000, MAX, 0x1000), Some(0x2000));
    assert_eq!(t.empty_area(0x1000, MAX, 0x1001), Some(0x4000));
    assert_eq!(t.empty_area(0x2000, 0x2fff, 0x1000), Some(0x2000)); // exactly size
    assert_eq!(t.empty_area(0x2000, 0x2ffe, 0x1000), None); // window too small: EINVAL
    assert_eq!(t.empty_area(0x1800, 0x3800, 0x1001), None); // EBUSY
    assert_eq!(t.empty_area(0, MAX, 0), None); // size 0: EINVAL
    assert_eq!(t.empty_area(10, 9, 1), None); // min > max: EINVAL
    assert_eq!(t.empty_area(0x1000, 0x1fff, 1), None);
    assert_eq!(t.empty_area(0x1fff, 0x2000, 1), Some(0x2000));
    assert_eq!(t.empty_area(0x4000, MAX, MAX - 0x4000 + 1), Some(0x4000)); // gap at MAX
    assert_eq!(t.empty_area(0x4000, MAX, MAX - 0x4000 + 2), None);

    assert_eq!(t.empty_area_rev(0, MAX, 0x1000), Some(MAX - 0xfff));
    assert_eq!(t.empty_area_rev(0, 0x3fff, 0x1000), Some(0x2000));
    assert_eq!(t.empty_area_rev(0, 0x2fff, 0x1000), Some(0x2000));
    assert_eq!(t.empty_area_rev(0, 0x2fff, 0x1001), None);
    assert_eq!(t.empty_area_rev(0, 0x1fff, 0x1000), Some(0)); // gap at 0, exactly size
    assert_eq!(t.empty_area_rev(0, 0x1fff, 0x1001), None);
    assert_eq!(t.empty_area_rev(0x2800, 0x4800, 0x800), Some(0x4001));
    assert_eq!(t.empty_area_rev(0x2800, 0x47ff, 0x801), None);
}

#[test]
fn empty_area_on_empty_tree() {
    let t = tree(&[]);
    assert_eq!(t.empty_area(5, 100, 10), Some(5));
    assert_eq!(t.empty_area_rev(5, 100, 10), Some(91));
    assert_eq!(t.empty_area(0, MAX, MAX), Some(0));
    assert_eq!(t.empty_area_rev(0, MAX, MAX), Some(1));
    assert_eq!(t.empty_area(5, 100, 97), None);
}

#[test]
fn iteration_and_range_are_ordered_and_unclipped() {
    let t = tree(&[(30, 39, 3), (10, 19, 1), (20, 29, 2)]);
    assert_eq!(
        t.range(15, 25).collect::<Vec<_>>(),
        vec![(10, 19, 1), (20, 29, 2)]
    );
    assert_eq!(t.range(40, 50).count(), 0);
}

#[test]
fn preallocated_store_cannot_fail() {
    let mut t = tree(&[]);
    for i in 0..ops(5000) as u64 {
        let n = t.worst_case_nodes_per_store();
        t.fill_pool(n, Gfp::Kernel).unwrap();
        let f = ((i * 7919) % 20000) as usize * 4;
        t.store(f, f + 2, Some(i), Gfp::PoolOnly).unwrap();
    }
    t.validate().unwrap();
    t.release_pool();
    assert_eq!(t.pool_len(), 0);
}

#[test]
fn pool_only_store_fails_cleanly_without_pool() {
    let mut t = tree(&[(0, 9, 1)]);
    t.release_pool();
    assert_eq!(
        t.store(20, 29, Some(2), Gfp::PoolOnly),
        Err(StoreError::Alloc)
    );
    assert_eq!(all(&t), vec![(0, 9, 1)]);
}

#[test]
fn bulk_build_is_dense_and_checks_order() {
    let p = StdPlatform::new();
    let n = ops(100_000);
    let t = T::bulk_build(
        p.clone(),
        (0..n).map(|i| (i * 4, i * 4 + 2, i as u64)),
        Gfp::Kernel,
    )
    .unwrap();
    t.validate().unwrap();
    assert_eq!(t.len(), n);
    assert_eq!(t.load(4 * 177 + 1), Some(177));
    assert!(
        cfg!(miri) || t.bytes_used() / t.len() <= 32,
        "bytes per range {}",
        t.bytes_used() / t.len()
    );
    let bad = T::bulk_build(p.clone(), [(0, 5, 1), (5, 6, 2)].into_iter(), Gfp::Kernel);
    assert!(matches!(bad, Err(BuildError::Unsorted(1))));
    drop(t);
    assert_eq!(p.live(), 0);
}

#[test]
fn ascending_stores_fill_nodes() {
    let mut t = tree(&[]);
    for i in 0..ops(100_000) {
        t.store(i * 16, i * 16 + 7, Some(i as u64), Gfp::Kernel)
            .unwrap();
    }
    t.validate().unwrap();
    assert!(
        cfg!(miri) || t.bytes_used() / t.len() <= 32,
        "bytes per range {}",
        t.bytes_used() / t.len()
    );
}

#[test]
fn dup_copies_structure() {
    let t = tree(&[(1, 2, 1), (5, 9, 2)]);
    let d = t.dup(Gfp::Kernel).unwrap();
    d.validate().unwrap();
    assert_eq!(all(&d), all(&t));
    assert_eq!(d.node_count(), t.node_count());
}

#[test]
fn rcu_writer_dup_copies_without_a_guard() {
    let mut entries = Vec::new();
    for i in 0..ops(5_000) {
        entries.push((i * 8, i * 8 + 3, i as u64));
    }
    let r = tree(&entries).into_rcu();
    let w = r.try_write().unwrap();
    let d = w.dup(Gfp::Kernel).unwrap();
    d.validate().unwrap();
    assert_eq!(all(&d), entries);
    assert_eq!(d.node_count(), w.node_count());
}

#[test]
fn cursor_walks_and_stores_in_place() {
    let mut t = tree(&[(10, 19, 1), (20, 29, 2), (40, 49, 3)]);
    let mut c = t.cursor(15);
    assert_eq!(c.current(), Some((10, 19, 1)));
    assert_eq!(c.next(), Some((20, 29, 2)));
    assert_eq!(c.next(), Some((40, 49, 3)));
    assert_eq!(c.next(), None);
    assert_eq!(c.prev(), Some((20, 29, 2)));
    c.store(20, 24, Some(7), Gfp::Kernel).unwrap();
    assert_eq!(c.current(), Some((20, 24, 7)));
    assert_eq!(c.erase(Gfp::Kernel).unwrap(), Some((20, 24, 7)));
    assert_eq!(all(&t), vec![(10, 19, 1), (25, 29, 2), (40, 49, 3)]);
    t.validate().unwrap();
}

#[test]
fn dump_has_no_pointers() {
    let t = tree(
        &(0..100)
            .map(|i| (i * 10, i * 10 + 5, i as u64))
            .collect::<Vec<_>>(),
    );
    let mut s = String::new();
    t.dump(&mut s).unwrap();
    assert!(s.starts_with("rangetree height=2 ranges=100\n"), "{s}");
    assert!(
        s.contains("node 1 depth 1 leaf count=16 [0x0-0x9b] gap=0x4"),
        "{s}"
    );
    // Heap pointers print as 12 hex digits on the host; nothing is that long here.
    assert!(
        s.split(|c: char| !c.is_ascii_hexdigit())
            .all(|w| w.len() < 12),
        "looks like a pointer: {s}"
    );
}

/// Long random runs over a wide space: trees four and more levels high,
/// where merges cascade and single-child chains form.
#[test]
fn long_random_run_matches_model() {
    let p = StdPlatform::new();
    let mut t = T::new(p.clone());
    let r = T::new(p.clone()).into_rcu();
    let mut m = Model::default();
    let mut x: u64 = 0x2545f4914f6cdd1d;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut max_h = 0;
    let steps = ops(120_000) as u64;
    for step in 0..steps {
        let k = rnd();
        let span = if step < steps / 2 { 1 << 20 } else { 1 << 16 };
        let f = (rnd() % span) as usize;
        let len = match k % 16 {
            0 => rnd() % 50_000,
            1..=3 => rnd() % 500,
            _ => rnd() % 4,
        } as usize;
        let v = if k % 5 == 0 { None } else { Some(step) };
        m.store(f, f + len, v);
        t.store(f, f + len, v, Gfp::Kernel).unwrap();
        r.try_write()
            .unwrap()
            .store(f, f + len, v, Gfp::Kernel)
            .unwrap();
        max_h = max_h.max(t.height());
        if step % (steps / 30) == 0 {
            t.validate().unwrap();
            r.try_write().unwrap().validate().unwrap();
            assert_eq!(all(&t), m.all());
        }
    }
    t.validate().unwrap();
    assert_eq!(all(&t), m.all());
    let g = p.read_lock();
    assert_eq!(r.iter(&g).collect::<Vec<_>>(), m.all());
    drop(g);
    assert!(cfg!(miri) || max_h >= 4, "height {max_h}");
}
