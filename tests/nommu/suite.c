// SPDX-License-Identifier: GPL-2.0
/*
 * nommu_suite: the riscv64-nommu guest's tests of vmatrack, KTAP.
 *
 * One behaviour per test. The target is nommu_target, started with
 * vfork+exec and driven over two pipes, so it is quiescent whenever its
 * maps are compared. What nommu cannot do (fork with copied VMAs,
 * mprotect) is skipped with the reason. The output has the shape of the
 * kselftest runner's ("# ok N ..." leaves, then "ok 1 selftests: ..."),
 * which scripts/check counts.
 */
#include "suite.h"

/* The hits of probe @name in `probes`, or -1. */
static long probe_hits(const char *name)
{
	const char *l;

	if (read_file(DBG "probes", buf_a, BUF) <= 0 || !(l = str_str(buf_a, name)))
		return -1;
	return field(l, "hits");
}

int main(int argc, char **argv, char **envp)
{
	long v, r, ev, rs, addr;
	int ok;

	(void)argc, (void)argv, (void)envp;
	if (suite_start("nommu_suite", 20))
		return 1;

	/* 2 */
	ok = suite_attach(" comm=nommu_target mode=single state=live ");
	ktap_result(ok, "writing a vfork'd child's pid to target attaches to it", NULL);
	if (!ok) {
		return suite_bail_out("cannot attach");
	}

	/* 3 */
	ktap_result(maps_equal(), "maps equals /proc/PID/maps of a quiescent target", NULL);
	/* 4 */
	ktap_result(check_ok(), "check compares the shadow with the kernel's tree: ok", NULL);

	/* 5 */
	r = read_file(DBG "probes", buf_a, BUF);
	ok = r > 0 && str_starts(buf_a, "# registered ") && !str_str(buf_a, "__vma_start_write");
	{
		static const char *const names[] = { "mas_store_prealloc", "mas_store_gfp", "exit_mmap",
						     "sched_post_fork", "begin_new_exec" };
		for (int i = 0; i < 5; i++) {
			const char *l = str_str(buf_a, names[i]);

			ok = ok && l && l[str_len(names[i])] == ' ' &&
			     field(l, "nmissed") == 0;
		}
	}
	if (!ok)
		show("probes: ", buf_a);
	ktap_result(ok, "probes: the five store/exit/fork/exec probes, none missed, no __vma_start_write", NULL);

	/* 6, 7: live changes arrive through the store probes, no resync. */
	ev = target_field("events");
	rs = target_field("resyncs");
	v = target_do('m');
	ok = v == 0 && target_field("events") >= ev + 6 && target_field("resyncs") == rs &&
	     check_ok() && maps_equal() && target_field("resyncs") == rs;
	ktap_result(ok, "mmap of six regions by the target arrives live (events grow, no resync)", NULL);
	ev = target_field("events");
	v = target_do('u');
	ok = v == 0 && target_field("events") >= ev + 3 && check_ok() && maps_equal() &&
	     target_field("resyncs") == rs;
	ktap_result(ok, "munmap of three regions by the target arrives live (events grow, no resync)", NULL);

	/* 8: nommu mremap moves vm_end in place, with no tree store. */
	addr = target_do('s');
	ok = addr > 0 && maps_differ_only_at(addr, 4 * PAGE, PAGE);
	r = read_file(DBG "check", buf_a, BUF);
	{
		char note[96] = "# nommu mremap: ";
		char *p = note + str_len(note);

		fmt_range(p, addr, addr + 4 * PAGE);
		/* fmt_range pads to 8 digits; the note uses %x: same for these addresses. */
		p += str_len(p);
		memcpy(p, " in the tree, vm_end ", 22);
		fmt_hex8(p + str_len(p), addr + PAGE);
		ok = ok && r > 0 && str_starts(buf_a, note) && str_str(buf_a, "\nok vmas=") &&
		     target_field("resyncs") == rs;
		show("check: ", buf_a);
	}
	ktap_result(ok, "mremap shrink in place: the shadow keeps the tree's range, check ok with a note", NULL);
	/* 9 */
	v = target_do('g');
	ok = v == addr && maps_equal() && check_ok();
	ktap_result(ok, "mremap grow back in place: maps equal /proc/PID/maps again, check ok", NULL);

	/* 10 */
	{
		static const char *const bad[] = { "abc\n", "12x\n", "-1\n", " 1\n", "+1\n", "1 2\n",
						   "99999999\n", "2\n",
						   "1111111111111111111111111111111111111111111111111111"
						   "1111111111111111111111111111111111111111111111111111"
						   "1111111111111111111111111111111111111111111111111111\n" };
		ok = 1;
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = write_target(bad[i]);
			if (r != -EINVAL) {
				char n[24];

				ok = 0;
				ktap_diag("not EINVAL for: ", bad[i]);
				ktap_diag("got -", fmt_ulong(n, -r));
			}
		}
		ok = ok && target_field("pid") == tpid;
	}
	ktap_result(ok, "bad writes to target return EINVAL and change nothing", NULL);
	/* 11 */
	r = write_target("4000\n");
	ok = r == -ESRCH && target_field("pid") == tpid;
	ktap_result(ok, "an unknown pid returns ESRCH and changes nothing", NULL);

	/* 12 */
	v = target_do('p');
	if (v == -ENOSYS) {
		ktap_result(1, "mprotect split mirrored", "nommu: mprotect returns ENOSYS (no in-place flag changes)");
	} else {
		ok = v == 0 && check_ok() && maps_equal();
		ktap_result(ok, "mprotect split mirrored", NULL);
	}
	/* 13 */
	ktap_result(1, "fork: follow moves to a child with the parent's VMAs copied",
		    "nommu: no fork; clone without CLONE_VM copies no VMAs (dup_mmap copies only the exe file)");

	/* 14, 15: partial munmap goes through mas_store_gfp on nommu. */
	ev = target_field("events");
	v = target_do('h');
	ok = v == 0 && target_field("events") > ev && check_ok() && maps_equal() &&
	     target_field("resyncs") == rs && probe_hits("mas_store_gfp") > 0;
	ktap_result(ok, "munmap of a region's last page (vmi_shrink_vma, mas_store_gfp) arrives live", NULL);
	ev = target_field("events");
	v = target_do('H');
	ok = v == 0 && target_field("events") >= ev + 2 && check_ok() && maps_equal() &&
	     target_field("resyncs") == rs;
	ktap_result(ok, "munmap of a middle page (split_vma, then shrink) arrives live", NULL);

	/* 16 */
	ev = target_field("events");
	addr = target_do('S');
	ok = addr > 0 && target_field("events") > ev && check_ok() && maps_equal() &&
	     read_file(DBG "maps", buf_a, BUF) > 0 && str_str(buf_a, " rw-S ");
	ktap_result(ok, "a shared writable mapping arrives live and shows as rw-S, as nommu's /proc does", NULL);

	/* 17 */
	v = target_do('U');
	ok = v == 0 && check_ok() && maps_equal();
	target_do('q');
	{
		int st = 0;

		sys_wait4(tpid, &st, 0);
	}
	ok = ok && read_file(DBG "target", buf_t, BUF) > 0 && str_str(buf_t, " state=exited ") &&
	     read_file(DBG "check", buf_a, BUF) > 0 && str_eq(buf_a, "# exited\n");
	if (!ok)
		show("target: ", buf_t);
	ktap_result(ok, "the target unmaps the rest and exits: state=exited, check says so", NULL);

	/* 18: follow's exit check compares the tree's ranges, as check does. */
	{
		long okc = target_field("exit_checks_ok"), bad = target_field("exit_checks_failed");
		char w[40] = "follow ";
		int st = 0;

		ok = start_target();
		memcpy(w + 7, tpid_s, str_len(tpid_s));
		memcpy(w + 7 + str_len(tpid_s), "\n", 2);
		ok = ok && write_target(w) == 0 && target_do('m') == 0 && (addr = target_do('s')) > 0 &&
		     maps_differ_only_at(addr, 4 * PAGE, PAGE);
		target_do('q');
		sys_wait4(tpid, &st, 0);
		ok = ok && target_field("exit_checks_ok") == okc + 1 &&
		     target_field("exit_checks_failed") == bad;
		if (!ok)
			show("target: ", buf_t);
	}
	ktap_result(ok, "follow: a process exiting with an mremap-shrunk VMA passes the exit check", NULL);

	/* 19 */
	ok = write_target("none\n") == 0 && read_file(DBG "target", buf_t, BUF) > 0 &&
	     str_str(buf_t, " state=detached ") && read_file(DBG "probes", buf_a, BUF) > 0 &&
	     str_starts(buf_a, "# registered ") && !str_str(buf_a, " armed=off\n");
	ktap_result(ok, "writing none detaches; the probes stay registered and armed (no text patched)", NULL);

	/* 20 */
	r = sys_delete_module("vmatrack", O_NONBLOCK);
	ktap_result(r == 0, "the module unloads (delete_module)", NULL);

	return suite_end();
}
