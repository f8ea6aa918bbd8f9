// SPDX-License-Identifier: GPL-2.0
/*
 * vma_random: a seeded random VMA workload that checks vmatrack's mirror
 * of itself as it goes.
 *
 * usage: vma_random [-s SEED] [-n OPS] [-c CHECK_EVERY] [-t THREADS]
 *
 * The main thread attaches vmatrack to its own process, then performs OPS
 * random operations (mmap anon/file/shared with MAP_FIXED over mappings,
 * munmap across VMAs, mprotect, madvise, mlock, mremap move/grow/shrink,
 * prctl anon names, brk grow/shrink, fork, page touches) inside arenas it
 * reserved, while THREADS other threads do the same in arenas of their own
 * and keep running while the main thread reads
 * /sys/kernel/debug/vmatrack/check every CHECK_EVERY operations and at the
 * end. Every check must say "ok"; a divergence is printed and the exit
 * status is 1. Prints one summary line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#define ARENA_PAGES 256
#define CHECK_FILE "/sys/kernel/debug/vmatrack/check"
#define TARGET_FILE "/sys/kernel/debug/vmatrack/target"

static long page;
static int memfd = -1;
static atomic_int stop;

struct worker {
	uint64_t rng;
	char *arena;
	unsigned long ops;
	unsigned long brk_pages;
	int forks;
};

static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static unsigned long below(uint64_t *s, unsigned long n)
{
	return n ? next(s) % n : 0;
}

/* Puts PROT_NONE placeholders over pages [from, to) of the arena, so no
 * hole is left that the kernel could hand to someone else's mmap. */
static void refill(char *arena, unsigned long from, unsigned long to)
{
	if (to > from)
		mmap(arena + from * page, (to - from) * page, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE,
			     PROT_READ | PROT_EXEC };

/* One random operation inside w's arena. Failures of single operations
 * (EINVAL on odd combinations, EAGAIN for mlock) are part of the game. */
static void one_op(struct worker *w, int may_fork)
{
	unsigned long first = below(&w->rng, ARENA_PAGES - 1);
	unsigned long max = ARENA_PAGES - first;
	unsigned long len = 1 + below(&w->rng, max < 16 ? max : 16);
	char *a = w->arena + first * page;
	size_t sz = len * page;
	int prot = prots[below(&w->rng, 4)];

	switch (below(&w->rng, 14)) {
	case 0: case 1:
		mmap(a, sz, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 2:
		mmap(a, sz, prot, MAP_SHARED | MAP_FIXED, memfd, below(&w->rng, 8) * page);
		break;
	case 3:
		mmap(a, sz, prot, MAP_PRIVATE | MAP_FIXED, memfd, below(&w->rng, 8) * page);
		break;
	case 4:
		/* Unmap, then put a PROT_NONE placeholder back. */
		munmap(a, sz);
		mmap(a, sz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 5: case 6:
		mprotect(a, sz, prot);
		break;
	case 7: {
		static const int adv[] = { MADV_DONTNEED, MADV_DONTFORK, MADV_DOFORK,
					   MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
					   MADV_WIPEONFORK, MADV_KEEPONFORK };
		madvise(a, sz, adv[below(&w->rng, 8)]);
		break;
	}
	case 8:
		if (below(&w->rng, 2))
			mlock(a, sz);
		else
			munlock(a, sz);
		break;
	case 9: {
		/* mremap inside the arena: move, or shrink/grow in place. */
		unsigned long nlen = 1 + below(&w->rng, len + 2);
		void *r;

		if (below(&w->rng, 2)) {
			unsigned long to = below(&w->rng, ARENA_PAGES - nlen);

			/* Overlapping source and destination: EINVAL, skip. */
			if (to < first + len && first < to + nlen)
				break;
			r = mremap(a, sz, nlen * page, MREMAP_MAYMOVE | MREMAP_FIXED,
				   w->arena + to * page);
			if (r != MAP_FAILED)
				refill(w->arena, first, first + len);
		} else {
			if (first + nlen > ARENA_PAGES)
				nlen = ARENA_PAGES - first;
			r = mremap(a, sz, nlen * page, 0);
			if (r != MAP_FAILED && nlen < len)
				refill(w->arena, first + nlen, first + len);
		}
		break;
	}
	case 10: {
		static const char *names[] = { "alpha", "beta", NULL };

		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)a, sz,
		      (unsigned long)names[below(&w->rng, 3)]);
		break;
	}
	case 11:
		if (may_fork && below(&w->rng, 8) == 0) {
			pid_t pid = fork();

			if (pid == 0)
				_exit(0);
			if (pid > 0) {
				waitpid(pid, NULL, 0);
				w->forks++;
			}
			break;
		}
		/* fallthrough */
	case 12:
		/* brk grow/shrink by a page (main thread only: brk is per mm),
		 * never below where it started: libc's heap lives there. */
		if (may_fork) {
			if (below(&w->rng, 2) || w->brk_pages == 0) {
				if (sbrk(page) != (void *)-1)
					w->brk_pages++;
			} else if (sbrk(-page) != (void *)-1) {
				w->brk_pages--;
			}
		}
		break;
	default:
		/* Touch a page if it is writable (gives VMAs an anon_vma). */
		if (mprotect(a, page, PROT_READ | PROT_WRITE) == 0)
			a[0] = 1;
		break;
	}
	w->ops++;
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop))
		one_op(w, 0);
	return NULL;
}

