// SPDX-License-Identifier: GPL-2.0

//! What a tree store did.
//!
//! [`classify_store`] looks at the shadow (through [`ShadowView`]) before a
//! store or clear of the kernel's tree is applied to it, and says which of
//! the kernel's sequences it belongs to ([`StoreKind`]). In 7.3 every store
//! of a VMA covers the VMA's whole new range (`vma_iter_store_overwrite()`
//! sets the range from `vm_start`/`vm_end`), and no operation moves a
//! `vm_area_struct` to a new place: mremap() copies it. That is what makes
//! the geometry of one store enough.

use super::super::record::ObjectId;
use super::{cause::Cause, flags};

/// A read-only look at the shadow as it is before a store is applied.
pub trait ShadowView {
    /// The lowest range intersecting `[from, max]`, as the range tree's
    /// `find`: `(first, last, vma)`.
    fn find(&self, from: usize, max: usize) -> Option<(usize, usize, ObjectId)>;
}

/// What one store or clear of the kernel's VMA tree means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// A VMA stored over exactly its own range, or a clear of empty space.
    Noop,
    /// A new VMA over empty space only: `__mmap_new_vma()`, `do_brk_flags()`
    /// (new VMA), `vma_link()` (mremap() copy, special mappings).
    NewVma,
    /// An existing VMA grown over empty space on its right:
    /// `vma_merge_new_range()` merging prev, including `do_brk_flags()` and
    /// `vma_merge_extend()` (mremap() in place), and `expand_upwards()`.
    MergePrev,
    /// An existing VMA grown over empty space on its left:
    /// `vma_merge_new_range()` merging next, and also `expand_downwards()`
    /// (stack growth) and `relocate_vma_down()`, which look the same.
    MergeNext,
    /// An existing VMA grown over empty space and over all of the VMA after
    /// it, which is removed: `vma_merge_new_range()` merging both.
    MergeBoth,
    /// A `VM_GROWSDOWN` VMA grown over empty space on its left:
    /// `expand_downwards()` (stack growth on a fault) or
    /// `relocate_vma_down()` (exec). Not a merge; see
    /// [`StoreEffect::stack_growth`].
    StackGrowth,
    /// An existing VMA grown over whole VMAs (and maybe empty space) in a
    /// shape none of the above has: `vma_merge_new_range()` after a MAP_FIXED
    /// `mmap()` detached the VMAs it replaces (they are still in the tree).
    MergeOverMapped,
    /// An existing VMA grown right over part (`middle` shrunk) or all
    /// (`middle` removed) of the VMA after it, with no empty space:
    /// `vma_merge_existing_range()` merging left.
    ExistingLeft,
    /// An existing VMA grown left over part or all of the VMA before it:
    /// `vma_merge_existing_range()` merging right.
    ExistingRight,
    /// An existing VMA grown right over the two whole VMAs after it:
    /// `vma_merge_existing_range()` merging both.
    ExistingBoth,
    /// A new VMA stored over one end of an existing one: `__split_vma()`.
    Split,
    /// A new VMA stored over whole existing VMAs (and maybe empty space):
    /// MAP_FIXED `mmap()` that merged with nothing.
    Replaced,
    /// A clear of one end of one VMA: `vma_shrink()`.
    Shrunk,
    /// A clear of whole VMAs (and maybe empty space):
    /// `do_vmi_align_munmap()`, `vms_abort_munmap_vmas()`, `dup_mmap()`.
    Removed,
    /// Any other clear.
    PartialClear,
    /// Any other store.
    Unknown,
}

/// A classified store: what it was and what it did to other VMAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreEffect {
    /// What the store was.
    pub kind: StoreKind,
    /// VMAs (other than the stored one) that left the tree.
    pub removed: u32,
    /// VMAs left smaller, not counting the VMA a split cuts.
    pub shrunk: u32,
}

impl StoreKind {
    /// The name `events` shows: the `stats` counter the store counts in.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Noop => "noop",
            StoreKind::NewVma => "new_merge_none",
            StoreKind::MergePrev => "new_merge_prev",
            StoreKind::MergeNext => "new_merge_next",
            StoreKind::MergeBoth => "new_merge_both",
            StoreKind::StackGrowth => "stack_growth",
            StoreKind::MergeOverMapped => "new_merge_over_mapped",
            StoreKind::ExistingLeft => "existing_merge_left",
            StoreKind::ExistingRight => "existing_merge_right",
            StoreKind::ExistingBoth => "existing_merge_both",
            StoreKind::Split => "split",
            StoreKind::Replaced => "replaced",
            StoreKind::Shrunk => "shrunk",
            StoreKind::Removed => "removed",
            StoreKind::PartialClear => "partial_clear",
            StoreKind::Unknown => "unknown",
        }
    }
}

