// SPDX-License-Identifier: GPL-2.0
/*
 * merge_scenarios: one merge case or one missed-merge reason per test,
 * asserted on vmatrack's `stats` and `unmerged` files.
 *
 * Each test runs in a forked child (kselftest harness), attaches vmatrack
 * to itself, builds its layout, zeroes the statistics, makes one change
 * and reads the counters back. Nothing between the reset and the reading
 * may map memory: debugfs and /proc are read with read(2) into static
 * buffers, never through stdio (whose buffers come from malloc).
 *
 * Every test also checks that the change of VMA count in /proc/self/maps
 * is what the counters say: new_merge_none + split + replaced - removed.
 *
 * Pictures: one column per page, `|` a VMA boundary, `.` empty space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif
#ifndef MPOL_BIND
#define MPOL_BIND 2
#endif

#define D "/sys/kernel/debug/vmatrack/"
#define RW (PROT_READ | PROT_WRITE)

static long page;
static char buf[1 << 20];

/* Reads a whole file into buf without allocating; its length, or -1. */
static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	long n, len = 0;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return len;
}

static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static int attach_self(void)
{
	char s[32];

	page = sysconf(_SC_PAGESIZE);
	snprintf(s, sizeof(s), "%d\n", getpid());
	/* The kernel's own verdicts, which the tests compare with ours. */
	if (put(D "stats", "verdicts on\n"))
		return -1;
	return put(D "target", s);
}

static int vmas(void)
{
	long i, n = 0, len = slurp("/proc/self/maps");

	for (i = 0; i < len; i++)
		n += buf[i] == '\n';
	return len < 0 ? -1 : n;
}

/* The counters a test looks at, read in one go from `stats`. */
struct stats {
	long new_none, new_prev, new_next, new_both, over_mapped, stack;
	long ex_left, ex_right, ex_both, shrunk, split, removed, replaced;
	long unknown, kernel_new, kernel_existing, new_dis, ex_dis;
	long after_mprotect, after_mlock, after_madvise, after_mremap, after_mmap;
	long unmerged_pairs;
	int vmas;
};

