// SPDX-License-Identifier: GPL-2.0
//! vmatrack host benchmark (`make bench` -> scripts/bench -> here).
//!
//! All contestants run in this one process on identical inputs, interleaved
//! repetition by repetition so that noise from other work on the machine
//! spreads over all of them. Output: one `bench ...` line per workload, N
//! and mode (the format of the guest's `bench` file), then `#` lines: medians, bytes per range, checksum
//! problems and the allocation share of our writes.

mod count_alloc;
mod map;
mod ours;
mod peers;

use map::{Contestant, Rng};
use std::hint::black_box;
use std::time::Instant;

#[global_allocator]
static GLOBAL: count_alloc::Counting = count_alloc::Counting;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Workload {
    Load,
    Lookup,
    Overwrite,
    Erase,
    Iterate,
    EmptyArea,
    EmptyAreaRev,
    Dup,
}

use Workload::*;
const WORKLOADS: [Workload; 8] = [
    Load,
    Lookup,
    Overwrite,
    Erase,
    Iterate,
    EmptyArea,
    EmptyAreaRev,
    Dup,
];

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Load => "load",
            Lookup => "lookup",
            Overwrite => "overwrite",
            Erase => "erase",
            Iterate => "iterate",
            EmptyArea => "empty_area",
            EmptyAreaRev => "empty_area_rev",
            Dup => "dup",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Load => "ascending store of N ranges into an empty tree, ns per store",
            Lookup => "N random point lookups, half hits, ns per lookup",
            Overwrite => "N random stores inside existing ranges (splits), ns per store",
            Erase => "erase all N ranges in random order (by an index inside), ns per erase",
            Iterate => "one in-order walk over N ranges, ns per range",
            EmptyArea => "lowest fit of 1..8 pages in a random 64-page window, ns per query",
            EmptyAreaRev => "highest fit, same queries, ns per query",
            Dup => "clone the whole tree of N ranges, ns per range",
        }
    }
}

struct Inputs {
    n: usize,
    load: map::Stores,
    lookups: Vec<usize>,
    overwrites: map::Stores,
    erase: Vec<usize>,
    gaps: map::GapQueries,
}

impl Inputs {
    fn new(n: usize) -> Self {
        let mut rng = Rng::new(0x766d_6174_7261_636b ^ n as u64);
        Inputs {
            n,
            load: map::ascending(n),
            lookups: map::lookups(n, &mut rng),
            overwrites: map::overwrites(n, &mut rng),
            erase: map::erase_order(n, &mut rng),
            gaps: map::gap_queries(n, n.min(20_000), &mut rng),
        }
    }
}

/// One repetition: returns (elapsed ns, operations, checksum).
fn run_once(c: &Contestant, w: Workload, inp: &Inputs) -> Option<(f64, usize, (usize, usize))> {
    let mut m = (c.make)();
    if w != Load {
        m.store_many(&inp.load);
    }
    match w {
        Load => m.reserve(inp.n),
        Overwrite => m.reserve(inp.n + 2 * inp.overwrites.len()),
        Erase => m.reserve(inp.n),
        _ => {}
    }
    m.quiesce();
    let t0;
    let r = match w {
        Load => {
            t0 = Instant::now();
            m.store_many(black_box(&inp.load));
            let dt = t0.elapsed();
            (dt, inp.n, m.iter_sum())
        }
        Lookup => {
            t0 = Instant::now();
            let s = m.load_many(black_box(&inp.lookups));
            (t0.elapsed(), inp.lookups.len(), (s, 0))
        }
        Overwrite => {
            t0 = Instant::now();
            m.store_many(black_box(&inp.overwrites));
            let dt = t0.elapsed();
            (dt, inp.overwrites.len(), m.iter_sum())
        }
        Erase => {
            t0 = Instant::now();
            let s = m.erase_many(black_box(&inp.erase))?;
            let dt = t0.elapsed();
            (dt, inp.erase.len(), (s, m.iter_sum().0))
        }
        Iterate => {
            t0 = Instant::now();
            let s = m.iter_sum();
            (t0.elapsed(), inp.n, s)
        }
        EmptyArea | EmptyAreaRev => {
            t0 = Instant::now();
            let s = m.empty_area_many(w == EmptyAreaRev, black_box(&inp.gaps))?;
            (t0.elapsed(), inp.gaps.min.len(), s)
        }
        Dup => {
            t0 = Instant::now();
            let d = m.dup()?;
            let dt = t0.elapsed();
            let s = d.iter_sum();
            drop(d);
            (dt, inp.n, s)
        }
    };
    m.quiesce();
    drop(m);
    Some((r.0.as_nanos() as f64, r.1, r.2))
}

struct Stat {
    min: f64,
    median: f64,
}

fn stat(mut v: Vec<f64>) -> Stat {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Stat {
        min: v[0],
        median: v[v.len() / 2],
    }
}

