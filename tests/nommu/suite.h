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

/*
 * Reads `check` into buf_a, and into @want the line a good check ends with:
 * "ok vmas=N\n" for N = the target's VMAs as /proc counts them. 0 if a read
 * fails.
 */
static inline int check_expect(char want[48])
{
	if (read_file(proc_maps, buf_b, BUF) <= 0 || read_file(DBG "check", buf_a, BUF) < 0)
		return 0;
	memcpy(want, "ok vmas=", 9);
	fmt_ulong(want + 8, count_lines(buf_b));
	memcpy(want + str_len(want), "\n", 2);
	return 1;
}

/* check says exactly "ok vmas=N" for N = the target's VMAs (no notes). */
static inline int check_ok(void)
{
	char want[48];

	if (!check_expect(want))
		return 0;
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

/* The suite's name, for the runner-shaped first and last lines. */
static const char *suite_name;

/* Ends the suite: "ok/not ok 1 selftests: vmatrack: NAME". Returns the exit code. */
static inline int suite_bail_out(const char *why)
{
	put("# Bail out! ");
	put(why);
	put("\nnot ok 1 selftests: vmatrack: ");
	put(suite_name);
	put("\n");
	return 1;
}

/*
 * suite_start() - the kselftest runner's framing for suite @name with
 * @tests leaves, then test 1: the module loaded and `version` reads.
 * Return: 0 to go on, or the exit code after a bail-out.
 */
static inline int suite_start(const char *name, int tests)
{
	char line[64];
	long v, r;
	int ok;

	suite_name = name;
	put("TAP version 13\n1..1\n# selftests: vmatrack: ");
	put(name);
	put("\n");
	if (suite_init())
		return suite_bail_out("no memory for buffers");
	put("# TAP version 13\n# 1..");
	put_num(tests);
	put("\n");
	v = read_file("/tmp/insmod.rc", line, sizeof(line));
	r = read_file(DBG "version", buf_a, BUF);
	ok = v > 0 && str_eq(line, "0\n") && r > 1 && buf_a[r - 1] == '\n';
	ktap_diag(ok ? "version " : "finit_module: ", ok ? buf_a : line);
	ktap_result(ok, "module loaded (finit_module) and version readable", NULL);
	return ok ? 0 : suite_bail_out("vmatrack is not loaded");
}

/*
 * suite_attach() - start nommu_target and write its pid to `target`;
 * passes when `target` then reads with its pid and holds @want (e.g.
 * " comm=nommu_target mode=single state=live ").
 */
static inline int suite_attach(const char *want)
{
	char w[32];
	int ok;

	if (!start_target())
		return 0;
	memcpy(w, tpid_s, str_len(tpid_s));
	memcpy(w + str_len(tpid_s), "\n", 2);
	ok = write_target(w) == 0 && read_file(DBG "target", buf_t, BUF) > 0 &&
	     field(buf_t, "pid") == tpid && str_str(buf_t, want);
	show("target: ", buf_t);
	return ok;
}

/* suite_end() - the totals and the runner's last line; returns the exit code. */
static inline int suite_end(void)
{
	put("# # Totals: pass:");
	put_num(ktap_n - ktap_fails - ktap_skips);
	put(" fail:");
	put_num(ktap_fails);
	put(" skip:");
	put_num(ktap_skips);
	put("\n");
	put(ktap_fails ? "not ok 1 selftests: vmatrack: " : "ok 1 selftests: vmatrack: ");
	put(suite_name);
	put("\n");
	return ktap_fails ? 1 : 0;
}

#endif /* VMATRACK_NOMMU_SUITE_H */
