// SPDX-License-Identifier: GPL-2.0
/*
 * vmatrack's range tree and mirror engine (rust/core/, through
 * rust/wasm/), as wasm2c translated them for this build. The file
 * is generated outside the repository by scripts/build-module; this one
 * pulls it into Kbuild and bounds the stack it may use.
 */
#include <linux/sched/task_stack.h>
#include <linux/types.h>

#include "vt_core.h"

/*
 * Bytes a translated function must leave free below its own frame.
 *
 * wasm2c bounds recursion by call depth, which says nothing about bytes:
 * frames of the translated core reached 1.5 KiB at -O2 (620 bytes at the
 * -Os Kbuild asks for), the ColdFire kernel stack is 8 KiB, and nommu has no
 * guard page below it, so an overflow would corrupt memory silently. So
 * the depth limit is replaced by this bound, checked on entry to every
 * translated function: below it the core traps, and the glue unwinds to
 * the debugfs call that entered it (-EIO, the mirror off). What may follow
 * a check before the next one: the largest translated frame (620 bytes
 * in this build), or a call out of the core (linear memory growth:
 * kvzalloc() and the page allocator), or the trap's own path (pr_err(),
 * then vt_longjmp()); plus an interrupt taken on this stack.
 */
#define VT_STACK_RESERVE 2048

unsigned long vt_stack_least = ULONG_MAX;

/*
 * vt_stack_room_ok() - whether the caller may go on: at least
 * VT_STACK_RESERVE bytes between its frame and the end of the task's
 * stack. Notes the least room seen (the probes file shows it).
 */
static __always_inline bool vt_stack_room_ok(void)
{
	unsigned long sp = (unsigned long)__builtin_frame_address(0);
	unsigned long end = (unsigned long)(end_of_stack(current) + 1);
	unsigned long room = sp > end ? sp - end : 0;

	if (room < vt_stack_least)
		vt_stack_least = room;
	return room >= VT_STACK_RESERVE;
}

/* wasm2c's prologue is `if (++depth > LIMIT) TRAP(EXHAUSTION);`. */
#undef WASM_RT_MAX_CALL_STACK_DEPTH
#define WASM_RT_MAX_CALL_STACK_DEPTH (vt_stack_room_ok() ? UINT32_MAX : 0)

#include "vt_core_wasm.c"