impl StoreEffect {
    /// Tells stack growth from a merge with next, which one store's shape
    /// cannot: `flags` are the stored VMA's. A `VM_GROWSDOWN` VMA grown
    /// down over empty space is the stack growing (`expand_downwards()`),
    /// because a new range merges with a `VM_GROWSDOWN` VMA only if it has
    /// the flag too (`MAP_GROWSDOWN`), which no allocator asks for.
    pub fn stack_growth(self, flags: u64) -> Self {
        match self.kind {
            StoreKind::MergeNext if flags & flags::GROWSDOWN != 0 => StoreEffect {
                kind: StoreKind::StackGrowth,
                ..self
            },
            _ => self,
        }
    }

    /// Tells a new range merged over mappings it replaces from an
    /// existing-range merge, which one store's shape cannot: `mmap()`
    /// (MAP_FIXED over mappings), `mremap()` and `brk()` detach the VMAs
    /// they replace but leave them in the tree until the merged VMA is
    /// stored over them, so the store looks like a VMA grown over whole
    /// VMAs. Existing-range merges only happen in `vma_modify()`, which
    /// none of these calls.
    pub fn in_syscall(self, cause: Cause) -> Self {
        match (self.kind, cause) {
            (
                StoreKind::ExistingLeft | StoreKind::ExistingRight | StoreKind::ExistingBoth,
                Cause::Mmap | Cause::Mremap | Cause::Brk,
            ) => StoreEffect {
                kind: StoreKind::MergeOverMapped,
                ..self
            },
            _ => self,
        }
    }

    /// Whether the store merged VMAs or a new range into a VMA.
    pub fn is_merge(&self) -> bool {
        matches!(
            self.kind,
            StoreKind::MergePrev
                | StoreKind::MergeNext
                | StoreKind::MergeBoth
                | StoreKind::MergeOverMapped
                | StoreKind::ExistingLeft
                | StoreKind::ExistingRight
                | StoreKind::ExistingBoth
        )
    }

    fn of(kind: StoreKind) -> Self {
        StoreEffect {
            kind,
            removed: 0,
            shrunk: 0,
        }
    }
}

/// What a part of the stored range holds before the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Piece {
    /// Empty space.
    #[default]
    Gap,
    /// The stored VMA itself.
    Own,
    /// All of another VMA.
    Whole,
    /// Part of another VMA, which goes on to the left, the right or both.
    Partial { left: bool, right: bool },
}

/// How many pieces are kept for pattern matching: every 7.3 pattern has at
/// most three; counts cover the rest.
const PIECES: usize = 4;

/// A summary of the shadow under and around `[first, last]`.
#[derive(Default)]
struct Walk {
    pieces: [Piece; PIECES],
    n: usize,
    /// The stored VMA's range, where it overlaps `[first, last]`.
    own: Option<(usize, usize)>,
    /// The stored VMA is seen more than once or only beside the range.
    own_odd: bool,
    whole: u32,
    partial: u32,
    gaps: u32,
    /// The view broke its contract.
    bad: bool,
}

impl Walk {
    fn push(&mut self, p: Piece) {
        match p {
            Piece::Gap => self.gaps += 1,
            Piece::Whole => self.whole += 1,
            Piece::Partial { .. } => self.partial += 1,
            Piece::Own => {}
        }
        if let Some(slot) = self.pieces.get_mut(self.n) {
            *slot = p;
        }
        self.n = self.n.saturating_add(1);
    }

    /// The kept pieces, when all were kept.
    fn all(&self) -> Option<&[Piece]> {
        if self.n <= PIECES {
            self.pieces.get(..self.n)
        } else {
            None
        }
    }
}

fn walk(view: &impl ShadowView, first: usize, last: usize, id: Option<ObjectId>) -> Walk {
    let mut w = Walk::default();
    let lo = first.saturating_sub(1);
    let hi = last.saturating_add(1);
    // The next address of [first, last] not yet accounted for; None once
    // past the end of the address space.
    let mut pos = Some(first);
    let mut from = lo;
    while let Some((f, l, vma)) = view.find(from, hi) {
        if l < from || f > hi || l < f {
            w.bad = true;
            break;
        }
        let own = id == Some(vma);
        if l < first || f > last {
            // Beside the range: only the stored VMA matters there.
            if own {
                w.own_odd = true;
            }
        } else {
            if let Some(p) = pos {
                if f > p {
                    w.push(Piece::Gap);
                }
            }
            if own {
                if w.own.is_some() {
                    w.own_odd = true;
                }
                w.own = Some((f, l));
                w.push(Piece::Own);
            } else if f >= first && l <= last {
                w.push(Piece::Whole);
            } else {
                w.push(Piece::Partial {
                    left: f < first,
                    right: l > last,
                });
            }
            pos = l.checked_add(1);
        }
        match l.checked_add(1) {
            Some(next) if l < hi => from = next,
            _ => break,
        }
    }
    if let Some(p) = pos {
        if p <= last {
            w.push(Piece::Gap);
        }
    }
    w
}

