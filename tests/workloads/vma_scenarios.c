// SPDX-License-Identifier: GPL-2.0
/*
 * vma_scenarios: one kind of VMA change per test; after each, vmatrack's
 * check must say the shadow equals the kernel's VMA tree.
 *
 * The kselftest harness runs every test in a forked child, so each test
 * attaches vmatrack to its own process first, then makes its change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static long page;

static int attach_self(void)
{
	FILE *f = fopen("/sys/kernel/debug/vmatrack/target", "w");

	page = sysconf(_SC_PAGESIZE);
	if (!f)
		return -1;
	if (fprintf(f, "%d\n", getpid()) < 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* 1 when `check` ends in "ok vmas=N"; prints it otherwise. */
static int check_ok(void)
{
	char buf[1 << 14];
	int fd = open("/sys/kernel/debug/vmatrack/check", O_RDONLY);
	ssize_t n, len = 0;
	char *last;

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	last = strrchr(buf, '\n');
	if (last && last != buf) {
		*last = 0;
		last = strrchr(buf, '\n');
		last = last ? last + 1 : buf;
	} else {
		last = buf;
	}
	if (strncmp(last, "ok vmas=", 8) == 0)
		return 1;
	fprintf(stderr, "check says:\n%s\n", buf);
	return 0;
}

static char *map(size_t pages, int prot)
{
	return mmap(NULL, pages * page, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/*
 *          new
 *  |-----------------|
 *  |   anon, RW      |
 *  |-----------------|
 */
TEST(mmap_new_anon)
{
	ASSERT_EQ(0, attach_self());
	ASSERT_NE(MAP_FAILED, map(4, PROT_READ | PROT_WRITE));
	ASSERT_TRUE(check_ok());
}

/*
 *      RW          RO          RW
 *  |---------|-----------|---------|     before
 *  |---------|=====R=====|---------|     MAP_FIXED over the middle and its
 *                                        neighbours' edges
 */
TEST(mmap_fixed_over_mappings)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(9, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + 3 * page, 3 * page, PROT_READ));
	ASSERT_NE(MAP_FAILED, mmap(p + 2 * page, 5 * page, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_TRUE(check_ok());
}

/*
 *      RW     RO     RW
 *  |-------|------|-------|     before
 *  |---|             |----|     munmap across all three
 */
TEST(munmap_across_vmas)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(9, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + 3 * page, 3 * page, PROT_READ));
	ASSERT_EQ(0, munmap(p + page, 7 * page));
	ASSERT_TRUE(check_ok());
}

/*
 *          RW
 *  |-----------------|     before
 *  |-----|=RO=|------|     mprotect splits the middle out
 */
TEST(mprotect_splits)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(3, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + page, page, PROT_READ));
	ASSERT_TRUE(check_ok());
}

/*
 *  |-----RW----|            before: one VMA, flags change in place
 *  |--RW,RO----|            mprotect of the whole VMA: no split, no store
 */
TEST(mprotect_whole_vma_in_place)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(4, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p, 4 * page, PROT_READ));
	ASSERT_TRUE(check_ok());
}

TEST(mlock_and_munlock)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(4, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mlock(p + page, 2 * page));
	ASSERT_TRUE(check_ok());
	ASSERT_EQ(0, munlock(p, 4 * page));
	ASSERT_TRUE(check_ok());
}

/* madvise flag changes: DONTFORK sets VM_DONTCOPY on the whole VMA (in
 * place), WIPEONFORK on part of it (a split). */
TEST(madvise_flag_changes)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(4, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, 4 * page, MADV_DONTFORK));
	ASSERT_TRUE(check_ok());
	ASSERT_EQ(0, madvise(p + page, page, MADV_WIPEONFORK));
	ASSERT_TRUE(check_ok());
	ASSERT_EQ(0, madvise(p, 4 * page, MADV_DOFORK));
	ASSERT_TRUE(check_ok());
}

/*
 *  |--------anon--------|      before
 *  |-a-|[anon:x]|--a----|      prctl names the middle
 */
TEST(prctl_anon_name)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(3, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)(p + page), page,
		  (unsigned long)"x")) {
		/* Debian's kernel, for one, has CONFIG_ANON_VMA_NAME off. */
		ASSERT_EQ(EINVAL, errno);
		SKIP(return, "this kernel has no anon VMA names (CONFIG_ANON_VMA_NAME off)");
	}
	ASSERT_TRUE(check_ok());
	ASSERT_EQ(0, prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, 3 * page, 0UL));
	ASSERT_TRUE(check_ok());
}

/*
 *  |--A--|        |        before: A faulted, a hole after it
 *  |     |        |--A--|  mremap moves it
 */
TEST(mremap_move)
{
	char *p, *q;

	ASSERT_EQ(0, attach_self());
	p = map(8, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + 2 * page, 6 * page));
	p[0] = 1;
	q = mremap(p, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, p + 5 * page);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_TRUE(check_ok());
}

TEST(mremap_grow_in_place)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(8, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + 2 * page, 6 * page));
	ASSERT_EQ(p, mremap(p, 2 * page, 5 * page, 0));
	ASSERT_TRUE(check_ok());
}

TEST(mremap_shrink)
{
	char *p;

	ASSERT_EQ(0, attach_self());
	p = map(6, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(p, mremap(p, 6 * page, 2 * page, 0));
	ASSERT_TRUE(check_ok());
}

TEST(brk_grow_and_shrink)
{
	void *start;

	ASSERT_EQ(0, attach_self());
	start = sbrk(0);
	ASSERT_NE((void *)-1, sbrk(16 * page));
	ASSERT_TRUE(check_ok());
	ASSERT_NE((void *)-1, sbrk(-8 * page));
	ASSERT_TRUE(check_ok());
	ASSERT_EQ(0, brk(start));
	ASSERT_TRUE(check_ok());
}

/* The main stack grows down on a fault below it. */
static void __attribute__((noinline)) deep(int n)
{
	volatile char buf[16 * 1024];

	buf[0] = (char)n;
	if (n > 0)
		deep(n - 1);
	buf[1] = buf[0];
}

TEST(stack_growth)
{
	ASSERT_EQ(0, attach_self());
	deep(64); /* about 1 MiB below where the stack was */
	ASSERT_TRUE(check_ok());
}

/* fork: the child's tree is not ours; the parent's shadow stays right. */
TEST(fork_leaves_parent_shadow_right)
{
	char *p;
	pid_t pid;
	int status;

	ASSERT_EQ(0, attach_self());
	p = map(4, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	pid = fork();
	ASSERT_NE(-1, pid);
	if (pid == 0) {
		/* The child changes its own copy. */
		munmap(p, 2 * page);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(check_ok());
}

/* A file mapping, shared and private, of a memfd. */
TEST(file_mappings)
{
	int fd;
	char *p;

	ASSERT_EQ(0, attach_self());
	fd = memfd_create("vma_scenarios", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 8 * page));
	p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, mmap(NULL, 4 * page, PROT_READ, MAP_PRIVATE, fd, 4 * page));
	ASSERT_TRUE(check_ok());
}

TEST_HARNESS_MAIN