struct Row {
    w: Workload,
    n: usize,
    mode: &'static str,
    /// (contestant, stat) for contestants that did the workload correctly.
    res: Vec<(&'static str, bool, bool, Stat)>,
}

fn main() {
    let mut quick = false;
    let mut reps = 7usize;
    let mut only: Option<String> = None;
    let mut only_n: Option<usize> = None;
    let mut who: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--reps" => reps = args.next().and_then(|s| s.parse().ok()).expect("--reps K"),
            "--only" => only = args.next(),
            "--who" => who = args.next(),
            "--n" => only_n = args.next().and_then(|s| s.parse().ok()),
            "--help" | "-h" => {
                println!("vmatrack-bench [--quick] [--reps K] [--only WORKLOAD] [--n N] [--who CONTESTANT] (--who/--only/--n are for profiling)");
                return;
            }
            _ => panic!("unknown argument {a} (try --help)"),
        }
    }
    if quick {
        reps = reps.min(5);
    }
    let (node, leaf, inner) = peers::maple_init();
    println!("# timings are wall-clock per batch; other processes on the machine (builds) make them noisy: compare min, not median");
    println!("# C maple tree peer: node {node} B, {leaf} slots per leaf, {inner} per allocation-range inner node");
    if (node, leaf) != (256, 16) {
        println!(
            "# WARNING: C maple tree peer has the wrong node layout (expected 256 B / 16 slots)"
        );
    }

    let mut contestants: Vec<Contestant> = ours::contestants();
    let have_ours = contestants.iter().any(|c| c.ours && !c.name.contains('+'));
    contestants.push(Contestant {
        name: "c-maple",
        rcu: false,
        ours: false,
        make: Box::new(|| Box::new(peers::CMaple::new(false))),
    });
    contestants.push(Contestant {
        name: "c-maple-rcu",
        rcu: true,
        ours: false,
        make: Box::new(|| Box::new(peers::CMaple::new(true))),
    });
    contestants.push(Contestant {
        name: "btreemap",
        rcu: false,
        ours: false,
        make: Box::new(|| Box::<peers::BTreeRanges>::default()),
    });
    contestants.push(Contestant {
        name: "rangemap",
        rcu: false,
        ours: false,
        make: Box::new(|| Box::<peers::RangeMapCrate>::default()),
    });
    contestants.push(Contestant {
        name: "nodit",
        rcu: false,
        ours: false,
        make: Box::new(|| Box::<peers::NoditCrate>::default()),
    });
    if let Some(w) = &who {
        contestants.retain(|c| c.name == w.as_str());
    }
    let reference = Contestant {
        name: "reference",
        rcu: false,
        ours: false,
        make: Box::new(|| Box::<peers::BTreeRanges>::default()),
    };
    if !have_ours {
        println!("# WARNING: our RangeTree is not wired in (core missing): ours_ns=0 below");
    }

    let ns_v: Vec<usize> = match only_n {
        Some(n) => vec![n],
        None if quick => vec![1_000],
        None => vec![1_000, 100_000],
    };
    let ns: &[usize] = &ns_v;
    let mut rows: Vec<Row> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for &n in ns {
        let inp = Inputs::new(n);
        let reps_n = if n <= 10_000 { reps * 3 } else { reps };
        for w in WORKLOADS {
            if only.as_deref().is_some_and(|o| o != w.name()) {
                continue;
            }
            eprintln!("[bench] {} N={n} ...", w.name());
            let want = run_once(&reference, w, &inp).map(|r| r.2);
            // Every contestant, all modes at once, interleaved per repetition.
            let mut times: Vec<Vec<f64>> = vec![Vec::new(); contestants.len()];
            let mut ok = vec![true; contestants.len()];
            for rep in 0..=reps_n {
                for (i, c) in contestants.iter().enumerate() {
                    if !ok[i] {
                        continue;
                    }
                    match run_once(c, w, &inp) {
                        None => ok[i] = false,
                        Some((ns_, ops, sum)) => {
                            if Some(sum) != want {
                                notes.push(format!(
                                    "# MISMATCH {} N={n} {}: checksum {:?}, reference {:?}: {} excluded",
                                    w.name(),
                                    c.name,
                                    sum,
                                    want,
                                    if c.ours { "NOT" } else { "peer" }
                                ));
                                if !c.ours {
                                    ok[i] = false;
                                }
                            }
                            if rep > 0 {
                                times[i].push(ns_ / ops as f64);
                            }
                        }
                    }
                }
            }
            for mode in ["plain", "rcu"] {
                let mut res = Vec::new();
                for (i, c) in contestants.iter().enumerate() {
                    if !ok[i] || times[i].is_empty() || (c.rcu != (mode == "rcu")) {
                        continue;
                    }
                    res.push((
                        c.name,
                        c.ours,
                        c.name.contains('+'),
                        stat(std::mem::take(&mut times[i])),
                    ));
                }
                rows.push(Row { w, n, mode, res });
            }
        }
    }

    for r in &rows {
        let ours = r.res.iter().find(|x| x.1 && !x.2);
        let best = r
            .res
            .iter()
            .filter(|x| !x.1)
            .min_by(|a, b| a.3.min.partial_cmp(&b.3.min).unwrap());
        let x = ours.map_or(0.0, |o| o.3.min);
        match best {
            Some(b) => println!(
                "bench {} N={} mode={} ours_ns={:.1} best_peer={} best_peer_ns={:.1} ratio={:.2}",
                r.w.name(),
                r.n,
                r.mode,
                x,
                b.0,
                b.3.min,
                if x > 0.0 { b.3.min / x } else { 0.0 }
            ),
            None => println!(
                "bench {} N={} mode={} ours_ns={:.1} best_peer=none best_peer_ns=0 ratio=0",
                r.w.name(),
                r.n,
                r.mode,
                x
            ),
        }
    }

    println!("#");
    println!("# ns/op, min / median over {reps} repetitions (x3 for N<=10000); ratio = peer / ours (min)");
    for w in WORKLOADS {
        println!("# {:<15} {}", w.name(), w.what());
    }
    for r in &rows {
        let mut line = format!("# {:<15} N={:<6} {:<5}", r.w.name(), r.n, r.mode);
        for (name, _, _, s) in &r.res {
            line += &format!("  {name}={:.1}/{:.1}", s.min, s.median);
        }
        println!("{line}");
    }
    for n in notes.iter().collect::<std::collections::BTreeSet<_>>() {
        println!("{n}");
    }

    alloc_share(&rows);
    memory_table(&contestants, ns);
}

