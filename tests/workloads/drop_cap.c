// SPDX-License-Identifier: GPL-2.0
/*
 * drop_cap: run a program as root without one capability.
 *
 * usage: drop_cap CAP PROG [ARGS...]
 *
 * Drops capability number CAP (e.g. 19, CAP_SYS_PTRACE) from the bounding
 * set and execs PROG (looked up in PATH) with ARGS. The user ids stay 0, so
 * file permissions still let PROG open root's files; exec computes the new
 * permitted set from the bounding set, so PROG runs without CAP and cannot
 * get it back. Exit status: PROG's, or 126 when the drop fails, 127 when
 * exec fails.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s CAP PROG [ARGS...]\n", argv[0]);
		return 2;
	}
	if (prctl(PR_CAPBSET_DROP, atoi(argv[1]), 0, 0, 0)) {
		perror("drop_cap: PR_CAPBSET_DROP");
		return 126;
	}
	execvp(argv[2], argv + 2);
	perror("drop_cap: exec");
	return 127;
}
