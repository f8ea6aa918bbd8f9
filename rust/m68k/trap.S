/* SPDX-License-Identifier: GPL-2.0 */
/*
 * setjmp/longjmp for unwinding a trap out of the wasm2c-translated core
 * (see vt_core.h). ColdFire: MOVEM takes only (An) addressing, so the
 * saved stack pointer is that of vt_setjmp's entry (pointing at its
 * return address); vt_longjmp drops that word and jumps back.
 */
#include <linux/linkage.h>

	.text
ENTRY(vt_setjmp)
	move.l	4(%sp), %a0
	movem.l	%d2-%d7/%a2-%a7, (%a0)
	move.l	(%sp), 48(%a0)
	clr.l	%d0
	rts
END(vt_setjmp)

ENTRY(vt_longjmp)
	move.l	4(%sp), %a0
	move.l	8(%sp), %d0
	movem.l	(%a0), %d2-%d7/%a2-%a7
	move.l	48(%a0), %a1
	addq.l	#4, %sp
	jmp	(%a1)
END(vt_longjmp)
