//! Property tests: random sequences of every operation against the model,
//! in plain mode and in RCU mode side by side, `validate()` after every step.

use proptest::prelude::*;
use vmatrack_testkit::model::Model;
use vmatrack_testkit::rangetree::{Gfp, RangeTree, RcuRangeTree, StoreError};
use vmatrack_testkit::{cases, StdPlatform};

#[derive(Clone, Debug)]
enum Op {
    Store(usize, usize, Option<u64>),
    PoolStore(usize, usize, Option<u64>),
    CursorStore(usize, usize, usize, Option<u64>),
    Erase(usize),
    Load(usize),
    Find(usize, usize),
    FindRev(usize, usize),
    Range(usize, usize),
    Empty(usize, usize, usize),
    EmptyRev(usize, usize, usize),
    CursorWalk(usize, u8),
    Dup,
    Rebuild,
    ReleasePool,
}

/// Positions near 0, near `usize::MAX`, in a small dense window, anywhere.
fn pos() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 0usize..64,
        3 => 1000usize..1400,
        2 => (0usize..64).prop_map(|d| usize::MAX - d),
        1 => any::<usize>(),
    ]
}

fn len() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..4, 2 => 0usize..40, 1 => 0usize..400, 1 => any::<usize>()]
}

fn range() -> impl Strategy<Value = (usize, usize)> {
    (pos(), len()).prop_map(|(f, n)| (f, f.saturating_add(n)))
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..8, 2 => 0usize..200, 1 => any::<usize>(), 1 => Just(usize::MAX)]
}

fn op() -> impl Strategy<Value = Op> {
    let val = prop_oneof![4 => any::<u64>().prop_map(Some), 1 => Just(None)];
    prop_oneof![
        12 => (range(), val.clone()).prop_map(|((f, l), v)| Op::Store(f, l, v)),
        3 => (range(), val.clone()).prop_map(|((f, l), v)| Op::PoolStore(f, l, v)),
        3 => (pos(), range(), val).prop_map(|(c, (f, l), v)| Op::CursorStore(c, f, l, v)),
        3 => pos().prop_map(Op::Erase),
        2 => pos().prop_map(Op::Load),
        2 => (pos(), pos()).prop_map(|(a, b)| Op::Find(a, b)),
        2 => (pos(), pos()).prop_map(|(a, b)| Op::FindRev(a, b)),
        1 => (pos(), pos()).prop_map(|(a, b)| Op::Range(a, b)),
        3 => (pos(), pos(), size()).prop_map(|(a, b, s)| Op::Empty(a, b, s)),
        3 => (pos(), pos(), size()).prop_map(|(a, b, s)| Op::EmptyRev(a, b, s)),
        1 => (pos(), any::<u8>()).prop_map(|(a, n)| Op::CursorWalk(a, n)),
        1 => Just(Op::Dup),
        1 => Just(Op::Rebuild),
        1 => Just(Op::ReleasePool),
    ]
}

type Plain = RangeTree<u64, StdPlatform>;
type Rcu = RcuRangeTree<u64, StdPlatform>;

fn check_same(t: &Plain, r: &Rcu, m: &Model) {
    t.validate().unwrap();
    let w = r.try_write().unwrap();
    w.validate().unwrap();
    let all = m.all();
    assert_eq!(t.iter().collect::<Vec<_>>(), all);
    assert_eq!(w.iter().collect::<Vec<_>>(), all);
    assert_eq!(t.len(), all.len());
    let g = r.platform().clone();
    let guard = vmatrack_testkit::rangetree::Platform::read_lock(&g);
    assert_eq!(r.iter(&guard).collect::<Vec<_>>(), all);
    r.validate(&guard).unwrap();
}