static unsigned long stale_checks;

/* Reads `check`; returns 1 for "ok ...", else prints it and returns 0.
 * Counts the checks the mirror had to resync for ("# stale" first). */
static int check_ok(void)
{
	static char buf[1 << 16];
	int fd = open(CHECK_FILE, O_RDONLY);
	ssize_t n, len = 0;

	if (fd < 0) {
		perror("vma_random: " CHECK_FILE);
		return 0;
	}
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	if (strncmp(buf, "# stale", 7) == 0)
		stale_checks++;
	/* The last line is the verdict; "# stale..." lines before it are
	 * resyncs the mirror announced (counted by the caller's test). */
	char *last = buf;
	for (char *p = buf; *p; p++)
		if (p[0] == '\n' && p[1])
			last = p + 1;
	if (strncmp(last, "ok vmas=", 8) == 0)
		return 1;
	fprintf(stderr, "vma_random: check says:\n%s", buf);
	return 0;
}

static char *reserve(void)
{
	char *a = mmap(NULL, ARENA_PAGES * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED) {
		perror("vma_random: arena");
		exit(1);
	}
	return a;
}

int main(int argc, char **argv)
{
	unsigned long seed = 1, ops = 10000, check_every = 500, nthreads = 2;
	unsigned long checks = 0, failed = 0;
	struct worker main_w = { 0 }, tw[8];
	pthread_t th[8];
	int opt;
	FILE *f;

	while ((opt = getopt(argc, argv, "s:n:c:t:")) != -1) {
		switch (opt) {
		case 's': seed = strtoul(optarg, NULL, 0); break;
		case 'n': ops = strtoul(optarg, NULL, 0); break;
		case 'c': check_every = strtoul(optarg, NULL, 0); break;
		case 't': nthreads = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n OPS] [-c CHECK_EVERY] [-t THREADS]\n", argv[0]);
			return 2;
		}
	}
	if (nthreads > 8 || !check_every) {
		fprintf(stderr, "vma_random: at most 8 threads, CHECK_EVERY > 0\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	memfd = memfd_create("vma_random", 0);
	if (memfd < 0 || ftruncate(memfd, 64 * page)) {
		perror("vma_random: memfd");
		return 1;
	}
	f = fopen(TARGET_FILE, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		perror("vma_random: attach");
		return 1;
	}
	main_w.rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	main_w.arena = reserve();
	for (unsigned long i = 0; i < nthreads; i++) {
		tw[i] = (struct worker){ .rng = (seed + i + 1) * 0x9e3779b97f4a7c15ULL + 1,
					 .arena = reserve() };
		pthread_create(&th[i], NULL, thread_main, &tw[i]);
	}
	for (unsigned long i = 1; i <= ops; i++) {
		one_op(&main_w, 1);
		if (i % check_every == 0) {
			checks++;
			failed += !check_ok();
		}
	}
	atomic_store(&stop, 1);
	for (unsigned long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	checks++;
	failed += !check_ok();

	unsigned long thread_ops = 0;
	for (unsigned long i = 0; i < nthreads; i++)
		thread_ops += tw[i].ops;
	printf("vma_random: seed=%lu ops=%lu thread_ops=%lu forks=%d checks=%lu failed=%lu stale_checks=%lu\n",
	       seed, main_w.ops, thread_ops, main_w.forks, checks, failed, stale_checks);
	return failed ? 1 : 0;
}