/// Share of our write time that is node allocation: the same workloads with
/// the tree's node pool filled beforehand (untimed) against the platform
/// allocator (std malloc on the host; the C harness's kmem_cache is
/// posix_memalign per node, so both sides pay malloc in the main numbers).
fn alloc_share(rows: &[Row]) {
    println!("#");
    println!("# allocation share of our writes: ours (allocating) vs ours+pool (pool filled before the timed part), min ns/op");
    let mut any = false;
    for r in rows
        .iter()
        .filter(|r| matches!(r.w, Load | Overwrite | Erase))
    {
        let get = |name: &str| r.res.iter().find(|x| x.0 == name).map(|x| x.3.min);
        let (a, p) = match r.mode {
            "plain" => (get("ours"), get("ours+pool")),
            _ => (get("ours-rcu"), get("ours-rcu+pool")),
        };
        if let (Some(a), Some(p)) = (a, p) {
            any = true;
            println!(
                "# alloc {:<10} N={:<6} {:<5} allocating={:.1} pool-filled={:.1} alloc share={:.0}%",
                r.w.name(),
                r.n,
                r.mode,
                a,
                p,
                100.0 * (a - p) / a
            );
        }
    }
    if !any {
        println!("# (no numbers: our tree is not wired in)");
    } else {
        println!("# plain mode: freed nodes go back to the tree's pool, so only growth allocates. rcu mode: the pool is");
        println!("# filled up front with ops x path-length cold nodes; at large N that loses to malloc's hot recycled");
        println!("# nodes, so a negative share there means 'not measurable this way', not 'allocation is free'.");
    }
    println!("# C peer: every store goes through the tools/testing kmem_cache shim (calloc'd sheaf plus one");
    println!("# posix_memalign/free per node), which the kernel's slab does not pay: the C write numbers");
    println!("# (load, overwrite, erase, dup) overstate our advantage; its lookups/gap searches are not affected.");
}

/// Bytes per range after the ascending load and after the overwrites:
/// the structure's own count where it has one (ours: bytes_used; C maple:
/// reachable nodes x 256) and the heap bytes the counting allocator saw
/// (every Rust contestant, ours included).
fn memory_table(contestants: &[Contestant], ns: &[usize]) {
    println!("#");
    println!("# bytes per range: self-reported (ours: bytes_used; C: reachable nodes x 256) / heap-measured by the counting allocator (- = cannot tell; 0.0 = not Rust heap); after ascending load | after N overwrites");
    for &n in ns {
        let inp = Inputs::new(n);
        for c in contestants {
            let (m, heap) = count_alloc::measure(|| {
                let mut m = (c.make)();
                m.store_many(&inp.load);
                m.quiesce();
                m
            });
            let len1 = m.iter_sum().0 as f64;
            let self1 = m.self_bytes();
            drop(m);
            let (m, heap2) = count_alloc::measure(|| {
                let mut m = (c.make)();
                m.store_many(&inp.load);
                m.store_many(&inp.overwrites);
                m.quiesce();
                m
            });
            let len2 = m.iter_sum().0 as f64;
            let self2 = m.self_bytes();
            drop(m);
            let f = |b: Option<usize>, l: f64| {
                b.map_or("-".to_string(), |b| format!("{:.1}", b as f64 / l))
            };
            // RCU contestants free after a grace period: frees of earlier
            // work land in the window, so their heap count means nothing.
            let h = |b: isize, l: f64| {
                if b > 0 && !c.rcu {
                    format!("{:.1}", b as f64 / l)
                } else {
                    "-".to_string()
                }
            };
            println!(
                "# bytes N={:<6} {:<16} {:>7} / {:>7} | {:>7} / {:>7}  ({} ranges after overwrites)",
                n,
                c.name,
                f(self1, len1),
                h(heap, len1),
                f(self2, len2),
                h(heap2, len2),
                len2
            );
        }
    }
}
