// SPDX-License-Identifier: GPL-2.0
/*
 * as_nobody: run a program as the unprivileged user nobody.
 *
 * usage: as_nobody PROG [ARGS...]
 *
 * Drops the supplementary groups, then sets the group and user ids (real,
 * effective and saved) to 65534 and execs PROG (looked up in PATH) with
 * ARGS. Changing the user id away from 0 clears every capability, so PROG
 * runs with none (checked: setuid(0) must fail). The working directory is
 * kept: a caller can cd as root into a directory that nobody could not
 * reach (debugfs's top directory is 0700) and have PROG open names
 * relative to it. busybox has no su that works without a login setup.
 * Exit status: PROG's, or 126 when the switch fails, 127 when exec fails.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <unistd.h>

#define NOBODY 65534

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PROG [ARGS...]\n", argv[0]);
		return 2;
	}
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY)) {
		perror("as_nobody: switching to uid/gid 65534");
		return 126;
	}
	if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY ||
	    getegid() != NOBODY || setuid(0) == 0) {
		fprintf(stderr, "as_nobody: still privileged after the switch\n");
		return 126;
	}
	execvp(argv[1], argv + 1);
	perror("as_nobody: exec");
	return 127;
}