static long stat_of(const char *name)
{
	size_t n = strlen(name);
	char *p = buf;

	while ((p = strstr(p, name))) {
		if ((p == buf || p[-1] == '\n') && p[n] == ' ')
			return strtol(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

static struct stats read_stats(void)
{
	struct stats s;

	s.vmas = vmas();
	slurp(D "stats");
	s.new_none = stat_of("new_merge_none");
	s.new_prev = stat_of("new_merge_prev");
	s.new_next = stat_of("new_merge_next");
	s.new_both = stat_of("new_merge_both");
	s.over_mapped = stat_of("new_merge_over_mapped");
	s.stack = stat_of("stack_growth");
	s.ex_left = stat_of("existing_merge_left");
	s.ex_right = stat_of("existing_merge_right");
	s.ex_both = stat_of("existing_merge_both");
	s.shrunk = stat_of("shrunk");
	s.split = stat_of("split");
	s.removed = stat_of("removed");
	s.replaced = stat_of("replaced");
	s.unknown = stat_of("unknown");
	s.kernel_new = stat_of("kernel_new_merges");
	s.kernel_existing = stat_of("kernel_existing_merges");
	s.new_dis = stat_of("new_merge_disagreements");
	s.ex_dis = stat_of("existing_merge_disagreements");
	s.after_mprotect = stat_of("merges_after_mprotect");
	s.after_mlock = stat_of("merges_after_mlock");
	s.after_madvise = stat_of("merges_after_madvise");
	s.after_mremap = stat_of("merges_after_mremap");
	s.after_mmap = stat_of("merges_after_mmap");
	s.unmerged_pairs = stat_of("unmerged_pairs");
	return s;
}

/* Zeroes the statistics; returns the VMA count at that moment. */
static int reset(void)
{
	if (put(D "stats", "reset\n"))
		return -1;
	return vmas();
}

/* VMA count change == what the counters say it is. */
static int count_agrees(const struct stats *s, int before)
{
	long want = s->new_none + s->split + s->replaced - s->removed;

	if (s->vmas - before == want)
		return 1;
	fprintf(stderr, "vmas %d -> %d, counters say %+ld\n", before, s->vmas, want);
	return 0;
}

/*
 * The reasons `unmerged` gives for the pair whose second VMA starts at
 * `boundary`, copied to `out`; "" when there is no such line.
 */
static const char *reasons_at(void *boundary, char *out, size_t size)
{
	char key[40], *p, *end;

	snprintf(key, sizeof(key), " %08lx-", (unsigned long)boundary);
	out[0] = 0;
	if (slurp(D "unmerged") < 0)
		return out;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char *sp = strchr(p, ' ');

		if (!sp || strncmp(sp, key, strlen(key)))
			continue;
		sp = strchr(sp + 1, ' ');
		if (!sp)
			break;
		/* The reasons end at the ids (" anon_vma=ID/ID file=ID/ID"). */
		end = strpbrk(sp + 1, " \n");
		snprintf(out, size, "%.*s", (int)(end ? end - sp - 1 : (long)strlen(sp + 1)), sp + 1);
		break;
	}
	return out;
}

/*
 * The anon_vma ids `unmerged` prints for the pair whose second VMA starts
 * at `boundary`: 0 and both copied (each "-" or 12 hex digits), or -1.
 */
static int anon_ids_at(void *boundary, char prev[16], char next[16])
{
	char key[40], *l;

	snprintf(key, sizeof(key), " %08lx-", (unsigned long)boundary);
	if (slurp(D "unmerged") < 0)
		return -1;
	for (l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		char *sp = strchr(l, ' '), *a;

		if (!sp || strncmp(sp, key, strlen(key)))
			continue;
		a = strstr(sp, " anon_vma=");
		if (!a || sscanf(a, " anon_vma=%15[^/]/%15s", prev, next) != 2)
			return -1;
		return 0;
	}
	return -1;
}

/* Eight pages of empty space, where nothing else will be mapped. */
static char *hole(void)
{
	char *p = mmap(NULL, 8 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || munmap(p, 8 * page))
		return NULL;
	return p;
}

static char *at(char *p, int pages, int prot)
{
	return mmap(p, pages * page, prot,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
}

/*
 *  . . . . .        before
 *  . |N| . .        mmap with no neighbour: a new VMA, merged with nothing
 */
TEST(new_range_merges_with_nothing)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	n = reset();
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	s = read_stats();
	EXPECT_EQ(1, s.new_none);
	EXPECT_EQ(0, s.kernel_new);
	EXPECT_EQ(0, s.new_dis);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  . |A| . . .      before
 *  . |A  A| . .     mmap right after A: A grows (merge with prev)
 */
TEST(new_range_merges_with_prev)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	n = reset();
	ASSERT_EQ(p + 2 * page, at(p + 2 * page, 1, RW));
	s = read_stats();
	EXPECT_EQ(1, s.new_prev);
	EXPECT_EQ(1, s.kernel_new);
	EXPECT_EQ(0, s.new_dis);
	EXPECT_EQ(1, s.after_mmap);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  . . |B| . .      before
 *  . |B  B| . .     mmap right before B: B grows down (merge with next)
 */
TEST(new_range_merges_with_next)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + 2 * page, at(p + 2 * page, 1, RW));
	n = reset();
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	s = read_stats();
	EXPECT_EQ(1, s.new_next);
	EXPECT_EQ(1, s.kernel_new);
	EXPECT_EQ(0, s.new_dis);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  . |A| . |C| .    before
 *  . |A  A  A| .    mmap the gap: A grows over it and over C (merge both)
 */
TEST(new_range_merges_with_both)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	ASSERT_EQ(p + 3 * page, at(p + 3 * page, 1, RW));
	n = reset();
	ASSERT_EQ(p + 2 * page, at(p + 2 * page, 1, RW));
	s = read_stats();
	EXPECT_EQ(1, s.new_both);
	EXPECT_EQ(1, s.removed);
	EXPECT_EQ(1, s.kernel_new);
	EXPECT_EQ(0, s.new_dis);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  . |A  A  A| .    before, one VMA
 *  . |A |R| A| .    MAP_FIXED over the middle with other flags: two
 *                   splits, the middle replaced, no merge
 */
TEST(map_fixed_replaces_without_merge)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 3, RW));
	n = reset();
	ASSERT_EQ(p + 2 * page, mmap(p + 2 * page, page, PROT_READ,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	s = read_stats();
	EXPECT_EQ(2, s.split);
	EXPECT_EQ(1, s.replaced);
	EXPECT_EQ(0, s.kernel_new);
	EXPECT_EQ(0, s.new_dis);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  . |A  A  A| .    before, one VMA
 *  . |A  A  A| .    MAP_FIXED over the middle with the same flags: split,
 *                   then merged back into one VMA
 */
TEST(map_fixed_merges_back)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 3, RW));
	n = reset();
	ASSERT_EQ(p + 2 * page, mmap(p + 2 * page, page, RW,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	s = read_stats();
	EXPECT_EQ(1, s.over_mapped);
	EXPECT_EQ(1, s.kernel_new);
	EXPECT_EQ(0, s.new_dis);
	EXPECT_EQ(0, s.unknown);
	EXPECT_EQ(n, s.vmas);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  |A |RO| A|       before: mprotect split one VMA in three
 *  |A  A   A|       mprotect the middle back: merge both (existing range)
 */
TEST(mprotect_merges_existing_both)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 3, RW));
	ASSERT_EQ(0, mprotect(p + 2 * page, page, PROT_READ));
	n = reset();
	ASSERT_EQ(0, mprotect(p + 2 * page, page, RW));
	s = read_stats();
	EXPECT_EQ(1, s.ex_both);
	EXPECT_EQ(2, s.removed);
	EXPECT_EQ(1, s.kernel_existing);
	EXPECT_EQ(0, s.ex_dis);
	EXPECT_EQ(1, s.after_mprotect);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  |A |RO  RO|      before
 *  |A  A |RO|       mprotect the first RO page: A grows over part of the
 *                   middle, which shrinks (merge left)
 */