fn run(ops: Vec<Op>) {
    let p = StdPlatform::new();
    let mut t: Plain = RangeTree::new(p.clone());
    let r: Rcu = RangeTree::new(p.clone()).into_rcu();
    let mut m = Model::default();
    for op in ops {
        let mut w = r.try_write().unwrap();
        match op {
            Op::Store(f, l, v) => {
                if f > l {
                    assert_eq!(t.store(f, l, v, Gfp::Kernel), Err(StoreError::InvalidRange));
                    continue;
                }
                m.store(f, l, v);
                t.store(f, l, v, Gfp::Kernel).unwrap();
                w.store(f, l, v, Gfp::Atomic).unwrap();
            }
            Op::PoolStore(f, l, v) => {
                m.store(f, l, v);
                let n = t.worst_case_nodes_per_store();
                t.fill_pool(n, Gfp::Kernel).unwrap();
                t.store(f, l, v, Gfp::PoolOnly).unwrap();
                let n = w.worst_case_nodes_per_store();
                w.fill_pool(n, Gfp::Kernel).unwrap();
                w.store(f, l, v, Gfp::PoolOnly).unwrap();
            }
            Op::CursorStore(c, f, l, v) => {
                m.store(f, l, v);
                let mut cu = t.cursor(c);
                cu.store(f, l, v, Gfp::Kernel).unwrap();
                assert_eq!(cu.index(), f);
                assert_eq!(cu.current(), m.load_range(f));
                let mut cw = w.cursor(c);
                cw.store(f, l, v, Gfp::Kernel).unwrap();
                assert_eq!(cw.current(), m.load_range(f));
            }
            Op::Erase(i) => {
                let e = m.erase(i);
                assert_eq!(t.erase(i, Gfp::Kernel).unwrap(), e);
                assert_eq!(w.erase(i, Gfp::Kernel).unwrap(), e);
            }
            Op::Load(i) => {
                assert_eq!(t.load_range(i), m.load_range(i));
                assert_eq!(t.load(i), m.load_range(i).map(|e| e.2));
                assert_eq!(w.load_range(i), m.load_range(i));
            }
            Op::Find(a, b) => {
                assert_eq!(t.find(a, b), m.find(a, b));
                assert_eq!(w.find(a, b), m.find(a, b));
            }
            Op::FindRev(a, b) => {
                assert_eq!(t.find_rev(a, b), m.find_rev(a, b));
                assert_eq!(w.find_rev(a, b), m.find_rev(a, b));
            }
            Op::Range(a, b) => {
                assert_eq!(t.range(a, b).collect::<Vec<_>>(), m.range(a, b));
                assert_eq!(w.range(a, b).collect::<Vec<_>>(), m.range(a, b));
            }
            Op::Empty(a, b, s) => {
                let want = m.empty_area(a, b, s);
                assert_eq!(
                    t.empty_area(a, b, s),
                    want,
                    "empty_area({a:#x}, {b:#x}, {s:#x})"
                );
                assert_eq!(w.empty_area(a, b, s), want);
            }
            Op::EmptyRev(a, b, s) => {
                let want = m.empty_area_rev(a, b, s);
                assert_eq!(
                    t.empty_area_rev(a, b, s),
                    want,
                    "empty_area_rev({a:#x}, {b:#x}, {s:#x})"
                );
                assert_eq!(w.empty_area_rev(a, b, s), want);
            }
            Op::CursorWalk(a, n) => {
                let all = m.all();
                let mut cu = t.cursor(a);
                assert_eq!(cu.current(), m.load_range(a));
                let start = all.iter().position(|e| e.0 > a);
                let mut want = start;
                for _ in 0..(n % 8) {
                    let got = cu.next();
                    match want {
                        Some(k) if k < all.len() => {
                            assert_eq!(got, Some(all[k]));
                            want = Some(k + 1);
                        }
                        _ => assert_eq!(got, None),
                    }
                }
                // And back.
                let here = cu.current().map_or(cu.index(), |e| e.0);
                let got = cu.prev();
                assert_eq!(got, all.iter().rev().find(|e| e.1 < here).copied());
            }
            Op::Dup => {
                let d = t.dup(Gfp::Kernel).unwrap();
                d.validate().unwrap();
                assert_eq!(d.iter().collect::<Vec<_>>(), m.all());
                t = d;
            }
            Op::Rebuild => {
                let b = RangeTree::bulk_build(p.clone(), m.all().into_iter(), Gfp::Kernel).unwrap();
                b.validate().unwrap();
                assert_eq!(b.iter().collect::<Vec<_>>(), m.all());
                t = b;
            }
            Op::ReleasePool => {
                t.release_pool();
                w.release_pool();
                assert_eq!(t.pool_len(), 0);
            }
        }
        drop(w);
        check_same(&t, &r, &m);
    }
    if std::env::var_os("PROP_SHOW_HEIGHT").is_some() {
        eprintln!("height {} len {}", t.height(), t.len());
    }
    drop(t);
    drop(r);
    assert_eq!(p.live(), 0, "node memory leaked");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(400), ..ProptestConfig::default() })]

    #[test]
    fn ops_match_model(ops in prop::collection::vec(op(), 1..if cfg!(miri) { 24 } else { 160 })) {
        run(ops);
    }
}

/// Dense sequences grow trees several levels deep, where rebalancing and
/// spanning stores across subtrees happen.
fn dense_op() -> impl Strategy<Value = Op> {
    let p = 0usize..3000;
    let val = prop_oneof![4 => any::<u64>().prop_map(Some), 1 => Just(None)];
    prop_oneof![
        8 => (p.clone(), 0usize..3, val.clone()).prop_map(|(f, n, v)| Op::Store(f, f + n, v)),
        2 => (p.clone(), 0usize..300, val.clone()).prop_map(|(f, n, v)| Op::Store(f, f + n, v)),
        2 => (p.clone(), 0usize..3, val).prop_map(|(f, n, v)| Op::PoolStore(f, f + n, v)),
        3 => p.clone().prop_map(Op::Erase),
        1 => (p.clone(), p.clone(), 0usize..20).prop_map(|(a, b, s)| Op::Empty(a, b, s)),
        1 => (p.clone(), p, 0usize..20).prop_map(|(a, b, s)| Op::EmptyRev(a, b, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    // Deep trees need volume that Miri cannot afford: the unit tests and
    // `ops_match_model` are what Miri runs.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn dense_ops_match_model(
        ops in prop::collection::vec(dense_op(), 200..1500)
    ) {
        run(ops);
    }
}
