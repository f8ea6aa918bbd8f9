// SPDX-License-Identifier: GPL-2.0
/*
 * vma_scale: a process with very many VMAs, for the scale benchmark.
 *
 * usage: vma_scale [-v VMAS] [-k CHANGES] [-z SECONDS]
 *
 * Reserves 2*VMAS pages and makes every other page readable, which leaves
 * about VMAS VMAs, prints how many /proc/self/maps shows, then makes
 * CHANGES random single-page mprotect toggles (each splits or merges VMAs)
 * and prints their mean cost in ns; then sleeps SECONDS (so a reader can
 * time `check` and `maps` on it) and exits. Attach vmatrack between the
 * first line and the changes by writing the pid before -k starts (it
 * waits for a newline on stdin first when -w is given).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int main(int argc, char **argv)
{
	unsigned long vmas = 60000, changes = 2000, linger = 0;
	long page = sysconf(_SC_PAGESIZE);
	int opt, wait_stdin = 0;
	uint64_t s = 88172645463325252ULL;
	char *base;

	while ((opt = getopt(argc, argv, "v:k:z:w")) != -1) {
		switch (opt) {
		case 'v': vmas = strtoul(optarg, NULL, 0); break;
		case 'k': changes = strtoul(optarg, NULL, 0); break;
		case 'z': linger = strtoul(optarg, NULL, 0); break;
		case 'w': wait_stdin = 1; break;
		default:
			fprintf(stderr, "usage: %s [-v VMAS] [-k CHANGES] [-z SECONDS] [-w]\n", argv[0]);
			return 2;
		}
	}
	base = mmap(NULL, 2 * vmas * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("vma_scale: reserve");
		return 1;
	}
	for (unsigned long i = 0; i < vmas; i++)
		if (mprotect(base + 2 * i * page, page, PROT_READ)) {
			perror("vma_scale: mprotect");
			return 1;
		}
	printf("vmas=%d\n", count_vmas());
	fflush(stdout);
	if (wait_stdin) {
		char buf[8];

		if (!fgets(buf, sizeof(buf), stdin))
			return 1;
	}
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long i = 0; i < changes; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		/* Toggle an odd (PROT_NONE) page: merges three VMAs into one,
		 * the next toggle of it splits them again. */
		unsigned long p = 2 * (s % (vmas - 1)) + 1;
		static char state[1 << 20];
		int prot = state[p % sizeof(state)] ? PROT_NONE : PROT_READ;

		state[p % sizeof(state)] ^= 1;
		if (mprotect(base + p * page, page, prot)) {
			perror("vma_scale: toggle");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("change_ns=%.0f vmas=%d\n",
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (changes ? changes : 1),
	       count_vmas());
	fflush(stdout);
	if (linger)
		sleep(linger);
	return 0;
}