TEST(mprotect_merges_existing_left)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 3, RW));
	ASSERT_EQ(0, mprotect(p + 2 * page, 2 * page, PROT_READ));
	n = reset();
	ASSERT_EQ(0, mprotect(p + 2 * page, page, RW));
	s = read_stats();
	EXPECT_EQ(1, s.ex_left);
	EXPECT_EQ(1, s.shrunk);
	EXPECT_EQ(1, s.kernel_existing);
	EXPECT_EQ(0, s.ex_dis);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  |RO  RO| A|      before
 *  |RO| A  A|       mprotect the last RO page: A grows down over part of
 *                   the middle (merge right)
 */
TEST(mprotect_merges_existing_right)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 3, RW));
	ASSERT_EQ(0, mprotect(p + page, 2 * page, PROT_READ));
	n = reset();
	ASSERT_EQ(0, mprotect(p + 2 * page, page, RW));
	s = read_stats();
	EXPECT_EQ(1, s.ex_right);
	EXPECT_EQ(1, s.shrunk);
	EXPECT_EQ(1, s.kernel_existing);
	EXPECT_EQ(0, s.ex_dis);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  |A |L| A|        before: mlock split the middle page off
 *  |A  A  A|        munlock it: merged back, counted under mlock
 */
TEST(munlock_merges_back)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 3, RW));
	ASSERT_EQ(0, mlock(p + 2 * page, page));
	n = reset();
	ASSERT_EQ(0, munlock(p + 2 * page, page));
	s = read_stats();
	EXPECT_EQ(1, s.ex_both);
	EXPECT_EQ(1, s.after_mlock);
	EXPECT_EQ(1, s.kernel_existing);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  |A |DF| A|       before: MADV_DONTFORK on the middle page
 *  |A  A   A|       MADV_DOFORK: merged back, counted under madvise
 */
TEST(madvise_merges_back)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 3, RW));
	ASSERT_EQ(0, madvise(p + 2 * page, page, MADV_DONTFORK));
	n = reset();
	ASSERT_EQ(0, madvise(p + 2 * page, page, MADV_DOFORK));
	s = read_stats();
	EXPECT_EQ(1, s.ex_both);
	EXPECT_EQ(1, s.after_madvise);
	EXPECT_EQ(1, s.kernel_existing);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  . |A| . .        before
 *  . |A  A| .       mremap grows A in place (vma_merge_extend)
 */
