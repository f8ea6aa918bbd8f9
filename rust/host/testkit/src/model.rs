//! A deliberately simple model of the range tree's semantics: a `BTreeMap`
//! from `first` to `(last, value)`, and brute-force gap search.

use std::collections::BTreeMap;

/// The model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    /// `first -> (last, value)`.
    pub m: BTreeMap<usize, (usize, u64)>,
}

impl Model {
    /// Stores `v` over `[f, l]` like `mas_store()`.
    pub fn store(&mut self, f: usize, l: usize, v: Option<u64>) {
        assert!(f <= l);
        let hit: Vec<(usize, (usize, u64))> = self
            .m
            .range(..=l)
            .rev()
            .take_while(|(_, (last, _))| *last >= f)
            .map(|(k, v)| (*k, *v))
            .collect();
        for (s, (e, val)) in hit {
            self.m.remove(&s);
            if s < f {
                self.m.insert(s, (f - 1, val));
            }
            if e > l {
                self.m.insert(l + 1, (e, val));
            }
        }
        if let Some(v) = v {
            self.m.insert(f, (l, v));
        }
    }

    /// The entry containing `i`.
    pub fn load_range(&self, i: usize) -> Option<(usize, usize, u64)> {
        let (f, (l, v)) = self.m.range(..=i).next_back()?;
        (*l >= i).then_some((*f, *l, *v))
    }

    /// Removes the entry containing `i`.
    pub fn erase(&mut self, i: usize) -> Option<(usize, usize, u64)> {
        let e = self.load_range(i)?;
        self.m.remove(&e.0);
        Some(e)
    }

    /// First entry with `last >= from` and `first <= max`.
    pub fn find(&self, from: usize, max: usize) -> Option<(usize, usize, u64)> {
        if from > max {
            return None;
        }
        let e = self
            .load_range(from)
            .or_else(|| self.m.range(from..).next().map(|(f, (l, v))| (*f, *l, *v)))?;
        (e.0 <= max).then_some(e)
    }

    /// Last entry with `first <= from` and `last >= min`.
    pub fn find_rev(&self, from: usize, min: usize) -> Option<(usize, usize, u64)> {
        if from < min {
            return None;
        }
        let (f, (l, v)) = self.m.range(..=from).next_back()?;
        (*l >= min).then_some((*f, *l, *v))
    }

    /// Entries overlapping `[f, l]`, in order.
    pub fn range(&self, f: usize, l: usize) -> Vec<(usize, usize, u64)> {
        if f > l {
            return Vec::new();
        }
        self.all()
            .into_iter()
            .filter(|e| e.1 >= f && e.0 <= l)
            .collect()
    }

    /// All entries in order.
    pub fn all(&self) -> Vec<(usize, usize, u64)> {
        self.m.iter().map(|(f, (l, v))| (*f, *l, *v)).collect()
    }

    /// Free intervals, in order.
    pub fn free(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut next: Option<usize> = Some(0);
        for (f, (l, _)) in &self.m {
            if let Some(n) = next {
                if *f > n {
                    out.push((n, f - 1));
                }
            }
            next = l.checked_add(1);
        }
        if let Some(n) = next {
            out.push((n, usize::MAX));
        }
        out
    }

    /// `mas_empty_area()` by brute force over the free intervals.
    pub fn empty_area(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        if min > max || size == 0 || max - min < size - 1 {
            return None;
        }
        self.free().into_iter().find_map(|(a, b)| {
            let s = a.max(min);
            let e = b.min(max);
            (s <= e && e - s >= size - 1).then_some(s)
        })
    }

    /// `mas_empty_area_rev()` by brute force over the free intervals.
    pub fn empty_area_rev(&self, min: usize, max: usize, size: usize) -> Option<usize> {
        if min > max || size == 0 || max - min < size - 1 {
            return None;
        }
        self.free().into_iter().rev().find_map(|(a, b)| {
            let s = a.max(min);
            let e = b.min(max);
            (s <= e && e - s >= size - 1).then(|| e - (size - 1))
        })
    }
}
