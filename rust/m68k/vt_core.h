/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between the m68k module's C glue (glue.c), its wasm2c runtime
 * (wasm_rt.c) and trap unwinding (trap.S).
 */
#ifndef VMATRACK_VT_CORE_H
#define VMATRACK_VT_CORE_H

#include <linux/compiler.h>
#include <linux/types.h>

/* wabt's header defines static consts that not every file uses (W=1). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-const-variable"
#include "wasm-rt.h"
#pragma GCC diagnostic pop

/* Registers d2-d7/a2-a7 and the return address: 13 words. */
typedef unsigned long vt_jmp_buf[13];

/*
 * vt_setjmp() - remember this frame: returns 0, and again 1 when a trap
 * unwinds to it through vt_longjmp(). Only for calls into the core.
 */
int vt_setjmp(vt_jmp_buf buf) __attribute__((returns_twice));
void __noreturn vt_longjmp(vt_jmp_buf buf, int val);

/*
 * The least stack left below a translated function's frame on its entry,
 * in bytes, since load (core.c bounds it).
 */
extern unsigned long vt_stack_least;

/* vt_trap() - the core trapped (@code: a wasm_rt_trap_t); does not return. */
void __noreturn vt_trap(int code);

/*
 * vt_mem_write(), vt_mem_read() - bytes into and out of linear memory at
 * wasm address @at; the caller checked @at + @len against mem->size.
 */
void vt_mem_write(wasm_rt_memory_t *mem, u32 at, const void *src, u32 len);
void vt_mem_read(wasm_rt_memory_t *mem, void *dst, u32 at, u32 len);

#endif /* VMATRACK_VT_CORE_H */