TEST(mremap_grows_in_place)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	n = reset();
	ASSERT_EQ(p + page, mremap(p + page, page, 2 * page, 0));
	s = read_stats();
	EXPECT_EQ(1, s.new_prev);
	EXPECT_EQ(1, s.after_mremap);
	EXPECT_EQ(1, s.kernel_new);
	EXPECT_EQ(0, s.new_dis);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  . |A  A| .       before
 *  . |A| . .        mremap shrinks A: its tail is split off and unmapped
 */
TEST(mremap_shrinks)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 2, RW));
	n = reset();
	ASSERT_EQ(p + page, mremap(p + page, 2 * page, page, 0));
	s = read_stats();
	EXPECT_EQ(1, s.split);
	EXPECT_EQ(1, s.removed);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  . |A| . |B| .    before, both faulted (7.3 resets the page offset of a
 *                   moved VMA that was never faulted: fault first)
 *  . |A| . . |B|    mremap B away from its place: merged with nothing
 *  . |A  B| . .     mremap B next to A... with its own anon_vma and page
 *                   offset it stays apart: anon_vma in `unmerged`
 */
TEST(mremap_moved_next_to_a_faulted_vma)
{
	char r[256];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	ASSERT_EQ(p + 4 * page, at(p + 4 * page, 1, RW));
	p[page] = 1;
	p[4 * page] = 2;
	ASSERT_EQ(p + 2 * page, mremap(p + 4 * page, page, page,
				       MREMAP_MAYMOVE | MREMAP_FIXED, p + 2 * page));
	reasons_at(p + 2 * page, r, sizeof(r));
	EXPECT_NE(NULL, strstr(r, "anon_vma")) TH_LOG("unmerged says '%s'", r);
}

/*
 *  . |A  A| . .     before
 *  . . . . . .      munmap all of A: removed
 */
TEST(munmap_removes)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 2, RW));
	n = reset();
	ASSERT_EQ(0, munmap(p + page, 2 * page));
	s = read_stats();
	EXPECT_EQ(1, s.removed);
	EXPECT_TRUE(count_agrees(&s, n));
}

/* ---- what relaxed rules would merge (`whatif`) ---- */

/* One rule set's line of `whatif`: the counts a test looks at. */
struct whatif {
	long touching, fixed, saved, sharing;
};

/* The number after " KEY=" in the line at @l; -1 if absent. */
static long line_field(const char *l, const char *key)
{
	const char *end = strchr(l, '\n');
	char k[40];
	const char *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(l, k);
	if (!p || (end && p > end))
		return -1;
	return strtol(p + strlen(k), NULL, 10);
}

/* `whatif`'s counts under @rules (none, r1, r2, r1+r2); -1s if missing. */
static struct whatif whatif_of(const char *rules)
{
	struct whatif w = { -1, -1, -1, -1 };
	char key[32];
	char *l;

	snprintf(key, sizeof(key), "rules=%s vmas=", rules);
	if (slurp(D "whatif") < 0)
		return w;
	for (l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, key, strlen(key)))
			continue;
		w.touching = line_field(l, "touching");
		w.fixed = line_field(l, "fixed");
		w.saved = line_field(l, "saved");
		w.sharing = line_field(l, "blocked_by_sharing");
		break;
	}
	return w;
}

/* The four rule sets' counts, in `whatif`'s order. */
static void whatif_all(struct whatif w[4])
{
	static const char *const sets[] = { "none", "r1", "r2", "r1+r2" };

	for (int i = 0; i < 4; i++)
		w[i] = whatif_of(sets[i]);
}

/*
 * The would_merge_@rules count of `whatif`'s new-range attempts line for
 * @cause, as read into buf by the last whatif_all() or attempts_of(); -1
 * without such a line.
 */
static long would_merge_of(const char *cause, const char *rules)
{
	char key[64], field[32];
	char *l;

	snprintf(key, sizeof(key), "\nattempts kind=new cause=%s ", cause);
	snprintf(field, sizeof(field), "would_merge_%s", rules);
	l = strstr(buf, key);
	return l ? line_field(l + 1, field) : -1;
}

