/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <assert.h> for wasm2c's output and wasm-rt.h inside the m68k module: the
 * kernel has no libc, so these map what wasm2c uses onto kernel headers
 * and compiler builtins. Nothing else includes them.
 */
#include <linux/bug.h>
/* wasm2c asserts only that the runtime was initialised. */
#define assert(x) WARN_ON_ONCE(!(x))
