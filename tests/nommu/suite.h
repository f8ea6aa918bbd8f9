/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What both nommu suites (riscv64: suite.c, m68k: m68k_suite.c) use: the
 * debugfs paths, driving nommu_target over its pipes, comparing maps
 * with /proc/PID/maps, and printing a difference as KTAP diagnostics.
 */
#ifndef VMATRACK_NOMMU_SUITE_H
#define VMATRACK_NOMMU_SUITE_H

#include "nommu.h"

#define DBG "/sys/kernel/debug/vmatrack/"
#define BUF 16384

/*
 * Mapped by suite_init(), not static arrays: ColdFire's -mpcrel code
 * reaches static data only within 32 KiB of itself.
 */
static char *buf_a, *buf_b, *buf_t;
static int cmd_fd, ack_fd, tpid;
static char tpid_s[24];
static char proc_maps[64];

/* Reads the target's next answer ("k RESULT"); -1001 on a bad line. */
/* Maps the buffers; 0 or -errno. */
static inline long suite_init(void)
{
	char *p = sys_mmap(NULL, 3 * BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if ((unsigned long)p > -4096UL)
		return (long)p;
	buf_a = p;
	buf_b = p + BUF;
	buf_t = p + 2 * BUF;
	return 0;
}

static inline long target_answer(void)
{
	char b[32];
	long n = 0, v = 0, sign = 1, i = 2;

	while (n < (long)sizeof(b) - 1 && sys_read(ack_fd, b + n, 1) == 1 && b[n] != '\n')
		n++;
	b[n] = 0;
	if (!str_starts(b, "k "))
		return -1001;
	if (b[i] == '-')
		sign = -1, i++;
	for (; b[i] >= '0' && b[i] <= '9'; i++)
		v = v * 10 + b[i] - '0';
	return sign * v;
}

/* Sends command @c to the target; returns its answer. */
static inline long target_do(char c)
{
	if (sys_write(cmd_fd, &c, 1) != 1)
		return -1000;
	return target_answer();
}

static inline long target_field(const char *key)
{
	if (read_file(DBG "target", buf_t, BUF) < 0)
		return -1;
	return field(buf_t, key);
}

static inline int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Shows up to 12 lines of @s as KTAP diagnostics, prefixed with @what. */
static inline void show(const char *what, const char *s)
{
	char line[160];
	int lines = 0;

	while (*s && lines < 12) {
		size_t n = 0;

		while (s[n] && s[n] != '\n' && n < sizeof(line) - 1)
			n++;
		memcpy(line, s, n);
		line[n] = 0;
		ktap_diag(what, line);
		s += n;
		while (*s && *s != '\n')
			s++;
		if (*s)
			s++;
		lines++;
	}
}

/* maps equals /proc/PID/maps; on a difference both are shown. */
static inline int maps_equal(void)
{
	long a = read_file(DBG "maps", buf_a, BUF), b = read_file(proc_maps, buf_b, BUF);

	if (a >= 0 && b > 0 && a == b && !memcmp(buf_a, buf_b, a))
		return 1;
	show("vmatrack maps: ", buf_a);
	show("/proc maps:    ", buf_b);
	return 0;
}

/* check says exactly "ok vmas=N" for N = the target's VMAs (no notes). */
static inline int check_ok(void)
{
	char want[48] = "ok vmas=";

	if (read_file(proc_maps, buf_b, BUF) <= 0 || read_file(DBG "check", buf_a, BUF) < 0)
		return 0;
	fmt_ulong(want + 8, count_lines(buf_b));
	memcpy(want + str_len(want), "\n", 2);
	if (str_eq(buf_a, want))
		return 1;
	show("check: ", buf_a);
	return 0;
}

/* Writes @s to `target`; 0 or -errno. */
static inline long write_target(const char *s)
{
	return write_file(DBG "target", s, str_len(s));
}

static inline void fmt_hex8(char *b, unsigned long v)
{
	char t[20];
	int n = 0, i = 0;

	do
		t[n++] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	while (n < 8)
		t[n++] = '0';
	while (n)
		b[i++] = t[--n];
	b[i] = 0;
}

/* "START-END" as the maps files print it. */
static inline void fmt_range(char *b, unsigned long s, unsigned long e)
{
	fmt_hex8(b, s);
	b[str_len(b) + 1] = 0;
	b[str_len(b)] = '-';
	fmt_hex8(b + str_len(b), e);
}

/*
 * After an in-place nommu mremap of the VMA at @addr to @now bytes (it was
 * @was bytes in the tree): maps and /proc/PID/maps differ in that line
 * only, maps showing the tree's end and /proc the VMA's vm_end.
 */
static inline int maps_differ_only_at(unsigned long addr, unsigned long was, unsigned long now)
{
	char ours[40], theirs[40];
	const char *a = buf_a, *b = buf_b;
	int other = 0, seen = 0;

	if (read_file(DBG "maps", buf_a, BUF) < 0 || read_file(proc_maps, buf_b, BUF) <= 0)
		return 0;
	fmt_range(ours, addr, addr + was);
	fmt_range(theirs, addr, addr + now);
	while (*a && *b) {
		size_t la = 0, lb = 0;

		while (a[la] && a[la] != '\n')
			la++;
		while (b[lb] && b[lb] != '\n')
			lb++;
		if (str_starts(a, ours) && str_starts(b, theirs) && la == lb &&
		    !memcmp(a + str_len(ours), b + str_len(theirs), la - str_len(ours)))
			seen++;
		else if (la != lb || memcmp(a, b, la))
			other++;
		a += la + (a[la] != 0);
		b += lb + (b[lb] != 0);
	}
	if (seen == 1 && !other && !*a && !*b)
		return 1;
	show("vmatrack maps: ", buf_a);
	show("/proc maps:    ", buf_b);
	return 0;
}

static inline int start_target(void)
{
	int c[2], k[2];
	char a1[2] = "0", a2[2] = "0";
	char *argv[4], *envp[1] = { NULL };

	if (sys_pipe2(c, 0) || sys_pipe2(k, 0) || c[0] > 9 || k[1] > 9)
		return 0;
	a1[0] = '0' + c[0];
	a2[0] = '0' + k[1];
	argv[0] = "nommu_target";
	argv[1] = a1;
	argv[2] = a2;
	argv[3] = NULL;
	tpid = (int)vfork_exec("/selftests/vmatrack/bin/nommu_target", argv, envp);
	sys_close(c[0]);
	sys_close(k[1]);
	cmd_fd = c[1];
	ack_fd = k[0];
	if (tpid <= 0)
		return 0;
	fmt_ulong(tpid_s, tpid);
	memcpy(proc_maps, "/proc/", 6);
	memcpy(proc_maps + 6, tpid_s, str_len(tpid_s));
	memcpy(proc_maps + 6 + str_len(tpid_s), "/maps", 6);
	return target_answer() == 0; /* "k 0": ready */
}

#endif /* VMATRACK_NOMMU_SUITE_H */