/* Each rule set's `saved` grew from @w0 to @w1 by @grew (none, r1, r2, r1+r2). */
static void expect_saved_grew(struct __test_metadata *_metadata, const struct whatif w0[4],
			      const struct whatif w1[4], const long grew[4])
{
	static const char *const sets[] = { "none", "r1", "r2", "r1+r2" };

	for (int k = 0; k < 4; k++) {
		long want = w0[k].saved + grew[k];

		if (want != w1[k].saved)
			TH_LOG("rules=%s: saved %ld, expected %ld", sets[k], w1[k].saved, want);
		EXPECT_EQ(want, w1[k].saved);
	}
}

/*
 * Maps one page at p + 1 and one at p + 3 pages and faults each: two
 * anon_vmas, not touching yet. Returns p, or NULL.
 */
static char *two_anon_vmas(void)
{
	char *p = hole();

	if (!p || at(p + page, 1, RW) != p + page || at(p + 3 * page, 1, RW) != p + 3 * page)
		return NULL;
	p[page] = 1;
	p[3 * page] = 2;
	return p;
}

/*
 *  . |A  A| . . .   two pages, both faulted: one VMA, one anon_vma
 *  . |A| . . |A'|   mremap the second page away: its page offset stays
 *  |A'|A| . . . .   ... and to the page in front of A: the same anon_vma,
 *                   but the offsets do not follow the addresses: pgoff.
 *                   R1 (a moved VMA's offset follows its address) merges
 *                   them; R2 alone does not (the anon_vma is the same).
 */
TEST(whatif_r1_moved_page_in_front_of_its_old_neighbour)
{
	struct whatif w0[4], w1[4];
	char r[256], a[16], b[16];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + 2 * page, at(p + 2 * page, 2, RW));
	p[2 * page] = 1;
	p[3 * page] = 2;
	ASSERT_EQ(p + 6 * page, mremap(p + 3 * page, page, page,
				       MREMAP_MAYMOVE | MREMAP_FIXED, p + 6 * page));
	whatif_all(w0);
	ASSERT_LE(0, reset());
	ASSERT_EQ(p + page, mremap(p + 6 * page, page, page,
				   MREMAP_MAYMOVE | MREMAP_FIXED, p + page));
	whatif_all(w1);
	/* At the move itself: the kernel's attempt failed, R1's would not. */
	EXPECT_NE(NULL, strstr(buf, "\nattempts kind=new cause=mremap tried=1 merged=0 failed=1 "));
	EXPECT_EQ(0, would_merge_of("mremap", "none"));
	EXPECT_EQ(1, would_merge_of("mremap", "r1"));
	EXPECT_EQ(0, would_merge_of("mremap", "r2"));
	reasons_at(p + 2 * page, r, sizeof(r));
	EXPECT_STREQ("pgoff", r);
	/* One anon_vma: the same opaque id on both sides. */
	ASSERT_EQ(0, anon_ids_at(p + 2 * page, a, b));
	EXPECT_EQ(12U, strlen(a));
	EXPECT_STREQ(a, b);
	EXPECT_EQ(w0[0].touching + 1, w1[0].touching);
	expect_saved_grew(_metadata, w0, w1, (const long[4]){ 0, 1, 0, 1 });
}

/*
 *  . |A| . |B| . .  each page faulted on its own: two anon_vmas
 *  . |A  A|B| . .   mremap A to two pages in place: it touches B, and
 *                   only the anon_vmas differ (the offsets follow the
 *                   addresses). R2 (two unshared anon_vmas may merge)
 *                   merges them; R1 alone does not.
 */
TEST(whatif_r2_two_anon_vmas_made_touching)
{
	struct whatif w0[4], w1[4];
	char r[256], a[16], b[16];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = two_anon_vmas());
	whatif_all(w0);
	ASSERT_EQ(p + page, mremap(p + page, page, 2 * page, 0));
	whatif_all(w1);
	reasons_at(p + 3 * page, r, sizeof(r));
	EXPECT_STREQ("anon_vma", r);
	/* Two anon_vmas: two ids. */
	ASSERT_EQ(0, anon_ids_at(p + 3 * page, a, b));
	EXPECT_EQ(12U, strlen(a));
	EXPECT_EQ(12U, strlen(b));
	EXPECT_STRNE(a, b);
	expect_saved_grew(_metadata, w0, w1, (const long[4]){ 0, 0, 1, 1 });
}

