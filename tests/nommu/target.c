// SPDX-License-Identifier: GPL-2.0
/*
 * nommu_target FD_IN FD_OUT: the process the nommu suites mirror.
 *
 * Reads one-byte commands from FD_IN, changes its own VMAs, and answers
 * each with "k RESULT\n" on FD_OUT, then waits, quiescent, for the next:
 *   m  map six private anonymous regions of 1..6 pages (touching each)
 *   u  unmap regions 0, 2 and 4
 *   s  mremap region 3 in place from 4 pages to 1 (RESULT: its address)
 *   g  mremap region 3 back from 1 page to 4 (RESULT: its address)
 *   p  mprotect one page of region 1 read-only (RESULT: 0 or -errno)
 *   h  unmap the last page of region 5 (6 pages -> 5: vmi_shrink_vma)
 *   H  unmap page 2 of region 5 (split_vma, then vmi_shrink_vma)
 *   U  unmap the remaining regions (region 5 as its pieces, and S's)
 *   S  map 2 pages of a ramfs file shared and writable (RESULT: its
 *      address): nommu maps that file's pages directly, with VM_SHARED
 *   B  map MANY one-page private anonymous regions (RESULT: how many, or
 *      -errno with none left mapped)
 *   b  unmap the B regions
 *   0..5  report region N's address (0 once unmapped)
 *   q  exit 0
 * It starts by answering "k 0" once it is ready.
 */
#include "nommu.h"

static void *region[6], *shared;

static void ack(int fd, long v)
{
	char b[32];
	int i = 0;

	b[i++] = 'k';
	b[i++] = ' ';
	if (v < 0) {
		b[i++] = '-';
		v = -v;
	}
	fmt_ulong(b + i, (unsigned long)v);
	i += str_len(b + i);
	b[i++] = '\n';
	sys_write(fd, b, i);
}

static long map_all(void)
{
	for (int i = 0; i < 6; i++) {
		region[i] = sys_mmap(NULL, (i + 1) * PAGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if ((unsigned long)region[i] > -4096UL)
			return (long)region[i];
		memset(region[i], i, (i + 1) * PAGE);
	}
	return 0;
}

/* Pages of region 5 unmapped so far by 'h' and 'H'. */
static int r5_tail, r5_hole;

static long unmap(int first, int step)
{
	long r = 0;

	if (first == 0 && step == 1 && region[5] && (r5_tail || r5_hole)) {
		char *b = region[5];

		if (r5_hole)
			r = sys_munmap(b, 2 * PAGE) ?: sys_munmap(b + 3 * PAGE, 2 * PAGE);
		else
			r = sys_munmap(b, 5 * PAGE);
		if (r)
			return r;
		region[5] = NULL;
	}
	for (int i = first; i < 6; i += step) {
		if (region[i] && (r = sys_munmap(region[i], (i + 1) * PAGE)))
			return r;
		region[i] = NULL;
	}
	return 0;
}

/*
 * A shared writable mapping of a file: on nommu an anonymous MAP_SHARED
 * is a private copy, but ramfs files can be mapped directly (the file is
 * sized first: ramfs gives it contiguous pages then).
 */
static long map_shared(void)
{
	long fd = sys_openat("/tmp/vmatrack-shared", O_RDWR | O_CREAT | O_TRUNC, 0600), r;

	if (fd < 0)
		return fd;
	r = sys_ftruncate(fd, 2 * PAGE);
	if (!r) {
		shared = sys_mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		r = (long)shared;
	}
	sys_close(fd);
	sys_unlink("/tmp/vmatrack-shared");
	return r;
}

/* The B regions' addresses, in a mapped array (see suite.h on -mpcrel). */
static void **many;

static long unmap_many(void)
{
	long r = 0;

	if (!many)
		return 0;
	for (int i = 0; i < MANY; i++)
		if (many[i] && !r)
			r = sys_munmap(many[i], PAGE);
	sys_munmap(many, MANY * sizeof(*many));
	many = NULL;
	return r;
}

static long map_many(void)
{
	many = sys_mmap(NULL, MANY * sizeof(*many), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((unsigned long)many > -4096UL) {
		long e = (long)many;

		many = NULL;
		return e;
	}
	for (int i = 0; i < MANY; i++) {
		void *p = sys_mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if ((unsigned long)p > -4096UL) {
			unmap_many();
			return (long)p;
		}
		many[i] = p;
	}
	return MANY;
}

int main(int argc, char **argv, char **envp)
{
	int in, out;
	char c;

	(void)envp;
	if (argc != 3)
		return 2;
	in = argv[1][0] - '0';
	out = argv[2][0] - '0';
	ack(out, 0);
	while (sys_read(in, &c, 1) == 1) {
		switch (c) {
		case 'm': ack(out, map_all()); break;
		case 'u': ack(out, unmap(0, 2)); break;
		case 's': ack(out, sys_mremap(region[3], 4 * PAGE, PAGE, 0)); break;
		case 'g': ack(out, sys_mremap(region[3], PAGE, 4 * PAGE, 0)); break;
		case 'p': ack(out, sys_mprotect(region[1], PAGE, PROT_READ)); break;
		case 'h':
			r5_tail = 1;
			ack(out, sys_munmap((char *)region[5] + 5 * PAGE, PAGE));
			break;
		case 'H':
			r5_hole = 1;
			ack(out, sys_munmap((char *)region[5] + 2 * PAGE, PAGE));
			break;
		case 'S': ack(out, map_shared()); break;
		case 'B': ack(out, map_many()); break;
		case 'b': ack(out, unmap_many()); break;
		case 'U':
			if (shared && (unsigned long)shared < -4096UL)
				sys_munmap(shared, 2 * PAGE);
			shared = NULL;
			ack(out, unmap(0, 1));
			break;
		case '0': case '1': case '2': case '3': case '4': case '5':
			ack(out, (long)region[c - '0']);
			break;
		case 'q': return 0;
		default: ack(out, -EINVAL); break;
		}
	}
	return 0;
}
