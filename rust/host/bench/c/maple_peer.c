// SPDX-License-Identifier: GPL-2.0
/*
 * vmatrack bench peer: the kernel's C maple tree (lib/maple_tree.c) built in
 * userspace on the tools/testing harness, behind a small extern "C" API the
 * Rust benchmark calls.
 *
 * Built by scripts/bench into $VMATRACK_CACHE/bench/maple (never committed
 * kernel code: lib/maple_tree.c is #included from the extracted source). Like
 * tools/testing/shared/maple-shim.c, but without CONFIG_DEBUG_MAPLE_TREE (the
 * harness's maple-shared.h turns it on) and at -O2 without sanitizers.
 * Must be compiled with `-include generated/bit-length.h` (CONFIG_64BIT):
 * without it the file gets the 32-bit node layout.
 *
 * Operations work on batches so the Rust side can time one call per
 * repetition. Writers take the tree lock once per batch (the kernel's VMA
 * tree also runs many stores under one mmap write lock); readers use
 * rcu_read_lock as the kernel's lockless lookups do.
 */
#ifndef CONFIG_64BIT
#error "compile with -include generated/bit-length.h (CONFIG_64BIT)"
#endif
#define CONFIG_MAPLE_SEARCH
#define MAPLE_32BIT (MAPLE_NODE_SLOTS > 31)
#include "shared.h"
#include <stdlib.h>
#include <time.h>
#include "linux/init.h"

void maple_rcu_cb(struct rcu_head *head);
#define rcu_cb maple_rcu_cb
#define kfree_rcu(_struct, _memb)                               \
	do {                                                    \
		typeof(_struct) _p_struct = (_struct);          \
		call_rcu(&((_p_struct)->_memb), rcu_cb);        \
	} while (0);

#include <linux/slab.h>
#include "maple_tree.c" /* -I$KSRC/lib */

#ifdef CONFIG_DEBUG_MAPLE_TREE
#error "the peer must be built without CONFIG_DEBUG_MAPLE_TREE"
#endif

void maple_rcu_cb(struct rcu_head *head)
{
	struct maple_node *node = container_of(head, struct maple_node, rcu);

	kmem_cache_free(maple_node_cache, node);
}

unsigned long kmem_cache_nr_allocated(struct kmem_cache *cachep); /* linux.c */

/* Values are stored as xarray value entries (v << 1 | 1): never NULL and
 * never an internal entry. */
#define MKV(v) xa_mk_value(v)

int mp_init(void)
{
	static int done;

	if (!done) {
		rcu_register_thread();
		maple_tree_init();
		done = 1;
	}
	return (int)sizeof(struct maple_node);
}

/* Which layout got compiled: slots in a leaf (range64) and in an allocation
 * inner node (arange64). 16 and 10 on 64-bit. */
int mp_layout(int inner)
{
	return inner ? MAPLE_ARANGE64_SLOTS : MAPLE_RANGE64_SLOTS;
}

struct maple_tree *mp_new(int rcu)
{
	struct maple_tree *mt = calloc(1, sizeof(*mt));

	mt_init_flags(mt, MT_FLAGS_ALLOC_RANGE | (rcu ? MT_FLAGS_USE_RCU : 0));
	return mt;
}

void mp_destroy(struct maple_tree *mt)
{
	mtree_destroy(mt);
	free(mt);
}

/* Drain call_rcu callbacks (RCU mode frees nodes through them). */
void mp_barrier(void)
{
	rcu_barrier();
}

/* Nodes allocated from the node cache so far, as the harness counts them
 * (its sheaf path does not keep this exact; mp_tree_nodes is exact). */
unsigned long mp_nodes(void)
{
	return kmem_cache_nr_allocated(maple_node_cache);
}