/*
 *  . |A  A|B| . .   as above, then fork: the child's anon_vmas hang off
 *                   A's and B's, which are shared from then on. R2 no
 *                   longer merges the pair: blocked by sharing, the
 *                   RFC's "1-3 %" class.
 */
TEST(whatif_fork_blocks_r2_by_sharing)
{
	struct whatif w0[4], w1[4];
	int go[2], st;
	char *p;
	pid_t c;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = two_anon_vmas());
	ASSERT_EQ(p + page, mremap(p + page, page, 2 * page, 0));
	ASSERT_EQ(0, pipe(go));
	whatif_all(w0);
	c = fork();
	ASSERT_LE(0, c);
	if (c == 0) {
		char b;

		close(go[1]);
		_exit(read(go[0], &b, 1) == 0 ? 0 : 1);
	}
	close(go[0]);
	whatif_all(w1);
	close(go[1]);
	ASSERT_EQ(c, waitpid(c, &st, 0));
	/* Our pair at least, and whatever else the fork made shared. */
	EXPECT_GE(w0[2].saved - 1, w1[2].saved);
	EXPECT_LE(w0[2].sharing + 1, w1[2].sharing);
	EXPECT_EQ(w0[2].touching, w1[2].touching);
}

/* `whatif`'s attempts line for @kind and @cause: tried and merged. */
static int attempts_of(const char *kind, const char *cause, long *tried, long *merged)
{
	char key[64];
	char *l;

	snprintf(key, sizeof(key), "attempts kind=%s cause=%s ", kind, cause);
	*tried = *merged = 0;
	if (slurp(D "whatif") < 0)
		return -1;
	l = strstr(buf, key);
	if (!l)
		return 0; /* no attempt of that kind: no line */
	*tried = line_field(l, "tried");
	*merged = line_field(l, "merged");
	return 0;
}

/*
 *  . |A| . . . .    before
 *  . |A A| . . .    mmap next to A: the kernel's attempt merges
 *  . |A A| . |B|    mmap with no neighbour: its attempt fails
 *                   `whatif` counts both, as mmap, and times them
 */
TEST(attempts_counted_per_syscall)
{
	long tried, merged;
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	ASSERT_LE(0, reset());
	ASSERT_EQ(p + 2 * page, at(p + 2 * page, 1, RW));
	ASSERT_EQ(p + 5 * page, at(p + 5 * page, 1, RW));
	ASSERT_EQ(0, attempts_of("new", "mmap", &tried, &merged));
	EXPECT_EQ(2, tried);
	EXPECT_EQ(1, merged);
	EXPECT_NE(NULL, strstr(buf, "\nattempts kind=all cause=all tried=2 merged=1 failed=1 "));
	/* vmatrack's own rules, on the attempt's proposed attributes, agree. */
	EXPECT_EQ(1, would_merge_of("mmap", "none"));
}

/* ---- why touching VMAs stay apart: one reason per test ---- */

/*
 *  |RW |RO|         mprotect the second page read-only: flags differ. An
 *                   anonymous VMA never faulted also drops VM_ACCOUNT when
 *                   it stops being writable (mprotect_fixup()).
 */
TEST(reason_flags)
{
	char r[256];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 2, RW));
	ASSERT_EQ(0, mprotect(p + 2 * page, page, PROT_READ));
	EXPECT_STREQ("flags:write|account", reasons_at(p + 2 * page, r, sizeof(r)));
}

/*
 * Names the anonymous VMA at @p for one page; 1 if done, 0 when the kernel
 * has no anon names (CONFIG_ANON_VMA_NAME off, as in Debian's: EINVAL),
 * -1 on any other failure.
 */
static int anon_name(char *p, const char *name)
{
	if (!prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p, page, name))
		return 1;
	return errno == EINVAL ? 0 : -1;
}

/*
 *  |x |y|           two anon names (prctl PR_SET_VMA_ANON_NAME)
 */
