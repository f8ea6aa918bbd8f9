// SPDX-License-Identifier: GPL-2.0
/*
 * spawner: what a mirrored process does that is not about its own VMAs,
 * but must not change which process is mirrored or what its maps say.
 *
 * usage: spawner FIFO vfork|posix_spawn|system
 *        spawner FIFO rename OLD NEW
 *        spawner at-pid N
 *
 * The FIFO forms set up, print "ready", wait until FIFO can be read (the
 * test attaches in between), then act, map one more anonymous page,
 * print "done" and sleep until killed:
 *   vfork        vfork() + execve("/bin/true"): the child runs on this
 *                process's mm until its exec
 *   posix_spawn  posix_spawn("/bin/true"), which glibc does with
 *                clone(CLONE_VM | CLONE_VFORK)
 *   system       system("true"), also a CLONE_VM | CLONE_VFORK child
 *   rename       maps OLD (read-only, shared) before "ready"; after the
 *                signal renames OLD to NEW and maps NEW once more
 * Each child is waited for, so "done" means the child has exec'd and
 * exited.
 *
 * at-pid: forks a child that gets pid N exactly (clone3 with set_tid, which
 * needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), prints the child's pid
 * and returns; the child sleeps until killed. This is how a test reuses
 * the pid of a process that has exited.
 *
 * Exit status 0 on success, 1 on a failed step (named on stderr), 2 usage.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what)
{
	perror(what);
	return 1;
}

/* Maps @path read-only and shared (a file VMA with the file's path). */
static int map_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	void *p;

	if (fd < 0)
		return fail(path);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? fail("mmap file") : 0;
}

/* Waits for child @pid to exit with status 0. */
static int reap(pid_t pid)
{
	int status;

	if (pid < 0)
		return fail("spawn");
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int act(const char *how, char **argv)
{
	char *const child_argv[] = { "true", NULL };
	pid_t pid;

	if (!strcmp(how, "vfork")) {
		pid = vfork();
		if (pid == 0) {
			execve("/bin/true", child_argv, environ);
			_exit(127);
		}
		return reap(pid);
	}
	if (!strcmp(how, "posix_spawn")) {
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, child_argv, environ))
			return fail("posix_spawn");
		return reap(pid);
	}
	if (!strcmp(how, "system"))
		return system("true") == 0 ? 0 : fail("system");
	if (!strcmp(how, "rename")) {
		if (rename(argv[0], argv[1]))
			return fail("rename");
		return map_file(argv[1]);
	}
	return 2;
}

/* A child with pid @nr (clone3's set_tid) that sleeps until killed. */
static int at_pid(const char *nr)
{
	pid_t want = atoi(nr), pid;
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&want,
		.set_tid_size = 1,
	};

	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return fail("clone3 set_tid");
	if (pid == 0) {
		/* Not holding the caller's output open: $(spawner ...) returns. */
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		for (;;)
			pause();
	}
	printf("%d\n", pid);
	return 0;
}

int main(int argc, char **argv)
{
	char c;
	int fd, r;

	if (argc == 3 && !strcmp(argv[1], "at-pid"))
		return at_pid(argv[2]);
	if (argc < 3 || (!strcmp(argv[2], "rename") && argc != 5)) {
		fprintf(stderr, "usage: %s FIFO vfork|posix_spawn|system|rename OLD NEW\n"
				"       %s at-pid N\n", argv[0], argv[0]);
		return 2;
	}
	if (!strcmp(argv[2], "rename") && map_file(argv[3]))
		return 1;
	printf("ready\n");
	fflush(stdout);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1)
		return fail("fifo");
	r = act(argv[2], argv + 3);
	if (r)
		return r;
	if (mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0) == MAP_FAILED)
		return fail("mmap");
	printf("done\n");
	fflush(stdout);
	for (;;)
		pause();
}
