/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <setjmp.h> for wasm2c's output and wasm-rt.h inside the m68k module: the
 * kernel has no libc, so these map what wasm2c uses onto kernel headers
 * and compiler builtins. Nothing else includes them.
 */
/* Only the type: wasm-rt.h names it for exception handling, which the
 * module does not use. Traps unwind through vt_setjmp (rust/m68k/trap.S). */
typedef unsigned long jmp_buf[16];