TEST(reason_anon_name)
{
	char r[256];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 2, RW));
	if (!anon_name(p + page, "x"))
		SKIP(return, "this kernel has no anon VMA names (CONFIG_ANON_VMA_NAME off)");
	ASSERT_EQ(1, anon_name(p + 2 * page, "y"));
	EXPECT_STREQ("anon_name", reasons_at(p + 2 * page, r, sizeof(r)));
}

/*
 *  |x |x|           the same name given twice: one VMA again (names are
 *                   compared by text, not by object)
 */
TEST(same_anon_name_merges)
{
	struct stats s;
	char *p;
	int n;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 2, RW));
	if (!anon_name(p + page, "x"))
		SKIP(return, "this kernel has no anon VMA names (CONFIG_ANON_VMA_NAME off)");
	n = reset();
	ASSERT_EQ(1, anon_name(p + 2 * page, "x"));
	s = read_stats();
	EXPECT_EQ(1, s.ex_left);
	EXPECT_EQ(1, s.kernel_existing);
	EXPECT_TRUE(count_agrees(&s, n));
}

/*
 *  |  |B|           mbind the second page to node 0: mempolicies differ
 */
TEST(reason_mempolicy)
{
	unsigned long mask = 1;
	char r[256];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 2, RW));
	if (syscall(SYS_mbind, p + 2 * page, page, MPOL_BIND, &mask, 8 * sizeof(mask), 0))
		SKIP(return, "mbind: %s (no NUMA in this kernel)", strerror(errno));
	EXPECT_STREQ("mempolicy", reasons_at(p + 2 * page, r, sizeof(r)));
}

/* A two-page file in /tmp, open twice. */
static int two_opens(int fd[2])
{
	char path[] = "/tmp/merge_scenarios.XXXXXX";
	int f = mkstemp(path);

	if (f < 0 || ftruncate(f, 4 * page))
		return -1;
	fd[0] = f;
	fd[1] = open(path, O_RDWR);
	unlink(path);
	return fd[1] < 0 ? -1 : 0;
}

/*
 *  |f:0|f':1|       pages 0 and 1 of one file through two opens: two
 *                   struct files, which never merge
 */
TEST(reason_file)
{
	char r[256];
	int fd[2];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_EQ(0, two_opens(fd));
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, mmap(p + page, page, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd[0], 0));
	ASSERT_EQ(p + 2 * page, mmap(p + 2 * page, page, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd[1], page));
	EXPECT_STREQ("file", reasons_at(p + 2 * page, r, sizeof(r)));
}

/*
 *  |f:0|f:2|        pages 0 and 2 of one open file side by side: page
 *                   offsets not contiguous
 */
TEST(reason_pgoff)
{
	char r[256];
	int fd[2];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_EQ(0, two_opens(fd));
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, mmap(p + page, page, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd[0], 0));
	ASSERT_EQ(p + 2 * page, mmap(p + 2 * page, page, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd[0], 2 * page));
	EXPECT_STREQ("pgoff", reasons_at(p + 2 * page, r, sizeof(r)));
}

/*
 *  |A |U|           userfaultfd registers the second page: its uffd
 *                   context (and VM_UFFD_MISSING) differ
 */
TEST(reason_uffd_ctx)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	char r[256];
	char *p;
	int u;

	ASSERT_EQ(0, attach_self());
	u = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (u < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(u, UFFDIO_API, &api));
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 2, RW));
	reg.range.start = (unsigned long)p + 2 * page;
	reg.range.len = page;
	ASSERT_EQ(0, ioctl(u, UFFDIO_REGISTER, &reg));
	reasons_at(p + 2 * page, r, sizeof(r));
	EXPECT_NE(NULL, strstr(r, "uffd_ctx")) TH_LOG("unmerged says '%s'", r);
	EXPECT_NE(NULL, strstr(r, "flags:uffd_missing")) TH_LOG("unmerged says '%s'", r);
}

/*
 *  |A: anon_vma 1|B: anon_vma 2|   two faulted VMAs made to touch by
 *                                  mremap: different anon_vmas
 */
TEST(reason_anon_vma)
{
	char r[256];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	ASSERT_EQ(p + 4 * page, at(p + 4 * page, 1, RW));
	p[page] = 1;
	p[4 * page] = 2;
	ASSERT_EQ(p + 2 * page, mremap(p + 4 * page, page, page,
				       MREMAP_MAYMOVE | MREMAP_FIXED, p + 2 * page));
	reasons_at(p + 2 * page, r, sizeof(r));
	EXPECT_NE(NULL, strstr(r, "anon_vma")) TH_LOG("unmerged says '%s'", r);
}

