// SPDX-License-Identifier: GPL-2.0
/*
 * The wasm2c runtime for vmatrack's m68k module: what the translated core
 * (core.c) needs from its host, on kernel memory.
 *
 * Linear memory is one kvzalloc'd block, reallocated on memory.grow (the
 * translated code re-reads mem->data after every call that may grow it).
 * ColdFire is big-endian, and wasm2c (WABT_BIG_ENDIAN) then stores linear
 * memory byte-reversed: wasm address A is data[size - 1 - A]. Growing
 * keeps the old bytes at the top; the glue copies text in and out
 * through vt_mem_write()/vt_mem_read().
 * A trap (a Rust panic, an out-of-bounds access, too deep a call chain)
 * unwinds to the glue's vt_setjmp() through vt_trap(); the glue then stops
 * using the instance. Nothing here sleeps except allocation with
 * GFP_KERNEL, and every call comes from process context under the glue's
 * mutex.
 */
#include <linux/slab.h>
#include <linux/stdarg.h>
#include <linux/string.h>
#include <linux/math64.h>
#include <linux/mm.h>

#include "vt_core.h"

uint32_t wasm_rt_call_stack_depth;

static bool initialized;

void wasm_rt_init(void)
{
	initialized = true;
}

bool wasm_rt_is_initialized(void)
{
	return initialized;
}

void wasm_rt_free(void)
{
	initialized = false;
}

void wasm_rt_trap(wasm_rt_trap_t code)
{
	vt_trap((int)code);
}

/*
 * Function types for call_indirect checks: equal signatures must get the
 * same index, different ones different indices. The translated core has
 * a handful; a table of 64 is plenty, and running out traps at once.
 */
#define MAX_TYPES 64
#define MAX_TYPE_WORDS 16
static struct {
	u32 params, results;
	u8 types[MAX_TYPE_WORDS];
} func_types[MAX_TYPES];
static u32 nr_func_types;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...)
{
	u8 types[MAX_TYPE_WORDS] = {};
	va_list ap;
	u32 i;

	if (params + results > MAX_TYPE_WORDS)
		wasm_rt_trap(WASM_RT_TRAP_CALL_INDIRECT);
	va_start(ap, results);
	for (i = 0; i < params + results; i++)
		types[i] = (u8)va_arg(ap, int);
	va_end(ap);
	for (i = 0; i < nr_func_types; i++)
		if (func_types[i].params == params && func_types[i].results == results &&
		    !memcmp(func_types[i].types, types, sizeof(types)))
			return i + 1;
	if (nr_func_types == MAX_TYPES)
		wasm_rt_trap(WASM_RT_TRAP_CALL_INDIRECT);
	func_types[i].params = params;
	func_types[i].results = results;
	memcpy(func_types[i].types, types, sizeof(types));
	nr_func_types++;
	return i + 1;
}

#define WASM_PAGE 65536u

/*
 * wasm_rt_allocate_memory() - linear memory of @initial_pages (zeroed).
 *
 * It cannot fail in wasm2c's interface: on ENOMEM the memory is left with
 * no data and size 0, and the glue checks vt_memory_ok() after
 * instantiation.
 */
void wasm_rt_allocate_memory(wasm_rt_memory_t *mem, uint32_t initial_pages, uint32_t max_pages)
{
	mem->data = kvzalloc((size_t)initial_pages * WASM_PAGE, GFP_KERNEL);
	mem->pages = mem->data ? initial_pages : 0;
	mem->max_pages = max_pages;
	mem->size = mem->pages * WASM_PAGE;
}

/* memory.grow: a bigger zeroed block and a copy. Returns the old page count, or -1. */
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *mem, uint32_t delta)
{
	uint32_t old = mem->pages, pages = old + delta;
	u8 *data;

	if (pages < old || pages > mem->max_pages || pages > U32_MAX / WASM_PAGE)
		return (uint32_t)-1;
	if (!delta)
		return old;
	data = kvzalloc((size_t)pages * WASM_PAGE, GFP_KERNEL);
	if (!data)
		return (uint32_t)-1;
	/* Big-endian wasm2c keeps memory reversed: the old bytes go on top. */
	memcpy(data + (size_t)delta * WASM_PAGE, mem->data, mem->size);
	kvfree(mem->data);
	mem->data = data;
	mem->pages = pages;
	mem->size = pages * WASM_PAGE;
	return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *mem)
{
	kvfree(mem->data);
	mem->data = NULL;
	mem->pages = 0;
	mem->size = 0;
}

/* Tables: the core has one funcref table (fmt's vtables); same pattern as memory. */
void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *t, uint32_t elements, uint32_t max)
{
	t->data = kcalloc(elements ? elements : 1, sizeof(*t->data), GFP_KERNEL);
	t->size = t->data ? elements : 0;
	t->max_size = max;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *t)
{
	kfree(t->data);
	t->data = NULL;
	t->size = 0;
}

/* Copies @len bytes to wasm address @at (reversed storage, see above). */
void vt_mem_write(wasm_rt_memory_t *mem, u32 at, const void *src, u32 len)
{
	const u8 *s = src;
	u8 *d = mem->data + mem->size - 1 - at;
	u32 i;

	for (i = 0; i < len; i++)
		*(d - i) = s[i];
}

/* Copies @len bytes from wasm address @at. */
void vt_mem_read(wasm_rt_memory_t *mem, void *dst, u32 at, u32 len)
{
	const u8 *s = mem->data + mem->size - 1 - at;
	u8 *d = dst;
	u32 i;

	for (i = 0; i < len; i++)
		d[i] = *(s - i);
}

/*
 * 64-bit division: gcc lowers wasm's i64.div/rem to libgcc calls, which
 * the m68k kernel does not export; lib/math/div64.c does the work.
 * (Division by zero never reaches here: wasm2c traps first.)
 */
u64 __udivdi3(u64 a, u64 b);
u64 __umoddi3(u64 a, u64 b);
s64 __divdi3(s64 a, s64 b);
s64 __moddi3(s64 a, s64 b);

u64 __udivdi3(u64 a, u64 b)
{
	return div64_u64(a, b);
}

u64 __umoddi3(u64 a, u64 b)
{
	u64 rem;

	div64_u64_rem(a, b, &rem);
	return rem;
}

s64 __divdi3(s64 a, s64 b)
{
	return div64_s64(a, b);
}

s64 __moddi3(s64 a, s64 b)
{
	return a - div64_s64(a, b) * b;
}
