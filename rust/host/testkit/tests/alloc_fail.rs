//! Allocation failure: on `AllocError` the tree is unchanged and valid, and
//! nothing leaks.

use vmatrack_testkit::rangetree::{BuildError, Gfp, RangeTree, StoreError};
use vmatrack_testkit::StdPlatform;

type T = RangeTree<u64, StdPlatform>;

fn entries(t: &T) -> Vec<(usize, usize, u64)> {
    t.iter().collect()
}

fn sample(p: &StdPlatform, n: usize) -> T {
    let mut t = T::new(p.clone());
    for i in 0..n {
        t.store(i * 10, i * 10 + 4, Some(i as u64), Gfp::Kernel)
            .unwrap();
    }
    t.release_pool();
    t
}

/// Fails each allocation of each kind of store in turn.
#[test]
fn failed_store_leaves_tree_unchanged() {
    for rcu in [false, true] {
        let p = StdPlatform::new();
        let stores = [
            (5, 5, Some(1)),
            (0, 5000, Some(2)),
            (33, 4477, None),
            (100_000, 100_001, Some(3)),
        ];
        for &(f, l, v) in &stores {
            for nth in 0..64 {
                let mut t = sample(&p, 600);
                let before = entries(&t);
                p.fail_nth(nth, true);
                let r = if rcu {
                    let r = t.dup(Gfp::Kernel);
                    // The dup itself may be what fails.
                    match r {
                        Err(_) => {
                            p.heal();
                            continue;
                        }
                        Ok(d) => {
                            let rt = d.into_rcu();
                            let res = rt.try_write().unwrap().store(f, l, v, Gfp::Kernel);
                            p.heal();
                            if res.is_err() {
                                let w = rt.try_write().unwrap();
                                w.validate().unwrap();
                                assert_eq!(w.iter().collect::<Vec<_>>(), before);
                            }
                            res
                        }
                    }
                } else {
                    let res = t.store(f, l, v, Gfp::Kernel);
                    p.heal();
                    res
                };
                t.validate().unwrap();
                if r.is_err() {
                    assert_eq!(r, Err(StoreError::Alloc));
                    assert_eq!(entries(&t), before);
                } else if !rcu {
                    break;
                }
            }
        }
        assert_eq!(p.live(), 0, "leak (rcu={rcu})");
    }
}

#[test]
fn failed_erase_and_pool_fill_leave_tree_unchanged() {
    let p = StdPlatform::new();
    let mut t = sample(&p, 300);
    let before = entries(&t);
    p.fail_nth(0, true);
    assert!(t.erase(1500, Gfp::Kernel).is_err());
    assert!(t.fill_pool(10, Gfp::Atomic).is_err());
    p.heal();
    t.validate().unwrap();
    assert_eq!(entries(&t), before);
    drop(t);
    assert_eq!(p.live(), 0);
}

#[test]
fn failed_dup_and_bulk_build_free_everything() {
    let p = StdPlatform::new();
    let t = sample(&p, 2000);
    for nth in [0, 1, 5, 50, 100] {
        p.fail_nth(nth, false);
        assert!(t.dup(Gfp::Kernel).is_err());
        p.fail_nth(nth, false);
        let r = T::bulk_build(
            p.clone(),
            (0..5000usize).map(|i| (i * 3, i * 3 + 1, 0)),
            Gfp::Kernel,
        );
        assert!(matches!(r, Err(BuildError::Alloc)));
        p.heal();
    }
    drop(t);
    assert_eq!(p.live(), 0);
}