/*
 *  parent: |A|      faulted, then fork
 *  child:  |A |B|   a new mapping right after A: A's anon_vma is a fork
 *                   child's, which the kernel will not share with B
 *                   (is_mergeable_anon_vma(), merge.c: forked_target_vma)
 */
TEST(reason_anon_vma_fork_child)
{
	char r[256];
	int status;
	char *p;
	pid_t c;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 1, RW));
	p[page] = 1;
	c = fork();
	ASSERT_LE(0, c);
	if (c == 0) {
		p[page] = 2;
		if (attach_self() || at(p + 2 * page, 1, RW) != p + 2 * page)
			_exit(2);
		reasons_at(p + 2 * page, r, sizeof(r));
		if (!strstr(r, "anon_vma_fork_child")) {
			fprintf(stderr, "child: unmerged says '%s'\n", r);
			_exit(1);
		}
		_exit(0);
	}
	ASSERT_EQ(c, waitpid(c, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 *  |[vvar]|[vdso]|   the kernel's own special mappings
 */
TEST(reason_special)
{
	unsigned long vdso = 0;
	char r[256], *l;

	ASSERT_EQ(0, attach_self());
	slurp("/proc/self/maps");
	for (l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strstr(l, "[vdso]") && strstr(l, "[vdso]") < strchr(l, '\n'))
			vdso = strtoul(l, NULL, 16);
	ASSERT_NE(0UL, vdso);
	reasons_at((void *)vdso, r, sizeof(r));
	if (!r[0])
		SKIP(return, "no VMA touches [vdso] from below in this layout");
	EXPECT_NE(NULL, strstr(r, "special")) TH_LOG("unmerged says '%s'", r);
}

/*
 *  |M |A|            MADV_MERGEABLE on the first page splits it off; then
 *                    PR_SET_MEMORY_MERGE sets VM_MERGEABLE on every VMA in
 *                    place, without trying to merge: the pair is now
 *                    `eligible`, and still two VMAs
 */
TEST(eligible_after_in_place_change)
{
	char r[256];
	char *p;

	ASSERT_EQ(0, attach_self());
	ASSERT_NE(NULL, p = hole());
	ASSERT_EQ(p + page, at(p + page, 2, RW));
	if (madvise(p + page, page, MADV_MERGEABLE))
		SKIP(return, "MADV_MERGEABLE: %s (no KSM)", strerror(errno));
	EXPECT_STREQ("flags:mergeable", reasons_at(p + 2 * page, r, sizeof(r)));
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0))
		SKIP(return, "PR_SET_MEMORY_MERGE: %s", strerror(errno));
	EXPECT_STREQ("eligible", reasons_at(p + 2 * page, r, sizeof(r)));
	prctl(PR_SET_MEMORY_MERGE, 0, 0, 0, 0);
}

/* Reasons a pair listing cannot show, and why. */
TEST(reason_anon_vma_3way)
{
	SKIP(return, "decided only when merging a middle VMA with both "
		     "neighbours at once; `unmerged` lists pairs, where it shows as anon_vma");
}

TEST(reason_uffd_no_remap)
{
	SKIP(return, "applies only to a VMA mremap() moves (vma_merge_copied_range()); "
		     "touching pairs at rest never have it");
}

TEST(reason_close_hook)
{
	char r[256];
	char *l;
	unsigned long s;

	ASSERT_EQ(0, attach_self());
	/* Whichever touching pair the kernel made with a close hook, if any. */
	slurp(D "unmerged");
	l = strstr(buf, "close_hook");
	if (!l)
		SKIP(return, "no VMA with vm_ops->close touches another here "
			     "(SysV shm and hugetlb, which have one, are not in this config)");
	while (l > buf && l[-1] != '\n')
		l--;
	s = strtoul(strchr(l, ' ') + 1, NULL, 16);
	reasons_at((void *)s, r, sizeof(r));
	EXPECT_NE(NULL, strstr(r, "close_hook"));
}

TEST_HARNESS_MAIN
