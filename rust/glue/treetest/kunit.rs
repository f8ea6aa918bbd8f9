// SPDX-License-Identifier: GPL-2.0

//! The range tree's KUnit suite, `vmatrack_rangetree`: the in-kernel cases
//! that need no reference but the tree itself, run on the kernel's
//! allocators and RCU (the host tests run the same tree on `std`).
//!
//! KUnit registers the suite when the module loads, in kernels built with
//! `CONFIG_KUNIT=y`; the guests set `CONFIG_KUNIT_AUTORUN_ENABLED=n`, so it
//! runs only when someone writes `/sys/kernel/debug/kunit/vmatrack_rangetree/run`
//! (`tests/ksft_kunit.sh` does) and not at every `insmod`. The cases that
//! compare with the kernel's C maple tree stay in the `selftest` file
//! (`super::selftest`).
//!
//! Each case is seeded: from the module parameter `selftest_seed`, or else
//! from a counter every case advances, so the seeds of a boot are
//! reproducible and no two cases share one. A failing case prints its
//! seed and what went wrong to the kernel log.

use kernel::prelude::*;

#[kunit_tests(vmatrack_rangetree)]
mod tests {
    use core::{
        alloc::Layout,
        ptr::NonNull,
        sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    };
    use kernel::{prelude::*, sync::rcu};

    use crate::glue::{
        platform::KernelPlatform,
        treetest::selftest::{random_op, OPS},
    };
    use crate::rangetree::{Gfp, Platform, RangeTree, RcuHead, RcuRangeTree};
    use crate::selftest::{self as cases, rng::Rng, CaseResult, Failure, Op};

    /// Seeds drawn so far without `selftest_seed`: the `n`-th case run in
    /// this boot uses `n` (before its salt).
    static DRAWN: AtomicU64 = AtomicU64::new(0);

    /// The seed for one case (`salt` tells the cases apart when
    /// `selftest_seed` fixes the base).
    fn seed(salt: u64) -> u64 {
        match crate::module_parameters::selftest_seed.value() {
            0 => DRAWN.fetch_add(1, Ordering::Relaxed) + 1,
            s => s,
        }
        .wrapping_add(salt << 32)
    }

    /// Passes `r` on, first printing a failure with the case's seed.
    fn report(case: &str, seed: u64, r: CaseResult) -> CaseResult {
        if let Err(Failure(what, a, b)) = &r {
            pr_err!("vmatrack_rangetree: {case} (seed {seed}): {what} {a:#x} {b:#x}\n");
        }
        r
    }

    /// Whether `a` and `b` hold the same entries.
    fn same<P: Platform, Q: Platform>(
        a: &RangeTree<usize, P>,
        b: &RangeTree<usize, Q>,
    ) -> CaseResult {
        if a.len() != b.len() {
            return Err(Failure("entry count differs", a.len(), b.len()));
        }
        match a.iter().zip(b.iter()).find(|(x, y)| x != y) {
            Some((x, _)) => Err(Failure("entry differs at", x.0, x.1)),
            None => Ok(()),
        }
    }

    /// Applies `op` to `t`.
    fn apply<P: Platform>(t: &mut RangeTree<usize, P>, op: &Op, gfp: Gfp) -> Result<(), ()> {
        match *op {
            Op::Store(f, l, v) => t.store(f, l, v, gfp).map_err(|_| ()),
            Op::Erase(x) => t.erase(x, gfp).map(|_| ()).map_err(|_| ()),
        }
    }

    /// A platform that fails every `period`-th allocation: proof that a
    /// failed allocation leaves the tree as it was.
    struct FailingPlatform {
        /// Allocations left before the next one fails.
        countdown: AtomicUsize,
        /// After a failure, the countdown restarts from this value.
        period: usize,
        /// How many allocations were failed on purpose.
        failed: AtomicUsize,
    }

    impl FailingPlatform {
        /// Only the tree's writer allocates, so a load/store pair is enough.
        fn should_fail(&self) -> bool {
            let left = self.countdown.load(Ordering::Relaxed);
            if left <= 1 {
                self.countdown.store(self.period, Ordering::Relaxed);
                self.failed.fetch_add(1, Ordering::Relaxed);
                true
            } else {
                self.countdown.store(left - 1, Ordering::Relaxed);
                false
            }
        }
    }

    // SAFETY: Delegates to `KernelPlatform` (whose guarantees hold) and only
    // ever adds failures, which the contract allows.
    unsafe impl Platform for &FailingPlatform {
        type ReadGuard = rcu::Guard;

        fn read_lock(&self) -> rcu::Guard {
            KernelPlatform.read_lock()
        }

        fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>> {
            if self.should_fail() {
                return None;
            }
            KernelPlatform.alloc(layout, gfp)
        }

        unsafe fn free(&self, ptr: NonNull<u8>, layout: Layout) {
            // SAFETY: Same memory, same contract as `KernelPlatform::free`.
            unsafe { KernelPlatform.free(ptr, layout) };
        }

