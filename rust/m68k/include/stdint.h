/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <stdint.h> for wasm2c's output and wasm-rt.h inside the m68k module: the
 * kernel has no libc, so these map what wasm2c uses onto kernel headers
 * and compiler builtins. Nothing else includes them.
 */
#include <linux/types.h>
/*
 * gcc's own values, which are right in #if too: the kernel's UINTPTR_MAX
 * is ULONG_MAX, which #if evaluates as 64-bit, and wasm-rt.h would take
 * this for a 64-bit machine.
 */
#undef UINTPTR_MAX
#define UINTPTR_MAX __UINTPTR_MAX__
#define UINT32_MAX __UINT32_MAX__
#define UINT64_MAX __UINT64_MAX__
#define INT32_MIN (-__INT32_MAX__ - 1)
#define INT64_MIN (-__INT64_MAX__ - 1)
