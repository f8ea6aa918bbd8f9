// SPDX-License-Identifier: GPL-2.0
/*
 * forker: a parent that forks children one after another, each changing
 * its own VMAs and exiting, as the kselftest harness runs its tests. For
 * vmatrack's `follow` mode.
 *
 * usage: forker [-n CHILDREN] [-k OPS] [-d DELAY]
 * Waits DELAY seconds (so `follow PID` can be written), then forks
 * CHILDREN children in turn; each makes OPS random mmap/mprotect/munmap
 * changes in an arena of its own and exits. Exit status: 0 when every
 * child exited 0.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int child(unsigned long ops, uint64_t s)
{
	long page = sysconf(_SC_PAGESIZE);
	char *arena = mmap(NULL, 64 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (arena == MAP_FAILED)
		return 1;
	for (unsigned long i = 0; i < ops; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		char *a = arena + (s % 60) * page;
		size_t len = (1 + (s >> 8) % 4) * page;

		switch ((s >> 16) % 3) {
		case 0:
			mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		case 1:
			mprotect(a, len, (s >> 20) % 2 ? PROT_READ : PROT_NONE);
			break;
		default:
			mmap(a, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n = 4, ops = 300, delay = 0;
	int opt, failed = 0;

	while ((opt = getopt(argc, argv, "n:k:d:")) != -1) {
		switch (opt) {
		case 'n': n = strtoul(optarg, NULL, 0); break;
		case 'k': ops = strtoul(optarg, NULL, 0); break;
		case 'd': delay = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-n CHILDREN] [-k OPS] [-d DELAY]\n", argv[0]);
			return 2;
		}
	}
	sleep(delay);
	for (unsigned long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0)
			_exit(child(ops, 0x9e3779b97f4a7c15ULL * (i + 1)));
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	}
	printf("forker: children=%lu failed=%d\n", n, failed);
	return failed ? 1 : 0;
}
