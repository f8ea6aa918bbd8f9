// SPDX-License-Identifier: GPL-2.0
/*
 * churn: a seeded mmap/mprotect/munmap/fork workload.
 *
 * usage: churn [-s SEED] [-n OPS] [-p PAGES] [-f FORK_EVERY] [-d SECONDS] [-w] [-z SECONDS]
 *
 * All changes happen inside one arena of PAGES pages reserved up front
 * (PROT_NONE), so the workload never touches mappings it did not make.
 * The same SEED gives the same sequence of operations. -d waits SECONDS
 * after reserving the arena and before the first operation. -w waits for a
 * newline on stdin before exiting, -z sleeps SECONDS before exiting (so a
 * test can inspect the process).
 * Prints one summary line: counts per operation and the VMA count at the end.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "util.h"

static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE,
			     PROT_READ | PROT_EXEC };

int main(int argc, char **argv)
{
	unsigned long seed = 1, ops = 10000, pages = 512, fork_every = 1000;
	unsigned long n_mmap = 0, n_munmap = 0, n_mprotect = 0, n_touch = 0,
		      n_fork = 0, n_fail = 0;
	long page = sysconf(_SC_PAGESIZE);
	int opt, wait_stdin = 0;
	unsigned int linger = 0, delay = 0;
	char *arena;

	while ((opt = getopt(argc, argv, "s:n:p:f:d:wz:")) != -1) {
		switch (opt) {
		case 's': seed = strtoul(optarg, NULL, 0); break;
		case 'n': ops = strtoul(optarg, NULL, 0); break;
		case 'p': pages = strtoul(optarg, NULL, 0); break;
		case 'f': fork_every = strtoul(optarg, NULL, 0); break;
		case 'w': wait_stdin = 1; break;
		case 'z': linger = strtoul(optarg, NULL, 0); break;
		case 'd': delay = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n OPS] [-p PAGES] [-f FORK_EVERY] [-d SECONDS] [-w] [-z SECONDS]\n",
				argv[0]);
			return 2;
		}
	}
	if (pages < 4) {
		fprintf(stderr, "churn: need at least 4 pages\n");
		return 2;
	}
	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;

	arena = mmap(NULL, pages * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED) {
		perror("churn: arena");
		return 1;
	}

	if (delay)
		sleep(delay);
	for (unsigned long i = 0; i < ops; i++) {
		unsigned long first = rng_below(pages - 1);
		unsigned long len = 1 + rng_below(pages - first < 16 ? pages - first : 16);
		char *addr = arena + first * page;
		unsigned long what = rng_below(100);

		if (fork_every && i && i % fork_every == 0) {
			pid_t pid = fork();

			if (pid == 0) {
				/* The child faults a page and leaves. */
				volatile char *p = arena;
				(void)p;
				_exit(0);
			}
			if (pid > 0) {
				waitpid(pid, NULL, 0);
				n_fork++;
			} else {
				n_fail++;
			}
		} else if (what < 35) {
			int prot = prots[rng_below(sizeof(prots) / sizeof(prots[0]))];

			if (mmap(addr, len * page, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				 -1, 0) == MAP_FAILED)
				n_fail++;
			n_mmap++;
		} else if (what < 55) {
			/* Unmap, then put PROT_NONE back so the arena stays ours. */
			if (munmap(addr, len * page) ||
			    mmap(addr, len * page, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
				n_fail++;
			n_munmap++;
		} else if (what < 85) {
			int prot = prots[rng_below(sizeof(prots) / sizeof(prots[0]))];

			if (mprotect(addr, len * page, prot))
				n_fail++;
			n_mprotect++;
		} else {
			/* Fault in whatever is writable: gives VMAs an anon_vma. */
			if (mprotect(addr, page, PROT_READ | PROT_WRITE) == 0) {
				addr[0] = (char)i;
				n_touch++;
			} else {
				n_fail++;
			}
		}
	}

	printf("churn: seed=%lu ops=%lu mmap=%lu munmap=%lu mprotect=%lu touch=%lu fork=%lu failed=%lu vmas=%d\n",
	       seed, ops, n_mmap, n_munmap, n_mprotect, n_touch, n_fork, n_fail, count_vmas());
	fflush(stdout);
	if (wait_stdin) {
		char buf[16];

		if (!fgets(buf, sizeof(buf), stdin))
			buf[0] = 0;
	}
	if (linger)
		sleep(linger);
	return n_fail ? 1 : 0;
}
