// SPDX-License-Identifier: GPL-2.0
//! Our RangeTree / RcuRangeTree as contestants.
//!
//! Platform: the testkit's `StdPlatform` (std allocator, through the bench's
//! counting global allocator, and crossbeam-epoch grace periods), the same
//! one the host tests and the fuzzer use.

use crate::map::{Contestant, GapQueries, RangeMap, Stores};
use vmatrack_core::rangetree::{Gfp, Platform, RangeTree, RcuRangeTree, LEAF_SLOTS};
use vmatrack_testkit::StdPlatform as BenchPlatform;

/// Runs pending deferred frees (as far as crossbeam lets us).
fn epoch_drain() {
    for _ in 0..8 {
        crossbeam_epoch::pin().flush();
    }
}

type Plain = RangeTree<usize, BenchPlatform>;
type Rcu = RcuRangeTree<usize, BenchPlatform>;

pub(super) struct Ours {
    t: Plain,
    pool: bool,
    bulk: bool,
}

impl RangeMap for Ours {
    fn store_many(&mut self, s: &Stores) {
        if self.bulk && self.t.is_empty() {
            let it = (0..s.len()).map(|i| (s.first[i], s.last[i], s.val[i]));
            self.t = Plain::bulk_build(BenchPlatform::new(), it, Gfp::Kernel).expect("bulk_build");
            return;
        }
        for i in 0..s.len() {
            self.t
                .store(s.first[i], s.last[i], Some(s.val[i]), Gfp::Kernel)
                .expect("store");
        }
    }
    fn load_many(&self, idx: &[usize]) -> usize {
        idx.iter().map(|&i| self.t.load(i).unwrap_or(0)).sum()
    }
    fn erase_many(&mut self, idx: &[usize]) -> Option<usize> {
        let mut sum = 0;
        for &i in idx {
            if let Some((_, _, v)) = self.t.erase(i, Gfp::Kernel).expect("erase") {
                sum += v;
            }
        }
        Some(sum)
    }
    fn iter_sum(&self) -> (usize, usize) {
        let (mut c, mut sum) = (0, 0usize);
        for (f, l, v) in self.t.iter() {
            c += 1;
            sum = sum.wrapping_add((f ^ l).wrapping_add(v));
        }
        (c, sum)
    }
    fn empty_area_many(&self, rev: bool, q: &GapQueries) -> Option<(usize, usize)> {
        let (mut f, mut sum) = (0, 0usize);
        for i in 0..q.min.len() {
            let r = if rev {
                self.t.empty_area_rev(q.min[i], q.max[i], q.size[i])
            } else {
                self.t.empty_area(q.min[i], q.max[i], q.size[i])
            };
            if let Some(s) = r {
                f += 1;
                sum = sum.wrapping_add(s + 1);
            }
        }
        Some((f, sum))
    }
    fn dup(&self) -> Option<Box<dyn RangeMap>> {
        let t = self.t.dup(Gfp::Kernel).expect("dup");
        Some(Box::new(Ours {
            t,
            pool: false,
            bulk: false,
        }))
    }
    fn self_bytes(&self) -> Option<usize> {
        Some(self.t.bytes_used())
    }
    fn reserve(&mut self, ranges: usize) {
        if self.pool {
            // Leaves at least half full, plus inner nodes, plus slack.
            let need = 2 * ranges / LEAF_SLOTS * 5 / 4 + 4 * self.t.worst_case_nodes_per_store();
            self.t.fill_pool(need, Gfp::Kernel).expect("fill_pool");
        }
    }
}

pub(super) struct OursRcu {
    t: Rcu,
    pool: bool,
}

impl OursRcu {
    fn w(&self) -> vmatrack_core::rangetree::RcuWriter<'_, usize, BenchPlatform> {
        self.t.try_write().expect("writer busy")
    }
}

impl RangeMap for OursRcu {
    fn store_many(&mut self, s: &Stores) {
        let mut w = self.w();
        for i in 0..s.len() {
            w.store(s.first[i], s.last[i], Some(s.val[i]), Gfp::Kernel)
                .expect("store");
        }
    }
    fn load_many(&self, idx: &[usize]) -> usize {
        // One read section per lookup, as mtree_load takes rcu_read_lock.
        let p = self.t.platform();
        idx.iter()
            .map(|&i| {
                let g = p.read_lock();
                self.t.load(i, &g).unwrap_or(0)
            })
            .sum()
    }
    fn erase_many(&mut self, idx: &[usize]) -> Option<usize> {
        let mut w = self.w();
        let mut sum = 0;
        for &i in idx {
            if let Some((_, _, v)) = w.erase(i, Gfp::Kernel).expect("erase") {
                sum += v;
            }
        }
        Some(sum)
    }
    fn iter_sum(&self) -> (usize, usize) {
        let g = self.t.platform().read_lock();
        let (mut c, mut sum) = (0, 0usize);
        for (f, l, v) in self.t.iter(&g) {
            c += 1;
            sum = sum.wrapping_add((f ^ l).wrapping_add(v));
        }
        (c, sum)
    }
    fn empty_area_many(&self, rev: bool, q: &GapQueries) -> Option<(usize, usize)> {
        let g = self.t.platform().read_lock();
        let (mut f, mut sum) = (0, 0usize);
        for i in 0..q.min.len() {
            let r = if rev {
                self.t.empty_area_rev(q.min[i], q.max[i], q.size[i], &g)
            } else {
                self.t.empty_area(q.min[i], q.max[i], q.size[i], &g)
            };
            if let Some(s) = r {
                f += 1;
                sum = sum.wrapping_add(s + 1);
            }
        }
        Some((f, sum))
    }
    fn dup(&self) -> Option<Box<dyn RangeMap>> {
        let w = self.t.try_write().expect("one writer");
        let t = w.dup(Gfp::Kernel).expect("dup");
        Some(Box::new(Ours {
            t,
            pool: false,
            bulk: false,
        }))
    }
    fn self_bytes(&self) -> Option<usize> {
        Some(self.w().bytes_used())
    }
    fn reserve(&mut self, ranges: usize) {
        if self.pool {
            // Copy-on-write: every store copies its path.
            let mut w = self.w();
            let need = ranges * (w.height().max(3) + 2);
            w.fill_pool(need, Gfp::Kernel).expect("fill_pool");
        }
    }
    fn quiesce(&mut self) {
        epoch_drain();
    }
}

impl Drop for OursRcu {
    fn drop(&mut self) {
        epoch_drain();
    }
}

pub(crate) fn contestants() -> Vec<Contestant> {
    let plain = |pool, bulk| {
        move || -> Box<dyn RangeMap> {
            Box::new(Ours {
                t: Plain::new(BenchPlatform::new()),
                pool,
                bulk,
            })
        }
    };
    let rcu = |pool| {
        move || -> Box<dyn RangeMap> {
            Box::new(OursRcu {
                t: Plain::new(BenchPlatform::new()).into_rcu(),
                pool,
            })
        }
    };
    vec![
        Contestant {
            name: "ours",
            rcu: false,
            ours: true,
            make: Box::new(plain(false, false)),
        },
        Contestant {
            name: "ours+pool",
            rcu: false,
            ours: true,
            make: Box::new(plain(true, false)),
        },
        Contestant {
            name: "ours+bulk",
            rcu: false,
            ours: true,
            make: Box::new(plain(false, true)),
        },
        Contestant {
            name: "ours-rcu",
            rcu: true,
            ours: true,
            make: Box::new(rcu(false)),
        },
        Contestant {
            name: "ours-rcu+pool",
            rcu: true,
            ours: true,
            make: Box::new(rcu(true)),
        },
    ]
}
