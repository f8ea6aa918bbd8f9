// SPDX-License-Identifier: GPL-2.0
/*
 * vmatrack's range tree and mirror engine (rust/rangetree/, rust/engine/,
 * through rust/wasm/), as wasm2c translated them for this build. The file
 * is generated outside the repository by scripts/build-module; this one
 * only pulls it into Kbuild.
 */
#include <linux/types.h>
#include "vt_core_wasm.c"
