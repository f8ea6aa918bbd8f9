// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_loop: the overhead benchmark's loop: mmap and munmap one 4 KiB
 * anonymous page N times; prints the median ns per iteration of R rounds.
 *
 * usage: mmap_loop [-n N] [-r ROUNDS] [-a]
 * -a attaches vmatrack to this process first (the "mirrored" case).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned long n = 20000, rounds = 7;
	double ns[64];
	int opt, attach = 0;

	while ((opt = getopt(argc, argv, "n:r:a")) != -1) {
		switch (opt) {
		case 'n': n = strtoul(optarg, NULL, 0); break;
		case 'r': rounds = strtoul(optarg, NULL, 0); break;
		case 'a': attach = 1; break;
		default:
			fprintf(stderr, "usage: %s [-n N] [-r ROUNDS] [-a]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > 64)
		return 2;
	if (attach) {
		FILE *f = fopen("/sys/kernel/debug/vmatrack/target", "w");

		if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
			perror("mmap_loop: attach");
			return 1;
		}
	}
	for (unsigned long r = 0; r < rounds; r++) {
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		for (unsigned long i = 0; i < n; i++) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED || munmap(p, 4096)) {
				perror("mmap_loop");
				return 1;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns[r] = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
	}
	qsort(ns, rounds, sizeof(ns[0]), cmp);
	printf("%.0f %.0f %.0f\n", ns[rounds / 2], ns[0], ns[rounds - 1]);
	return 0;
}
