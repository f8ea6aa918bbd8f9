//! Stack depth of writes, measured by painting: a thread paints a region of
//! its stack below the current frame, runs writes from that same frame, and
//! finds the lowest byte the writes changed. Prints the worst case per
//! height (run with `--nocapture`); asserts a generous ceiling so that a
//! regression to deep recursion shows up.

use std::alloc::Layout;
use std::cell::RefCell;
use std::hint::black_box;
use std::ptr::NonNull;

use vmatrack_testkit::rangetree::{Gfp, Platform, RangeTree, RcuHead};

/// A single-threaded platform whose calls use little stack of their own, so
/// that what is measured is the tree's: deferred frees are queued in a
/// vector with room reserved and carried out by [`Lean::flush`] (there are
/// no concurrent readers in this test).
#[derive(Clone, Default)]
struct Lean;

thread_local! {
    static QUEUE: RefCell<Vec<(usize, Layout)>> = RefCell::new(Vec::with_capacity(1 << 16));
}

impl Lean {
    fn flush() {
        QUEUE.with(|q| {
            for (p, l) in q.borrow_mut().drain(..) {
                // SAFETY: Queued by `free_after_grace_period`, from `alloc`
                // with this layout; no reader exists in this test.
                unsafe { std::alloc::dealloc(p as *mut u8, l) };
            }
        });
    }
}

// SAFETY: std memory of the layout; frees with the same layout; the deferred
// free waits for `flush`, called only when no reader exists; `read_lock` is
// never used across threads (the platform is used by one thread).
unsafe impl Platform for Lean {
    type ReadGuard = ();

    fn read_lock(&self) {}

    fn alloc(&self, layout: Layout, gfp: Gfp) -> Option<NonNull<u8>> {
        if gfp == Gfp::PoolOnly {
            return None;
        }
        // SAFETY: Node layouts are not zero-sized.
        NonNull::new(unsafe { std::alloc::alloc(layout) })
    }

    unsafe fn free(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: The caller's contract.
        unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) }
    }

    unsafe fn free_after_grace_period(
        &self,
        ptr: NonNull<u8>,
        layout: Layout,
        _head: NonNull<RcuHead>,
    ) {
        QUEUE.with(|q| q.borrow_mut().push((ptr.as_ptr() as usize, layout)));
    }
}

const PAINT: usize = 128 * 1024;
const BYTE: u8 = 0xa5;

/// Paints `PAINT` bytes below the caller's frame; returns the lowest address.
#[inline(never)]
fn paint() -> usize {
    let mut buf = [0u8; PAINT];
    for b in buf.iter_mut() {
        // SAFETY: `b` is a valid, exclusive reference.
        unsafe { std::ptr::write_volatile(b, BYTE) };
    }
    black_box(&buf);
    buf.as_ptr() as usize
}

/// The deepest byte below `top` changed since painting `[low, top)`.
#[inline(never)]
fn used(low: usize, top: usize) -> usize {
    let mut a = low;
    while a < top {
        // SAFETY: The bytes are this thread's stack, mapped, below the
        // current frame (nothing live there), read as plain bytes.
        if unsafe { std::ptr::read_volatile(a as *const u8) } != BYTE {
            break;
        }
        a += 1;
    }
    top - a
}

/// Runs `f` and returns how many stack bytes below this frame it used.
#[inline(never)]
fn measure(f: &mut dyn FnMut()) -> usize {
    let marker = 0u8;
    let top = std::ptr::from_ref::<u8>(black_box(&marker)) as usize;
    let low = paint();
    f();
    used(low, top)
}

type T = RangeTree<u64, Lean>;

/// Worst store/erase stack over a mix of writes on a tree of `n` entries.
fn worst(n: usize, rcu: bool) -> (usize, usize, usize) {
    let mut t = T::new(Lean);
    for i in 0..n {
        t.store(i * 4, i * 4 + 1, Some(i as u64), Gfp::Kernel)
            .unwrap();
    }
    let h = t.height();
    let rt = rcu.then(|| t.dup(Gfp::Kernel).unwrap().into_rcu());
    let mut st = 0;
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for k in 0..400u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = (x % (n as u64 * 4)) as usize;
        let len = match k % 4 {
            0 => 0,
            1 => (x >> 40) as usize % 64,
            2 => (x >> 40) as usize % (n * 2),
            _ => 1,
        };
        let v = (k % 3 != 0).then_some(k);
        // Pool filled beforehand and `PoolOnly`: no allocator in the measure.
        let u = match &rt {
            None => {
                let need = t.worst_case_nodes_per_store();
                t.fill_pool(need, Gfp::Kernel).unwrap();
                measure(&mut || {
                    if k % 5 == 0 {
                        let _ = t.erase(f, Gfp::PoolOnly);
                    } else {
                        t.store(f, f + len, v, Gfp::PoolOnly).unwrap();
                    }
                })
            }
            Some(rt) => {
                let mut w = rt.try_write().unwrap();
                let need = w.worst_case_nodes_per_store();
                w.fill_pool(need, Gfp::Kernel).unwrap();
                measure(&mut || {
                    if k % 5 == 0 {
                        let _ = w.erase(f, Gfp::PoolOnly);
                    } else {
                        w.store(f, f + len, v, Gfp::PoolOnly).unwrap();
                    }
                })
            }
        };
        Lean::flush();
        st = st.max(u);
        if k % 50 == 49 {
            // Refill so the tree keeps its height.
            for i in 0..n {
                match &rt {
                    None => t.store(i * 4, i * 4 + 1, Some(i as u64), Gfp::Kernel),
                    Some(rt) => {
                        rt.try_write()
                            .unwrap()
                            .store(i * 4, i * 4 + 1, Some(i as u64), Gfp::Kernel)
                    }
                }
                .unwrap();
            }
        }
    }
    (h, st, n)
}

#[test]
fn write_stack_depth() {
    let handle = std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(|| {
            let mut rows = Vec::new();
            for rcu in [false, true] {
                for n in [10, 100, 1000, 10_000, 100_000] {
                    rows.push((rcu, worst(n, rcu)));
                }
            }
            rows
        })
        .unwrap();
    let rows = handle.join().unwrap();
    for (rcu, (h, st, n)) in &rows {
        println!("stack: rcu={rcu} n={n} height={h} worst write stack={st} bytes");
        // Measured 2.8 KB at height 1 to 4.2 KB at height 5 (host, release,
        // including about 0.5 KB of this test's closure).
        assert!(*st < 2560 + 640 * h, "write stack {st} bytes at height {h}");
    }
}