static unsigned long count_nodes(struct maple_enode *enode, unsigned long max)
{
	struct maple_node *node = mte_to_node(enode);
	enum maple_type type = mte_node_type(enode);
	unsigned long *pivots, n = 1;
	void __rcu **slots;
	unsigned char end;

	if (ma_is_leaf(type))
		return 1;
	pivots = ma_pivots(node, type);
	slots = ma_slots(node, type);
	end = ma_data_end(node, type, pivots, max);
	for (unsigned char i = 0; i <= end; i++) {
		unsigned long cmax = i < end ? pivots[i] : max;

		n += count_nodes(rcu_dereference(slots[i]), cmax);
	}
	return n;
}

/* Nodes reachable from the root (each sizeof(struct maple_node) = 256
 * bytes in a slab of that size). Call with no writer running. */
unsigned long mp_tree_nodes(struct maple_tree *mt)
{
	void *root = rcu_dereference(mt->ma_root);

	if (!xa_is_node(root))
		return 0;
	return count_nodes(root, ULONG_MAX);
}

/* vals[i] == 0 stores NULL (erases the range). Returns 0 or -errno. */
int mp_store_many(struct maple_tree *mt, const unsigned long *first,
		  const unsigned long *last, const unsigned long *vals,
		  size_t n)
{
	int ret = 0;

	mtree_lock(mt);
	for (size_t i = 0; i < n; i++) {
		MA_STATE(mas, mt, first[i], last[i]);

		ret = mas_store_gfp(&mas, vals[i] ? MKV(vals[i]) : NULL,
				    GFP_KERNEL);
		if (ret)
			break;
	}
	mtree_unlock(mt);
	return ret;
}

/* Erase the range containing each index; returns the sum of erased values. */
unsigned long mp_erase_many(struct maple_tree *mt, const unsigned long *idx,
			    size_t n)
{
	unsigned long sum = 0;

	mtree_lock(mt);
	for (size_t i = 0; i < n; i++) {
		MA_STATE(mas, mt, idx[i], idx[i]);
		void *e = mas_erase(&mas);

		if (e)
			sum += xa_to_value(e);
	}
	mtree_unlock(mt);
	return sum;
}

/* mtree_load for each index; returns the sum of the values found. */
unsigned long mp_load_many(struct maple_tree *mt, const unsigned long *idx,
			   size_t n)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < n; i++) {
		void *e = mtree_load(mt, idx[i]);

		if (e)
			sum += xa_to_value(e);
	}
	return sum;
}

/* Walk every entry; returns a checksum, *count the number of entries. */
unsigned long mp_iter(struct maple_tree *mt, size_t *count)
{
	unsigned long sum = 0;
	size_t c = 0;
	void *e;
	MA_STATE(mas, mt, 0, 0);

	rcu_read_lock();
	mas_for_each(&mas, e, ULONG_MAX) {
		sum += (mas.index ^ mas.last) + xa_to_value(e);
		c++;
	}
	rcu_read_unlock();
	*count = c;
	return sum;
}

/* mas_empty_area(_rev) per query; returns sum of (start + 1) over found
 * gaps, *found the number found. */
unsigned long mp_empty_area_many(struct maple_tree *mt, int rev,
				 const unsigned long *min,
				 const unsigned long *max,
				 const unsigned long *size, size_t n,
				 size_t *found)
{
	unsigned long sum = 0;
	size_t f = 0;

	rcu_read_lock();
	for (size_t i = 0; i < n; i++) {
		MA_STATE(mas, mt, 0, 0);
		int r = rev ? mas_empty_area_rev(&mas, min[i], max[i], size[i])
			    : mas_empty_area(&mas, min[i], max[i], size[i]);

		if (!r) {
			sum += mas.index + 1;
			f++;
		}
	}
	rcu_read_unlock();
	*found = f;
	return sum;
}

/* A copy of the whole tree (mtree_dup: the fork path). NULL on failure. */
struct maple_tree *mp_dup(struct maple_tree *mt)
{
	struct maple_tree *new = calloc(1, sizeof(*new));

	mt_init_flags(new, mt->ma_flags & ~MT_FLAGS_HEIGHT_MASK);
	if (mtree_dup(mt, new, GFP_KERNEL)) {
		free(new);
		return NULL;
	}
	return new;
}
