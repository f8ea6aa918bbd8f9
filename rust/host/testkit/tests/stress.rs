//! Lockless readers against one writer in RCU mode.
//!
//! The writer numbers its operations; `VER` is the number of completed
//! operations, bumped after each one is published. Every (first, last, id)
//! the tree ever holds gets a life span [born, died) in those numbers, from
//! the model. A reader notes `VER` before and after each read; whatever it
//! saw must come from one state in [before, after + 1], so every entry it saw
//! must have been alive then, and for an iteration all entries at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use vmatrack_testkit::model::Model;
use vmatrack_testkit::rangetree::{Gfp, Platform, RangeTree};
use vmatrack_testkit::StdPlatform;

type Life = HashMap<(usize, usize, u64), (u64, u64)>;

#[derive(Debug)]
enum Seen {
    One(u64, u64, (usize, usize, u64)),
    All(u64, u64, Vec<(usize, usize, u64)>),
}

#[test]
fn readers_see_only_live_entries() {
    let p = StdPlatform::new();
    let tree = Arc::new(RangeTree::<u64, StdPlatform>::new(p.clone()).into_rcu());
    let ver = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let life: Arc<Mutex<Life>> = Arc::new(Mutex::new(HashMap::new()));
    const SPACE: u64 = 4000;

    let mut readers = Vec::new();
    for r in 0..2u64 {
        let (tree, ver, stop, p) = (tree.clone(), ver.clone(), stop.clone(), p.clone());
        readers.push(thread::spawn(move || {
            let mut seen = Vec::new();
            let mut x = 0x9e3779b97f4a7c15u64 ^ r;
            let mut reads = 0u64;
            while !stop.load(Ordering::SeqCst) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x % SPACE) as usize;
                let v0 = ver.load(Ordering::SeqCst);
                let g = p.read_lock();
                if x.is_multiple_of(8) {
                    let all: Vec<_> = tree.range(i, i + 300, &g).collect();
                    drop(g);
                    seen.push(Seen::All(v0, ver.load(Ordering::SeqCst), all));
                } else {
                    let e = if x.is_multiple_of(3) {
                        tree.find(i, usize::MAX, &g)
                    } else {
                        tree.load_range(i, &g)
                    };
                    let gap = tree.empty_area(i, i + 500, 3, &g);
                    drop(g);
                    let v1 = ver.load(Ordering::SeqCst);
                    if let Some(e) = e {
                        seen.push(Seen::One(v0, v1, e));
                    }
                    let _ = gap;
                }
                reads += 1;
            }
            (seen, reads)
        }));
    }

    let mut m = Model::default();
    let mut x = 0x2545f4914f6cdd1du64;
    let ops = 30_000u64;
    for k in 1..=ops {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = (x % SPACE) as usize;
        let len = if x.is_multiple_of(7) {
            (x >> 20) % 400
        } else {
            (x >> 20) % 4
        } as usize;
        let v = if x.is_multiple_of(5) { None } else { Some(k) };
        let before: BTreeSet<_> = m
            .range(f.saturating_sub(1), f + len + 1)
            .into_iter()
            .collect();
        m.store(f, f + len, v);
        let after: BTreeSet<_> = m
            .range(f.saturating_sub(1), f + len + 1)
            .into_iter()
            .collect();
        {
            let mut l = life.lock().unwrap();
            for e in after.difference(&before) {
                l.insert(*e, (k, u64::MAX));
            }
            for e in before.difference(&after) {
                l.get_mut(e).unwrap().1 = k;
            }
        }
        let mut w = tree.try_write().unwrap();
        if k % 3 == 0 {
            let n = w.worst_case_nodes_per_store();
            w.fill_pool(n, Gfp::Kernel).unwrap();
            w.store(f, f + len, v, Gfp::PoolOnly).unwrap();
        } else {
            w.store(f, f + len, v, Gfp::Atomic).unwrap();
        }
        if k % 5000 == 0 {
            w.validate().unwrap();
            assert_eq!(w.iter().collect::<Vec<_>>(), m.all());
        }
        drop(w);
        ver.store(k, Ordering::SeqCst);
    }
    stop.store(true, Ordering::SeqCst);
    let life = life.lock().unwrap();
    let alive = |e: &(usize, usize, u64), lo: u64, hi: u64| -> Option<(u64, u64)> {
        let &(b, d) = life.get(e)?;
        let (s, t) = (b.max(lo), d.min(hi + 2));
        (s < t).then_some((s, t))
    };
    let mut total = 0;
    for h in readers {
        let (seen, reads) = h.join().unwrap();
        assert!(reads > 100, "reader starved: {reads}");
        for s in &seen {
            match s {
                Seen::One(v0, v1, e) => {
                    assert!(
                        alive(e, *v0, *v1).is_some(),
                        "dead entry {e:?} seen in [{v0}, {v1}]"
                    );
                }
                Seen::All(v0, v1, all) => {
                    // One snapshot: the life spans share a common state.
                    let (mut lo, mut hi) = (*v0, *v1 + 2);
                    for e in all {
                        let (s, t) =
                            alive(e, *v0, *v1).unwrap_or_else(|| panic!("dead entry {e:?}"));
                        lo = lo.max(s);
                        hi = hi.min(t);
                    }
                    assert!(lo < hi || all.is_empty(), "iteration mixes states: {all:?}");
                    assert!(all.windows(2).all(|w| w[0].1 < w[1].0));
                }
            }
            total += 1;
        }
    }
    assert!(total > 100);
    drop(tree);
}

