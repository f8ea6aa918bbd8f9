// SPDX-License-Identifier: GPL-2.0
//! Links the C maple tree peer that scripts/bench builds into the cache.

fn main() {
    println!("cargo:rerun-if-env-changed=VMATRACK_MAPLE_LIB");
    let dir = std::env::var("VMATRACK_MAPLE_LIB").unwrap_or_else(|_| {
        let home = std::env::var("HOME").expect("HOME");
        let cache = std::env::var("VMATRACK_CACHE").unwrap_or(format!("{home}/.cache/vmatrack"));
        format!("{cache}/bench/maple")
    });
    let lib = format!("{dir}/libmaplepeer.a");
    if !std::path::Path::new(&lib).exists() {
        panic!("{lib} missing: run scripts/bench (it builds the C maple tree peer first)");
    }
    println!("cargo:rerun-if-changed={lib}");
    println!("cargo:rustc-link-search=native={dir}");
    println!("cargo:rustc-link-lib=static=maplepeer");
    println!("cargo:rustc-link-lib=dylib=urcu");
    println!("cargo:rustc-link-lib=dylib=pthread");
}
