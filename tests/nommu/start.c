// SPDX-License-Identifier: GPL-2.0
/*
 * Process start for the nommu guests' freestanding programs: _start,
 * self-relocation, and the memory functions the compiler may call.
 *
 * The FDPIC ELF loader maps a static-pie at any address (one constant
 * displacement for all segments) and applies no relocations, so _start
 * applies the program's R_RISCV_RELATIVE / R_68K_RELATIVE relocations
 * itself before main.
 * Everything here is reached PC-relatively and runs before relocation.
 */
#include "nommu.h"

#define DT_NULL 0
#define DT_RELA 7
#define DT_RELASZ 8
#define DT_RELAENT 9
#if defined(__riscv)
#define R_RELATIVE 3 /* R_RISCV_RELATIVE */
#define R_TYPE(info) ((info) & 0xffffffff)
#else
#define R_RELATIVE 22 /* R_68K_RELATIVE */
#define R_TYPE(info) ((info) & 0xff)
#endif

struct dyn {
	long tag;
	unsigned long val;
};
struct rela {
	unsigned long off, info;
	long addend;
};

extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern struct dyn _DYNAMIC[] __attribute__((visibility("hidden")));

int main(int argc, char **argv, char **envp);

static void relocate(void)
{
	unsigned long base = (unsigned long)__ehdr_start, rela = 0, sz = 0, ent = sizeof(struct rela);

	for (struct dyn *d = _DYNAMIC; d->tag != DT_NULL; d++) {
		if (d->tag == DT_RELA)
			rela = d->val;
		else if (d->tag == DT_RELASZ)
			sz = d->val;
		else if (d->tag == DT_RELAENT)
			ent = d->val;
	}
	for (unsigned long o = 0; rela && o < sz; o += ent) {
		struct rela *r = (struct rela *)(base + rela + o);

		if (R_TYPE(r->info) == R_RELATIVE)
			*(unsigned long *)(base + r->off) = base + r->addend;
	}
}

__attribute__((used)) void start_c(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);

	relocate();
	sys_exit(main(argc, argv, argv + argc + 1));
}

#if defined(__riscv)
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	.option push\n"
	"	.option norelax\n"
	"	mv a0, sp\n"
	"	andi sp, sp, -16\n"
	"	call start_c\n"
	"	.option pop\n");
#else
/* ColdFire: arguments on the stack; the call is PC-relative. */
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	move.l %sp, %d0\n"
	"	move.l %d0, -(%sp)\n"
	"	lea start_c(%pc), %a0\n"
	"	jsr (%a0)\n");
#endif

void *memset(void *d, int c, size_t n)
{
	volatile unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	volatile unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	volatile unsigned char *p = d;
	const unsigned char *q = s;

	if (p < q) {
		while (n--)
			*p++ = *q++;
	} else {
		while (n--)
			p[n] = q[n];
	}
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}
