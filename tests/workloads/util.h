/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the workloads. */
#ifndef VMATRACK_WORKLOADS_UTIL_H
#define VMATRACK_WORKLOADS_UTIL_H

#include <stdint.h>
#include <stdio.h>

/* The workloads' seeded random numbers: one stream per program. */
static uint64_t rng_state = 1;

/* xorshift64*: small, seedable, good enough to pick operations. */
static inline uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* A number below @n (0 for n == 0). */
static inline unsigned long rng_below(unsigned long n)
{
	return n ? rng() % n : 0;
}

/* The number of VMAs of this process: lines of /proc/self/maps, or -1. */
static inline int count_vmas(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int c, n = 0;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

#endif /* VMATRACK_WORKLOADS_UTIL_H */
