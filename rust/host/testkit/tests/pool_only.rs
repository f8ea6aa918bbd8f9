//! `Gfp::PoolOnly` never reaches the platform's allocator (nor its immediate
//! free), never fails after `fill_pool(worst_case_nodes_per_store())`, and
//! with a short pool fails before changing anything. Also the whole-tree
//! `RcuWriter::replace` / `clear`.

use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use vmatrack_testkit::model::Model;
use vmatrack_testkit::rangetree::{Gfp, Platform, RangeTree, RcuHead, StoreError};
use vmatrack_testkit::StdPlatform;

/// A platform that records every `alloc`/`free` call made while `forbid` is
/// set (the probe-context window), and every `alloc` with `Gfp::PoolOnly`.
#[derive(Clone)]
struct Strict {
    inner: StdPlatform,
    forbid: Arc<AtomicBool>,
    bad_allocs: Arc<AtomicUsize>,
    bad_frees: Arc<AtomicUsize>,
}

impl Strict {
    fn new() -> Self {
        Self {
            inner: StdPlatform::new(),
            forbid: Arc::new(AtomicBool::new(false)),
            bad_allocs: Arc::new(AtomicUsize::new(0)),
            bad_frees: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `f` in the no-allocation window and checks nothing was called.
    fn no_alloc<R>(&self, f: impl FnOnce() -> R) -> R {
        self.forbid.store(true, Ordering::SeqCst);
        let r = f();
        self.forbid.store(false, Ordering::SeqCst);
        assert_eq!(self.bad_allocs.load(Ordering::SeqCst), 0, "alloc called");
        assert_eq!(self.bad_frees.load(Ordering::SeqCst), 0, "free called");
        r
    }
}

// SAFETY: Forwards to `StdPlatform`, which meets the contract; the recording
// does not change what the calls do.
unsafe impl Platform for Strict {
    type ReadGuard = <StdPlatform as Platform>::ReadGuard;

    fn read_lock(&self) -> Self::ReadGuard {
        self.inner.read_lock()
    }

    fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>> {
        if gfp == Gfp::PoolOnly || self.forbid.load(Ordering::SeqCst) {
            self.bad_allocs.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.alloc(layout, gfp)
    }

    unsafe fn free(&self, ptr: NonNull<u8>, layout: Layout) {
        if self.forbid.load(Ordering::SeqCst) {
            self.bad_frees.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: The caller's contract, passed on.
        unsafe { self.inner.free(ptr, layout) }
    }

    unsafe fn free_after_grace_period(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        head: NonNull<RcuHead>,
    ) {
        // SAFETY: The caller's contract, passed on.
        unsafe { self.inner.free_after_grace_period(ptr, layout, head) }
    }
}

type T = RangeTree<u64, Strict>;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A range: mostly short, sometimes long (spanning many leaves), now and
    /// then reaching the ends of the index space.
    fn range(&mut self, space: usize) -> (usize, usize) {
        let x = self.next();
        let f = (x % space as u64) as usize;
        let n = match (x >> 32) % 64 {
            0 => (x >> 40) as usize % space,
            1 => usize::MAX,
            2..=7 => (x >> 40) as usize % 2000,
            8..=16 => (x >> 40) as usize % 200,
            _ => (x >> 40) as usize % 4,
        };
        if (x >> 20).is_multiple_of(50) {
            return (usize::MAX - (x >> 50) as usize, usize::MAX);
        }
        (f, f.saturating_add(n))
    }
}

/// Random stores (values and clears, short and spanning), erases and cursor
/// stores with `PoolOnly`, each after `fill_pool(worst_case)`: none fails,
/// none calls the allocator, and the tree matches the model.
#[test]
fn pool_only_after_worst_case_fill_never_fails_nor_allocates() {
    for rcu in [false, true] {
        for seed in 1..=6u64 {
            let p = Strict::new();
            let mut m = Model::default();
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
            let space = [300, 3000, 30_000][seed as usize % 3];
            let mut plain = Some(T::new(p.clone()));
            // Grow a tree of some height first (allocating freely).
            for i in 0..space / 4 {
                let f = i * 4;
                m.store(f, f + 1, Some(i as u64));
                plain
                    .as_mut()
                    .unwrap()
                    .store(f, f + 1, Some(i as u64), Gfp::Kernel)
                    .unwrap();
            }
            let rt = if rcu {
                Some(plain.take().unwrap().into_rcu())
            } else {
                None
            };
            let mut max_h = 0;
            for k in 0..3000u64 {
                if k % 300 == 0 {
                    // Refill densely (allocating freely) to keep the tree high.
                    for i in 0..space / 4 {
                        let (f, v) = (i * 4 + (k as usize / 300) % 3, Some(k + i as u64));
                        m.store(f, f, v);
                        match (&mut plain, &rt) {
                            (Some(t), _) => t.store(f, f, v, Gfp::Kernel).unwrap(),
                            (None, Some(rt)) => {
                                rt.try_write().unwrap().store(f, f, v, Gfp::Kernel).unwrap()
                            }
                            _ => unreachable!(),
                        }
                    }
                }
                let (f, l) = rng.range(space);
                let v = (!rng.next().is_multiple_of(5)).then_some(k);
                let kind = rng.next() % 8;
                match (&mut plain, &rt) {
                    (Some(t), _) => {
                        let need = t.worst_case_nodes_per_store();
                        max_h = max_h.max(t.height());
                        t.fill_pool(need, Gfp::Kernel).unwrap();
                        p.no_alloc(|| match kind {
                            0 => {
                                let e = m.erase(f);
                                assert_eq!(t.erase(f, Gfp::PoolOnly).unwrap(), e);
                            }
                            1 => {
                                m.store(f, l, Some(k));
                                let mut c = t.cursor(l);
                                let _ = c.next();
                                c.store(f, l, Some(k), Gfp::PoolOnly).unwrap();
                            }
                            _ => {
                                m.store(f, l, v);
                                t.store(f, l, v, Gfp::PoolOnly).unwrap();
                            }
                        });
                        if k % 97 == 0 {
                            t.validate().unwrap();
                            assert_eq!(t.iter().collect::<Vec<_>>(), m.all());
                        }
                    }
                    (None, Some(rt)) => {
                        let mut w = rt.try_write().unwrap();
                        let need = w.worst_case_nodes_per_store();
                        max_h = max_h.max(w.height());
                        w.fill_pool(need, Gfp::Kernel).unwrap();
                        p.no_alloc(|| match kind {
                            0 => {
                                let e = m.erase(f);
                                assert_eq!(w.erase(f, Gfp::PoolOnly).unwrap(), e);
                            }
                            1 => {
                                m.store(f, l, Some(k));
                                let mut c = w.cursor(l);
                                let _ = c.next();
                                c.store(f, l, Some(k), Gfp::PoolOnly).unwrap();
                            }
                            _ => {
                                m.store(f, l, v);
                                w.store(f, l, v, Gfp::PoolOnly).unwrap();
                            }
                        });
                        if k % 97 == 0 {
                            w.validate().unwrap();
                            assert_eq!(w.iter().collect::<Vec<_>>(), m.all());
                        }
                    }
                    _ => unreachable!(),
                }
            }
            assert!(max_h >= 2 + seed as usize % 3, "tree stayed low: {max_h}");
        }
    }
}

/// With one node fewer than the worst case, a `PoolOnly` store or erase
/// fails with `Alloc`, calls nothing, and leaves the tree (and the pool)
/// exactly as it was.
#[test]
fn pool_only_with_short_pool_fails_cleanly() {
    for rcu in [false, true] {
        let p = Strict::new();
        let mut t = T::new(p.clone());
        for i in 0..2000usize {
            t.store(i * 10, i * 10 + 4, Some(i as u64), Gfp::Kernel)
                .unwrap();
        }
        let before: Vec<_> = t.iter().collect();
        let ops: [(usize, usize, Option<u64>); 4] = [
            (5, 5, Some(1)),
            (0, 19_000, Some(2)),
            (33, 4477, None),
            (100_000, 100_001, Some(3)),
        ];
        if !rcu {
            for short in [0usize, 1] {
                t.release_pool();
                let need = t.worst_case_nodes_per_store();
                let have = if short == 0 { 0 } else { need - 1 };
                t.fill_pool(have, Gfp::Kernel).unwrap();
                let pool = t.pool_len();
                for &(f, l, v) in &ops {
                    let r = p.no_alloc(|| t.store(f, l, v, Gfp::PoolOnly));
                    assert_eq!(r, Err(StoreError::Alloc));
                    // An index inside an entry: there is something to erase.
                    let ei = (f / 10 * 10).min(19_990);
                    let r = p.no_alloc(|| t.erase(ei, Gfp::PoolOnly));
                    assert!(r.is_err());
                    let r = p.no_alloc(|| t.cursor(f).store(f, l, v, Gfp::PoolOnly));
                    assert_eq!(r, Err(StoreError::Alloc));
                    assert_eq!(t.pool_len(), pool);
                    t.validate().unwrap();
                    assert_eq!(t.iter().collect::<Vec<_>>(), before);
                }
                // Nothing there to erase: no nodes needed, no failure.
                assert_eq!(p.no_alloc(|| t.erase(7, Gfp::PoolOnly)), Ok(None));
            }
        } else {
            let rt = t.into_rcu();
            let mut w = rt.try_write().unwrap();
            w.release_pool();
            let need = w.worst_case_nodes_per_store();
            w.fill_pool(need - 1, Gfp::Kernel).unwrap();
            for &(f, l, v) in &ops {
                let r = p.no_alloc(|| w.store(f, l, v, Gfp::PoolOnly));
                assert_eq!(r, Err(StoreError::Alloc));
                let ei = (f / 10 * 10).min(19_990);
                let r = p.no_alloc(|| w.erase(ei, Gfp::PoolOnly));
                assert!(r.is_err());
                assert_eq!(w.pool_len(), need - 1);
                w.validate().unwrap();
                assert_eq!(w.iter().collect::<Vec<_>>(), before);
            }
            // Filled up, the same stores go through without allocating.
            w.fill_pool(need, Gfp::Kernel).unwrap();
            p.no_alloc(|| w.store(5, 5, Some(1), Gfp::PoolOnly))
                .unwrap();
            w.validate().unwrap();
        }
    }
}

fn snapshot(k: u64) -> Vec<(usize, usize, u64)> {
    // A different set of ranges for every k, all with value k.
    let n = 50 + (k as usize * 37) % 700;
    let step = 3 + (k as usize % 5);
    (0..n).map(|i| (i * step, i * step + 1, k)).collect()
}

#[test]
fn replace_and_clear() {
    let p = StdPlatform::new();
    let rt = RangeTree::<u64, StdPlatform>::new(p.clone()).into_rcu();
    {
        let mut w = rt.try_write().unwrap();
        for e in snapshot(1) {
            w.store(e.0, e.1, Some(e.2), Gfp::Kernel).unwrap();
        }
        w.fill_pool(40, Gfp::Kernel).unwrap();
    }
    // A reader holding the old snapshot across the replace.
    let g = p.read_lock();
    let mut old_it = rt.iter(&g);
    let first = old_it.next();
    {
        let mut w = rt.try_write().unwrap();
        let pool = w.pool_len();
        // The new tree has gone through many writes of its own.
        let mut new = RangeTree::<u64, StdPlatform>::new(p.clone());
        for _ in 0..3 {
            for e in snapshot(2) {
                new.store(e.0, e.1, Some(e.2 + 1), Gfp::Kernel).unwrap();
            }
        }
        for e in snapshot(2) {
            new.store(e.0, e.1, Some(e.2), Gfp::Kernel).unwrap();
        }
        let new_pool = new.pool_len();
        let deferred = p.stats().deferred.load(Ordering::SeqCst);
        let old_nodes = w.node_count();
        w.replace(new);
        assert_eq!(w.pool_len(), pool + new_pool);
        assert_eq!(
            p.stats().deferred.load(Ordering::SeqCst) - deferred,
            old_nodes
        );
        w.validate().unwrap();
        assert_eq!(w.iter().collect::<Vec<_>>(), snapshot(2));
        // Writes after the replace copy the new nodes, never change them in
        // place (readers may be in them).
        let g2 = p.read_lock();
        let held: Vec<_> = rt.iter(&g2).collect();
        let mut it2 = rt.iter(&g2);
        for (i, e) in snapshot(2).into_iter().enumerate().step_by(3) {
            w.store(e.0, e.1, Some(1000 + i as u64), Gfp::Kernel)
                .unwrap();
        }
        assert_eq!(it2.by_ref().collect::<Vec<_>>(), held);
        w.validate().unwrap();
    }
    // The old snapshot is still whole for the reader that held it.
    let mut rest: Vec<_> = first.into_iter().collect();
    rest.extend(old_it);
    assert_eq!(rest, snapshot(1));
    drop(g);
    {
        let mut w = rt.try_write().unwrap();
        let pool = w.pool_len();
        w.clear();
        assert!(w.is_empty());
        assert_eq!(w.height(), 0);
        assert_eq!(w.pool_len(), pool);
        w.validate().unwrap();
        w.store(5, 6, Some(7), Gfp::PoolOnly).unwrap();
        assert_eq!(w.iter().collect::<Vec<_>>(), vec![(5, 6, 7)]);
    }
    drop(rt);
    for _ in 0..64 {
        crossbeam_epoch::pin().flush();
    }
}

/// The in-kernel selftests' shared case, run on the host platform too.
#[test]
fn shared_selftest_case_preallocated_store_cannot_fail() {
    use vmatrack_core::selftest::{preallocated_store_cannot_fail, rng::Rng, Op};
    let mut rng = Rng::new(7);
    let r = preallocated_store_cannot_fail(vmatrack_testkit::StdPlatform::new(), 3000, |i| {
        let first = rng.below(4096) * 4096;
        let last = first + (1 + rng.below(64)) * 4096 - 1;
        match rng.below(4) {
            0 => Op::Erase(first),
            1 => Op::Store(first, last, None),
            _ => Op::Store(first, last, Some(i)),
        }
    });
    assert!(r.is_ok(), "{}", r.err().map_or("", |f| f.0));
}
