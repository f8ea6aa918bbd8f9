// SPDX-License-Identifier: GPL-2.0
/*
 * exec_on_signal: wait until FIFO can be read, then exec PROG with ARGS.
 *
 * usage: exec_on_signal FIFO PROG [ARGS...]
 *
 * Lets a test attach vmatrack to a process before it becomes PROG, with no
 * shell (and none of a shell's own children) in between.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char c;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: %s FIFO PROG [ARGS...]\n", argv[0]);
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