        unsafe fn free_after_grace_period(
            &self,
            ptr: NonNull<u8>,
            layout: Layout,
            head: NonNull<RcuHead>,
        ) {
            // SAFETY: Same memory, same contract as the `KernelPlatform` method.
            unsafe { KernelPlatform.free_after_grace_period(ptr, layout, head) };
        }
    }

    /// After `fill_pool(worst_case_nodes_per_store())`, a store that may not
    /// allocate (`Gfp::PoolOnly`, what probe context uses) always succeeds.
    #[test]
    fn preallocated_store_cannot_fail() -> CaseResult {
        let seed = seed(1);
        let mut rng = Rng::new(seed);
        let r =
            cases::preallocated_store_cannot_fail(KernelPlatform, OPS, |i| random_op(&mut rng, i));
        report("preallocated_store_cannot_fail", seed, r)
    }

    /// With every 7th allocation failing, a failed store or erase leaves the
    /// tree exactly as it was: it always equals a reference tree that saw
    /// only the operations that succeeded.
    #[test]
    fn alloc_failure_leaves_tree_unchanged() -> CaseResult {
        let seed = seed(2);
        let mut rng = Rng::new(seed);
        let failing = FailingPlatform {
            countdown: AtomicUsize::new(7),
            period: 7,
            failed: AtomicUsize::new(0),
        };
        let mut run = || -> CaseResult {
            let mut t = RangeTree::<usize, _>::new(&failing);
            let mut reference = RangeTree::<usize, _>::new(KernelPlatform);
            for i in 0..OPS {
                let op = random_op(&mut rng, i);
                if apply(&mut t, &op, Gfp::Kernel).is_ok() {
                    apply(&mut reference, &op, Gfp::Kernel)
                        .map_err(|()| Failure("reference store failed at op", i, 0))?;
                }
                t.validate()
                    .map_err(|_| Failure("validate() failed after op", i, 0))?;
                same(&t, &reference)?;
            }
            Ok(())
        };
        let r = run().and_then(|()| match failing.failed.load(Ordering::Relaxed) {
            0 => Err(Failure(
                "no allocation was failed: the case tested nothing",
                0,
                0,
            )),
            _ => Ok(()),
        });
        report("alloc_failure_leaves_tree_unchanged", seed, r)
    }

    /// RCU mode (nodes replaced by copy, old ones freed after a grace period
    /// through `kvfree_call_rcu`) holds what plain mode holds after the same
    /// operations, read under `rcu_read_lock()`.
    #[test]
    fn rcu_mode_matches_plain_mode() -> CaseResult {
        let seed = seed(3);
        let mut rng = Rng::new(seed);
        let mut run = || -> CaseResult {
            let t: RcuRangeTree<usize, _> = RangeTree::new(KernelPlatform).into_rcu();
            let mut plain = RangeTree::<usize, _>::new(KernelPlatform);
            for i in 0..OPS {
                let op = random_op(&mut rng, i);
                apply(&mut plain, &op, Gfp::Kernel)
                    .map_err(|()| Failure("plain store failed at op", i, 0))?;
                let mut w =
                    t.try_write()
                        .ok_or(Failure("writer busy with no other writer", i, 0))?;
                let ok = match op {
                    Op::Store(f, l, v) => w.store(f, l, v, Gfp::Kernel).is_ok(),
                    Op::Erase(x) => w.erase(x, Gfp::Kernel).is_ok(),
                };
                drop(w);
                if !ok {
                    return Err(Failure("RCU-mode store failed at op", i, 0));
                }
                if i % 100 == 99 {
                    let g = KernelPlatform.read_lock();
                    if !t.iter(&g).eq(plain.iter()) {
                        return Err(Failure("RCU mode differs from plain mode after op", i, 0));
                    }
                }
            }
            let g = KernelPlatform.read_lock();
            t.validate(&g)
                .map_err(|_| Failure("validate() failed in RCU mode", 0, 0))?;
            if !t.iter(&g).eq(plain.iter()) {
                return Err(Failure("RCU mode differs from plain mode at the end", 0, 0));
            }
            Ok(())
        };
        report("rcu_mode_matches_plain_mode", seed, run())
    }

    /// `bulk_build` from a tree's entries gives a tree with the same
    /// entries, and its `dup()` is a copy of its own.
    #[test]
    fn bulk_build_and_dup_are_copies() -> CaseResult {
        let seed = seed(4);
        let mut rng = Rng::new(seed);
        let mut run = || -> CaseResult {
            let mut t = RangeTree::<usize, _>::new(KernelPlatform);
            for i in 0..OPS {
                apply(&mut t, &random_op(&mut rng, i), Gfp::Kernel)
                    .map_err(|()| Failure("store failed at op", i, 0))?;
            }
            let b = RangeTree::bulk_build(KernelPlatform, t.iter(), Gfp::Kernel)
                .map_err(|_| Failure("bulk_build failed", t.len(), 0))?;
            b.validate()
                .map_err(|_| Failure("validate() failed after bulk_build", 0, 0))?;
            same(&b, &t)?;
            cases::dup_is_a_separate_copy(&b, |d| same(d, &t))
        };
        report("bulk_build_and_dup_are_copies", seed, run())
    }
}
