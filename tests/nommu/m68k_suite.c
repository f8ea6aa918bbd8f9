// SPDX-License-Identifier: GPL-2.0
/*
 * nommu_m68k_suite: the m68k-nommu (ColdFire) guest's tests of vmatrack,
 * KTAP.
 *
 * The module there is a snapshot mirror (no kprobes on m68k): every read
 * of a file syncs the shadow from the target's VMA tree first. So the
 * module's own `check` cannot be independent, and these tests check the
 * shadow against what they know instead: the kernel's /proc/PID/maps
 * (rendered by task_nommu.c, not by vmatrack) and the addresses the
 * target reports for the regions it mapped. The `stats` counts are
 * checked against the exact change each step makes. One behaviour per
 * test; what nommu cannot do is skipped with the reason.
 */
#include "suite.h"

/* The selftest file: KTAP with no "not ok" and every case reported. */
static int selftest_ok(void)
{
	long r = read_file(DBG "selftest", buf_a, BUF);

	if (r > 0 && str_starts(buf_a, "TAP version 13\n1..8\n") && !str_str(buf_a, "not ok") &&
	    str_str(buf_a, "\nok 8 no_block_leaked\n"))
		return 1;
	if (r < 0) {
		char n[24];

		ktap_diag("selftest: read failed: -", fmt_ulong(n, -r));
		return 0;
	}
	show("selftest: ", buf_a);
	return 0;
}

/* `check`: the skip line with its reason, then "ok vmas=N", N counted in /proc. */
static int check_skips_and_validates(void)
{
	char want[48];
	const char *ok;

	if (!check_expect(want))
		return 0;
	ok = str_str(buf_a, "\nok vmas=");
	if (str_starts(buf_a, "# SKIP compare with the kernel's tree: ") && ok && str_eq(ok + 1, want))
		return 1;
	show("check: ", buf_a);
	return 0;
}

/* The last sync's added/removed/changed counts in `stats` are exactly these. */
static int last_snapshot_is(const char *counts)
{
	const char *l;

	if (read_file(DBG "stats", buf_a, BUF) <= 0 || !(l = str_str(buf_a, "\nlast_snapshot ")))
		return 0;
	l += str_len("\nlast_snapshot ");
	if (str_starts(l, counts) && str_starts(l + str_len(counts), " kept="))
		return 1;
	show("stats: ", buf_a);
	return 0;
}

/* Region @i of the target (0..5, i + 1 pages) is one line of maps, rw-p. */
static int region_in_maps(int i, int pages)
{
	char want[40];
	long addr = target_do('0' + i);

	if (addr <= 0 || read_file(DBG "maps", buf_a, BUF) < 0)
		return 0;
	fmt_range(want, addr, addr + pages * PAGE);
	memcpy(want + str_len(want), " rw-p ", 7);
	if (str_str(buf_a, want))
		return 1;
	ktap_diag("not in maps: ", want);
	return 0;
}

/*
 * Reads @path through in BUF-sized pieces into @buf: how many bytes and
 * lines it has, and (when @other is open) whether @other has the same
 * bytes. Files longer than BUF, such as maps at 5,000 VMAs, this way.
 */
static int stream_file(const char *path, char *buf, long other, long *bytes, long *lines)
{
	long fd = sys_openat(path, O_RDONLY, 0), n;
	int same = 1;

	*bytes = *lines = 0;
	if (fd < 0)
		return 0;
	while ((n = sys_read(fd, buf, BUF)) > 0) {
		*bytes += n;
		for (long i = 0; i < n; i++)
			*lines += buf[i] == '\n';
		if (other >= 0) {
			long got = 0, m;

			while (got < n && (m = sys_read(other, buf_b + got, n - got)) > 0)
				got += m;
			same = same && got == n && !memcmp(buf, buf_b, n);
		}
	}
	if (other >= 0 && sys_read(other, buf_b, 1) != 0)
		same = 0;
	sys_close(fd);
	return n == 0 && same;
}

/* The shadow's maps equals /proc/PID/maps, however long; @lines: its lines. */
static int big_maps_equal(long *lines)
{
	long other = sys_openat(proc_maps, O_RDONLY, 0), bytes;
	int ok;

	if (other < 0)
		return 0;
	ok = stream_file(DBG "maps", buf_a, other, &bytes, lines);
	sys_close(other);
	return ok;
}

