// SPDX-License-Identifier: GPL-2.0
/*
 * exec_on_signal: wait until FIFO can be read, then exec PROG with ARGS.
 *
 * usage: exec_on_signal [-R] FIFO PROG [ARGS...]
 *
 * Lets a test attach vmatrack to a process before it becomes PROG, with no
 * shell (and none of a shell's own children) in between. -R runs PROG
 * without address space randomisation (setarch -R), for programs whose
 * outcome depends on where the kernel happens to place their mappings.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/personality.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char c;
	int fd;

	if (argc > 1 && !strcmp(argv[1], "-R")) {
		if (personality(ADDR_NO_RANDOMIZE) < 0) {
			perror("exec_on_signal: personality");
			return 1;
		}
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s [-R] FIFO PROG [ARGS...]\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1) {
		perror("exec_on_signal");
		return 1;
	}
	close(fd);
	execvp(argv[2], argv + 2);
	perror("exec_on_signal: exec");
	return 127;
}
