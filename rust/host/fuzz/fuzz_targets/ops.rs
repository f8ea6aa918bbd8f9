//! Decodes bytes into a sequence of tree operations and checks each result
//! against the model, in plain and RCU mode, validating after every step.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vmatrack_testkit::model::Model;
use vmatrack_testkit::rangetree::{Gfp, RangeTree};
use vmatrack_testkit::StdPlatform;

/// Reads little pieces of the input.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }

    /// A position: near 0, near `usize::MAX`, or small-dense, by a tag byte.
    fn pos(&mut self) -> Option<usize> {
        let tag = self.u8()?;
        let v = usize::from(self.u8()?) | usize::from(self.u8()?) << 8;
        Some(match tag % 4 {
            0 => v % 64,
            1 => 1000 + v % 2000,
            2 => usize::MAX - v % 64,
            _ => v.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        })
    }

    fn len(&mut self) -> Option<usize> {
        let b = self.u8()?;
        Some(match b % 8 {
            0..=4 => usize::from(b / 8 % 4),
            5 | 6 => usize::from(b),
            _ => usize::from(b) << 40,
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let p = StdPlatform::new();
    let mut t = RangeTree::<u64, StdPlatform>::new(p.clone());
    let r = RangeTree::<u64, StdPlatform>::new(p.clone()).into_rcu();
    let mut m = Model::default();
    let mut b = Bytes(data);
    let mut step = 0u64;
    while let Some(op) = b.u8() {
        step += 1;
        let mut w = r.try_write().unwrap();
        match op % 8 {
            0..=2 => {
                let (Some(f), Some(n)) = (b.pos(), b.len()) else {
                    break;
                };
                let l = f.saturating_add(n);
                let v = (op & 0x80 == 0).then_some(step);
                m.store(f, l, v);
                if op & 0x40 != 0 {
                    let k = t.worst_case_nodes_per_store();
                    t.fill_pool(k, Gfp::Kernel).unwrap();
                    t.store(f, l, v, Gfp::PoolOnly).unwrap();
                    let k = w.worst_case_nodes_per_store();
                    w.fill_pool(k, Gfp::Kernel).unwrap();
                    w.store(f, l, v, Gfp::PoolOnly).unwrap();
                } else {
                    t.store(f, l, v, Gfp::Kernel).unwrap();
                    w.store(f, l, v, Gfp::Atomic).unwrap();
                }
            }
            3 => {
                let Some(i) = b.pos() else { break };
                let e = m.erase(i);
                assert_eq!(t.erase(i, Gfp::Kernel).unwrap(), e);
                assert_eq!(w.erase(i, Gfp::Kernel).unwrap(), e);
            }
            4 => {
                let (Some(x), Some(y)) = (b.pos(), b.pos()) else {
                    break;
                };
                assert_eq!(t.find(x, y), m.find(x, y));
                assert_eq!(t.find_rev(x, y), m.find_rev(x, y));
                assert_eq!(w.load_range(x), m.load_range(x));
            }
            5 => {
                let (Some(x), Some(y), Some(s)) = (b.pos(), b.pos(), b.len()) else {
                    break;
                };
                assert_eq!(t.empty_area(x, y, s), m.empty_area(x, y, s));
                assert_eq!(w.empty_area_rev(x, y, s), m.empty_area_rev(x, y, s));
            }
            6 => {
                let (Some(c), Some(f), Some(n)) = (b.pos(), b.pos(), b.len()) else {
                    break;
                };
                let l = f.saturating_add(n);
                m.store(f, l, Some(step));
                let mut cu = t.cursor(c);
                let _ = cu.next();
                cu.store(f, l, Some(step), Gfp::Kernel).unwrap();
                w.cursor(c).store(f, l, Some(step), Gfp::Kernel).unwrap();
            }
            _ => {
                t = if op & 0x10 == 0 {
                    t.dup(Gfp::Kernel).unwrap()
                } else {
                    RangeTree::bulk_build(p.clone(), m.all().into_iter(), Gfp::Kernel).unwrap()
                };
            }
        }
        t.validate().unwrap();
        w.validate().unwrap();
        assert_eq!(t.iter().collect::<Vec<_>>(), m.all());
        assert_eq!(w.iter().collect::<Vec<_>>(), m.all());
    }
});