/* The least stack the core had left, from `probes`; -1 if not shown. */
static long stack_least(void)
{
	const char *l;
	long v;

	if (read_file(DBG "probes", buf_t, BUF) <= 0 ||
	    !(l = str_str(buf_t, "\n# stack: least left below a core function's frame: ")))
		return -1;
	l += str_len("\n# stack: least left below a core function's frame: ");
	if (*l < '0' || *l > '9')
		return -1;
	for (v = 0; *l >= '0' && *l <= '9'; l++)
		v = v * 10 + (*l - '0');
	return v;
}

int main(int argc, char **argv, char **envp)
{
	long v, r, addr;
	int ok;

	(void)argc, (void)argv, (void)envp;
	if (suite_start("nommu_m68k_suite", 20))
		return 1;

	/* 2 */
	ok = read_file(DBG "probes", buf_a, BUF) > 0 && str_starts(buf_a, "# no probes: ");
	ktap_result(ok, "probes says there are none (snapshot mirror)", NULL);
	/* 3 */
	ktap_result(selftest_ok(), "selftest: the Rust core's random cases pass inside the ColdFire kernel", NULL);

	/* 4 */
	ok = suite_attach(" comm=nommu_target mode=snapshot state=snapshot ");
	ktap_result(ok, "writing a vfork'd child's pid to target attaches to it", NULL);
	if (!ok) {
		return suite_bail_out("cannot attach");
	}

	/* 5 */
	ktap_result(maps_equal(), "maps equals /proc/PID/maps of a quiescent target", NULL);
	/* 6 */
	ktap_result(check_skips_and_validates(),
		    "check validates the shadow and skips the self-comparison, saying why", NULL);

	/* 7, 8, 9: each read syncs, so the counts are those of this step alone. */
	read_file(DBG "stats", buf_a, BUF);
	v = target_do('m');
	ok = v == 0 && last_snapshot_is("added=6 removed=0 changed=0");
	ktap_result(ok, "stats: the next snapshot after six mmaps adds exactly six VMAs", NULL);
	ok = maps_equal();
	ktap_result(ok, "maps equals /proc/PID/maps after the mmaps", NULL);
	ok = 1;
	for (int i = 0; i < 6; i++)
		ok = region_in_maps(i, i + 1) && ok;
	ktap_result(ok, "each mapped region is in maps at the address the target got", NULL);

	/* 10 */
	v = target_do('u');
	ok = v == 0 && last_snapshot_is("added=0 removed=3 changed=0") && maps_equal();
	ktap_result(ok, "munmap of three regions: three removed, maps equal /proc", NULL);

	/* 11, 12: nommu mremap moves vm_end in place, with no tree store. */
	addr = target_do('s');
	ok = addr > 0 && maps_differ_only_at(addr, 4 * PAGE, PAGE);
	ktap_result(ok, "mremap shrink in place: the shadow keeps the tree's range (/proc shows vm_end)", NULL);
	v = target_do('g');
	ok = v == addr && maps_equal();
	ktap_result(ok, "mremap grow back in place: maps equal /proc/PID/maps again", NULL);

	/* 13 */
	{
		static const char *const bad[] = { "", "abc\n", "12x\n", "-1\n", " 1\n", "+1\n", "1 2\n",
						   "99999999\n", "2\n", "follow 1\n",
						   "1111111111111111111111111111111111111111\n" };
		static const int err[] = { EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL,
					   EINVAL, EINVAL, 95 /* EOPNOTSUPP */, EINVAL };
		ok = 1;
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = write_target(bad[i]);
			if (r != -err[i]) {
				char n[24];

				ok = 0;
				ktap_diag("wrong errno for: ", bad[i]);
				ktap_diag("got -", fmt_ulong(n, -r));
			}
		}
		ok = ok && write_target("4000\n") == -ESRCH && target_field("pid") == tpid;
	}
	ktap_result(ok, "bad target writes: EINVAL (kernel thread too), EOPNOTSUPP for follow, ESRCH; nothing changes",
		    NULL);

	/* 13b: each write(2) is one whole command, from offset 0. */
	{
		char cmd[32];
		long fd = sys_openat(DBG "target", O_WRONLY, 0);
		size_t n = str_len(tpid_s);

		memcpy(cmd, tpid_s, n);
		cmd[n++] = '\n';
		ok = fd >= 0 && sys_write(fd, cmd, n) == (long)n &&
		     sys_write(fd, "0\n", 2) == -EINVAL && target_field("pid") == tpid;
		if (fd >= 0)
			sys_close(fd);
	}
	ktap_result(ok, "a second write on one open file (a split write's tail) gets EINVAL; nothing changes",
		    NULL);

	/* 14 */
	ok = write_file(DBG "stats", "bogus\n", 6) == -EINVAL && write_file(DBG "stats", "", 0) == -EINVAL &&
	     write_file(DBG "stats", "reset\n", 6) == 0 && read_file(DBG "stats", buf_a, BUF) > 0 &&
	     str_str(buf_a, "\nvmas_added 0\n") && str_str(buf_a, "\nsnapshots 1\n");
	if (!ok)
		show("stats: ", buf_a);
	ktap_result(ok, "stats: reset zeroes the totals, anything else is EINVAL", NULL);

	/* 15 */
	v = target_do('p');
	if (v == -ENOSYS)
		ktap_result(1, "mprotect mirrored", "nommu: mprotect returns ENOSYS (no in-place flag changes)");
	else
		ktap_result(v == 0 && maps_equal(), "mprotect mirrored", NULL);

	/* 16 */
	addr = target_do('S');
	ok = addr > 0 && maps_equal() && read_file(DBG "maps", buf_a, BUF) > 0 && str_str(buf_a, " rw-S ");
	if (!ok && addr < 0) {
		char n[24];

		ktap_diag("mapping failed: -", fmt_ulong(n, -addr));
	}
	ktap_result(ok, "a shared writable mapping shows as rw-S, as nommu's /proc does", NULL);

	/*
	 * 17: the core's stack bound (rust/m68k/core.c) at 5,000 VMAs, under
	 * the kernel's SCHED_STACK_END_CHECK: maps, check and selftest run
	 * the core's deepest paths, and none may trap.
	 */
	v = target_do('B');
	{
		long lines = 0, least;
		char want[48], n[24];

		ok = v == MANY && big_maps_equal(&lines) && lines >= MANY;
		if (!ok) {
			ktap_diag(v < 0 ? "B answered -" : "B answered ", fmt_ulong(n, v < 0 ? -v : v));
			ktap_diag("maps lines: ", fmt_ulong(n, lines));
			if (read_file(DBG "maps", buf_a, BUF) > 0)
				show("maps: ", buf_a);
		}
		memcpy(want, "\nok vmas=", 10);
		fmt_ulong(want + 9, lines);
		ok = ok && read_file(DBG "check", buf_a, BUF) > 0 && str_str(buf_a, want);
		ok = ok && selftest_ok();
		least = stack_least();
		ktap_diag("least stack left below a core frame, bytes: ", least < 0 ? "not shown" : fmt_ulong(n, least));
		ok = ok && least >= 2048 && target_do('b') == 0 && maps_equal();
	}
	ktap_result(ok, "5,000 VMAs: maps, check and selftest run within the core's stack bound", NULL);

	/* 18 */
	v = target_do('U');
	ok = v == 0 && maps_equal();
	target_do('q');
	{
		int st = 0;

		sys_wait4(tpid, &st, 0);
	}
	ok = ok && read_file(DBG "target", buf_t, BUF) > 0 && str_str(buf_t, " state=exited ");
	if (!ok)
		show("target: ", buf_t);
	ktap_result(ok, "the target unmaps the rest and exits: state=exited", NULL);

	/* 19 */
	ok = write_target("none\n") == 0 && read_file(DBG "target", buf_t, BUF) > 0 &&
	     str_str(buf_t, " state=detached vmas=0 ") && read_file(DBG "maps", buf_a, BUF) == 0 &&
	     sys_delete_module("vmatrack", O_NONBLOCK) == 0;
	ktap_result(ok, "none detaches (maps empty) and the module unloads", NULL);

	return suite_end();
}
