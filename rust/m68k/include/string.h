/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <string.h> for wasm2c's output and wasm-rt.h inside the m68k module: the
 * kernel has no libc, so these map what wasm2c uses onto kernel headers
 * and compiler builtins. Nothing else includes them.
 */
#include <linux/string.h>