#[test]
fn one_writer_at_a_time() {
    let t = RangeTree::<u64, StdPlatform>::new(StdPlatform::new()).into_rcu();
    let w = t.try_write().unwrap();
    assert!(t.try_write().is_none());
    drop(w);
    assert!(t.try_write().is_some());
}

/// Readers during `replace` and `clear` see one whole snapshot per
/// iteration: all values equal to the snapshot's number, and exactly that
/// snapshot's ranges (or nothing, after a clear).
#[test]
fn readers_see_whole_snapshots_across_replace() {
    fn snapshot(k: u64) -> Vec<(usize, usize, u64)> {
        let n = 20 + (k as usize * 37) % 900;
        let step = 3 + (k as usize % 5);
        (0..n).map(|i| (i * step, i * step + 1, k)).collect()
    }
    let p = StdPlatform::new();
    let tree = Arc::new(RangeTree::<u64, StdPlatform>::new(p.clone()).into_rcu());
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for r in 0..2u64 {
        let (tree, stop, p) = (tree.clone(), stop.clone(), p.clone());
        readers.push(thread::spawn(move || {
            let mut checked = 0u64;
            let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ r;
            while !stop.load(Ordering::SeqCst) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let g = p.read_lock();
                if x.is_multiple_of(2) {
                    let all: Vec<_> = tree.iter(&g).collect();
                    drop(g);
                    if let Some(&(_, _, k)) = all.first() {
                        assert!(all == snapshot(k), "iteration mixes snapshots ({k})");
                    }
                } else {
                    let i = (x % 3000) as usize;
                    if let Some((f, l, k)) = tree.load_range(i, &g) {
                        assert!(snapshot(k).contains(&(f, l, k)));
                    }
                    tree.validate(&g).unwrap();
                }
                checked += 1;
            }
            checked
        }));
    }
    for k in 1..=3000u64 {
        let mut w = tree.try_write().unwrap();
        if k % 10 == 0 {
            w.clear();
        } else if k % 3 == 0 {
            let new = RangeTree::bulk_build(p.clone(), snapshot(k).into_iter(), Gfp::Kernel);
            w.replace(new.unwrap());
        } else {
            let mut new = RangeTree::<u64, StdPlatform>::new(p.clone());
            for e in snapshot(k) {
                new.store(e.0, e.1, Some(e.2), Gfp::Kernel).unwrap();
            }
            w.replace(new);
        }
        if k % 500 == 0 {
            w.validate().unwrap();
        }
    }
    stop.store(true, Ordering::SeqCst);
    for h in readers {
        assert!(h.join().unwrap() > 100, "reader starved");
    }
    drop(tree);
}