/// Classifies a store of `vma` (or a clear, `None`) over the inclusive
/// range `[first, last]`, looking at `view` as it is before the store.
pub fn classify_store(
    view: &impl ShadowView,
    first: usize,
    last: usize,
    vma: Option<ObjectId>,
) -> StoreEffect {
    if first > last {
        return StoreEffect::of(match vma {
            Some(_) => StoreKind::Unknown,
            None => StoreKind::PartialClear,
        });
    }
    let w = walk(view, first, last, vma);
    match vma {
        None => classify_clear(&w),
        Some(_) => classify_vma_store(&w, first, last),
    }
}

fn classify_clear(w: &Walk) -> StoreEffect {
    if w.bad {
        return StoreEffect::of(StoreKind::PartialClear);
    }
    if w.whole == 0 && w.partial == 0 {
        return StoreEffect::of(StoreKind::Noop);
    }
    if w.partial == 0 {
        // do_vmi_align_munmap(): splits first, so only whole VMAs go.
        return StoreEffect {
            kind: StoreKind::Removed,
            removed: w.whole,
            shrunk: 0,
        };
    }
    // vma_shrink(): [end, vm_end) of one VMA, nothing else.
    if let Some([Piece::Partial { left, right }]) = w.all() {
        if left != right {
            return StoreEffect {
                kind: StoreKind::Shrunk,
                removed: 0,
                shrunk: 1,
            };
        }
    }
    StoreEffect {
        kind: StoreKind::PartialClear,
        removed: w.whole,
        shrunk: w.partial,
    }
}

fn classify_vma_store(w: &Walk, first: usize, last: usize) -> StoreEffect {
    use Piece::{Gap, Own, Partial, Whole};
    if w.bad || w.own_odd {
        return StoreEffect::of(StoreKind::Unknown);
    }
    let Some((xs, xe)) = w.own else {
        // A VMA not in the shadow here: a new one (7.3 never moves one).
        if w.whole == 0 && w.partial == 0 {
            return StoreEffect::of(StoreKind::NewVma);
        }
        if w.partial == 0 {
            return StoreEffect {
                kind: StoreKind::Replaced,
                removed: w.whole,
                shrunk: 0,
            };
        }
        // __split_vma(): the new part at one end of the old VMA.
        if let Some([Partial { left, right }]) = w.all() {
            if left != right {
                return StoreEffect::of(StoreKind::Split);
            }
        }
        return StoreEffect::of(StoreKind::Unknown);
    };
    if xs < first || xe > last {
        // Stored over less than it had: no 7.3 sequence.
        return StoreEffect::of(StoreKind::Unknown);
    }
    if xs == first && xe == last {
        return StoreEffect::of(StoreKind::Noop);
    }
    let effect = |kind, removed, shrunk| StoreEffect {
        kind,
        removed,
        shrunk,
    };
    // Over whole VMAs (and maybe gaps) in a shape vma_modify() never makes
    // (it merges at most the two VMAs next to the middle): a new range
    // merged over the mappings a MAP_FIXED mmap() detached.
    let over_mapped = |w: &Walk| {
        if w.partial == 0 {
            effect(StoreKind::MergeOverMapped, w.whole, 0)
        } else {
            StoreEffect::of(StoreKind::Unknown)
        }
    };
    if xs == first {
        // Grown right: commit_merge() with prev as the target.
        return match w.all() {
            Some([Own, Gap]) => effect(StoreKind::MergePrev, 0, 0),
            Some([Own, Gap, Whole]) => effect(StoreKind::MergeBoth, 1, 0),
            Some([Own, Whole]) => effect(StoreKind::ExistingLeft, 1, 0),
            Some(
                [Own, Partial {
                    left: false,
                    right: true,
                }],
            ) => effect(StoreKind::ExistingLeft, 0, 1),
            Some([Own, Whole, Whole]) => effect(StoreKind::ExistingBoth, 2, 0),
            _ => over_mapped(w),
        };
    }
    if xe == last {
        // Grown left: commit_merge() with next as the target.
        return match w.all() {
            Some([Gap, Own]) => effect(StoreKind::MergeNext, 0, 0),
            Some([Whole, Own]) => effect(StoreKind::ExistingRight, 1, 0),
            Some(
                [Partial {
                    left: true,
                    right: false,
                }, Own],
            ) => effect(StoreKind::ExistingRight, 0, 1),
            _ => over_mapped(w),
        };
    }
    // Grown at both ends: no 7.3 caller of vma_expand() does this.
    StoreEffect::of(StoreKind::Unknown)
}
