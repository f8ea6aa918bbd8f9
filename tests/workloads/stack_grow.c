// SPDX-License-Identifier: GPL-2.0
/*
 * stack_grow: make the kernel grow this process's stack from inside a
 * system call, the deepest way a VMA store of a mirrored process is made.
 *
 * usage: stack_grow FIFO
 *
 * Prints "ready", waits until FIFO can be read (the test attaches in
 * between), then read(2)s a pipe into a buffer 64 KiB below the [stack]
 * VMA: the kernel's copy_to_user() faults there and expands the stack
 * (expand_downwards(), a maple tree store under the mmap write lock) from
 * a page fault taken inside pipe_read(). Prints "done" when the stack VMA
 * has grown, then sleeps until killed. Exit status 1 when a step fails.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The start of the [stack] VMA, or 0. */
static unsigned long stack_start(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo = 0, hi;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
	if (f)
		fclose(f);
	return lo;
}

int main(int argc, char **argv)
{
	static char data[4096];
	unsigned long lo, now;
	int fd, p[2];
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FIFO\n", argv[0]);
		return 2;
	}
	lo = stack_start();
	if (!lo || pipe(p) || write(p[1], data, sizeof(data)) != sizeof(data)) {
		perror("stack_grow: setup");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1) {
		perror("stack_grow: fifo");
		return 1;
	}
	if (read(p[0], (char *)(lo - 65536), sizeof(data)) != sizeof(data)) {
		perror("stack_grow: read below the stack");
		return 1;
	}
	now = stack_start();
	if (now > lo - 65536) {
		fprintf(stderr, "stack_grow: [stack] starts at %lx, not below %lx\n", now, lo - 65536);
		return 1;
	}
	printf("done\n");
	fflush(stdout);
	for (;;)
		pause();
}
