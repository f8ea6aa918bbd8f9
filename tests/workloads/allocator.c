// SPDX-License-Identifier: GPL-2.0
/*
 * allocator: the mapping pattern of a memory allocator's large blocks.
 *
 * usage: allocator [-s SEED] [-n OPS] [-b BLOCKS] [-d SECONDS] [-z SECONDS]
 *
 * Large allocations in malloc implementations are their own anonymous
 * mappings: mmap to allocate, mremap (MREMAP_MAYMOVE) to realloc, munmap to
 * free, madvise(MADV_DONTNEED) to give memory back, and a PROT_NONE guard
 * page at the end of some blocks. Blocks are touched after every change, so
 * they have anon_vmas and page offsets of their own: a block that mremap
 * moved next to another one no longer merges with it (seed 003, "anon_vma"
 * and "anon_pgoff"), which is what this workload is for.
 *
 * The same SEED gives the same sequence of operations. -d waits SECONDS
 * before the first operation, -z sleeps SECONDS before exiting (so the
 * process can be inspected). Prints one summary line: counts per operation
 * and the VMA count at the end.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "util.h"

#define MAX_BLOCKS 256

struct block {
	char *p;
	size_t pages;	/* usable pages, the guard page not included */
	int guarded;	/* the last page past @pages is PROT_NONE */
};

static long page;

/* Touch every page of @b (as the program using the memory would). */
static void touch(struct block *b)
{
	for (size_t i = 0; i < b->pages; i++)
		b->p[i * page] = (char)i;
}

static size_t mapped_pages(const struct block *b)
{
	return b->pages + (b->guarded ? 1 : 0);
}

int main(int argc, char **argv)
{
	unsigned long seed = 1, ops = 5000, nblocks = 64;
	unsigned long n_alloc = 0, n_free = 0, n_grow = 0, n_shrink = 0,
		      n_moved = 0, n_advise = 0, n_guard = 0, n_fail = 0;
	unsigned int delay = 0, linger = 0;
	struct block blocks[MAX_BLOCKS];
	int opt;

	page = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "s:n:b:d:z:")) != -1) {
		switch (opt) {
		case 's': seed = strtoul(optarg, NULL, 0); break;
		case 'n': ops = strtoul(optarg, NULL, 0); break;
		case 'b': nblocks = strtoul(optarg, NULL, 0); break;
		case 'd': delay = strtoul(optarg, NULL, 0); break;
		case 'z': linger = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n OPS] [-b BLOCKS] [-d SECONDS] [-z SECONDS]\n",
				argv[0]);
			return 2;
		}
	}
	if (nblocks == 0 || nblocks > MAX_BLOCKS) {
		fprintf(stderr, "allocator: -b must be 1..%d\n", MAX_BLOCKS);
		return 2;
	}
	rng_state = seed ? seed : 1;
	memset(blocks, 0, sizeof(blocks));
	sleep(delay);

	for (unsigned long op = 0; op < ops; op++) {
		struct block *b = &blocks[rng_below(nblocks)];
		unsigned long r = rng_below(100);

		if (!b->p) {
			/* malloc() of a large block: 1..16 pages. */
			b->pages = 1 + rng_below(16);
			b->guarded = 0;
			b->p = mmap(NULL, b->pages * page, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (b->p == MAP_FAILED) {
				b->p = NULL;
				n_fail++;
				continue;
			}
			touch(b);
			n_alloc++;
		} else if (r < 20) {
			/* free() */
			if (munmap(b->p, mapped_pages(b) * page))
				n_fail++;
			b->p = NULL;
			n_free++;
		} else if (r < 55) {
			/* realloc() to a larger size: in place if the kernel can, moved if not. */
			size_t more = b->pages + 1 + rng_below(8);
			char *q;

			if (b->guarded) {
				/* The guard goes: it is re-made at the new end below. */
				if (munmap(b->p + b->pages * page, page))
					n_fail++;
				b->guarded = 0;
			}
			q = mremap(b->p, b->pages * page, more * page, MREMAP_MAYMOVE);
			if (q == MAP_FAILED) {
				n_fail++;
				continue;
			}
			n_moved += q != b->p;
			b->p = q;
			b->pages = more;
			touch(b);
			n_grow++;
		} else if (r < 70 && b->pages > 1 && !b->guarded) {
			/* realloc() to a smaller size: shrinks in place. */
			size_t less = 1 + rng_below(b->pages - 1);

			if (mremap(b->p, b->pages * page, less * page, 0) == MAP_FAILED) {
				n_fail++;
				continue;
			}
			b->pages = less;
			n_shrink++;
		} else if (r < 85) {
			/* Give the memory back but keep the block. */
			if (madvise(b->p, b->pages * page, MADV_DONTNEED))
				n_fail++;
			touch(b);
			n_advise++;
		} else if (!b->guarded && b->pages > 1) {
			/* A guard page at the end: a VMA of its own. */
			b->pages--;
			if (mprotect(b->p + b->pages * page, page, PROT_NONE)) {
				b->pages++;
				n_fail++;
				continue;
			}
			b->guarded = 1;
			n_guard++;
		}
	}

	printf("allocator: seed=%lu ops=%lu alloc=%lu free=%lu grow=%lu moved=%lu shrink=%lu madvise=%lu guard=%lu failed=%lu vmas=%d\n",
	       seed, ops, n_alloc, n_free, n_grow, n_moved, n_shrink, n_advise,
	       n_guard, n_fail, count_vmas());
	fflush(stdout);
	sleep(linger);
	return 0;
}
