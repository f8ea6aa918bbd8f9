// SPDX-License-Identifier: GPL-2.0
/*
 * cat FILE... for the nommu guests, which have no shell or busybox:
 * `qemu/run --arch m68k-nommu -- cat /sys/kernel/debug/vmatrack/selftest`.
 * Exit status 1 if a file cannot be read.
 */
#include "nommu.h"

static char buf[4096];

int main(int argc, char **argv, char **envp)
{
	int rc = 0;

	(void)envp;
	for (int i = 1; i < argc; i++) {
		long fd = sys_openat(argv[i], O_RDONLY, 0), n;

		if (fd < 0) {
			put("cat: ");
			put(argv[i]);
			put(": error ");
			put_num(-fd);
			put("\n");
			rc = 1;
			continue;
		}
		while ((n = sys_read(fd, buf, sizeof(buf))) > 0)
			sys_write(1, buf, n);
		if (n < 0)
			rc = 1;
		sys_close(fd);
	}
	return rc;
}
