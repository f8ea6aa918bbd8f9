// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the nommu guests (no shell exists there): the nommu
 * counterpart of qemu/init. Mounts what the tests need, loads vmatrack
 * with finit_module (result in /tmp/insmod.rc), runs the command qemu/run
 * put in /cmd (whitespace-separated words, no quoting; a bare name is
 * looked up in /added, then /selftests/vmatrack/bin) in a vfork child,
 * reports its exit status behind this boot's token in /token, and powers
 * off.
 *
 * The guest's own output goes to its own port (GUEST_OUTPUT below), the
 * kernel console to another, so the host can tell them apart.
 */
#include "nommu.h"

/*
 * The guest's own output: riscv64's virt machine has one UART (the kernel
 * console), so a virtio console; ColdFire's mcf5208evb has three UARTs, the
 * kernel console on the first and the guest on the second.
 */
#if defined(__riscv)
#define GUEST_OUTPUT "/dev/hvc0"
#else
#define GUEST_OUTPUT "/dev/ttyS1"
#endif

static char cmd[1024], token[64], path[256];

static void cat_path(char *d, const char *a, const char *b)
{
	size_t n = str_len(a);

	memcpy(d, a, n);
	memcpy(d + n, b, str_len(b) + 1);
}

int main(int argc, char **argv, char **envp)
{
	char *args[17], *env[] = { "PATH=/added:/selftests/vmatrack/bin", "HOME=/", NULL };
	char rc[24], *p;
	int n = 0, st = 0;
	long fd, r, pid;

	(void)argc, (void)argv, (void)envp;
	sys_mount("proc", "/proc", "proc", 0, NULL);
	sys_mount("sysfs", "/sys", "sysfs", 0, NULL);
	sys_mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	sys_mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	sys_mkdir("/tmp", 0755);

	fd = sys_openat(GUEST_OUTPUT, O_RDWR | O_NOCTTY, 0);
	if (fd >= 0) {
		sys_dup3(fd, 1, 0);
		sys_dup3(fd, 2, 0);
		if (fd > 2)
			sys_close(fd);
	}
	fd = sys_openat("/dev/null", O_RDONLY, 0);
	if (fd > 0) {
		sys_dup3(fd, 0, 0);
		sys_close(fd);
	}

	fd = sys_openat("/lib/modules/vmatrack.ko", O_RDONLY | O_CLOEXEC, 0);
	r = fd < 0 ? fd : sys_finit_module(fd, "", 0);
	if (fd >= 0)
		sys_close(fd);
	fmt_ulong(rc, r < 0 ? -r : 0);
	cat_path(path, rc, "\n");
	fd = sys_openat("/tmp/insmod.rc", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		sys_write(fd, path, str_len(path));
		sys_close(fd);
	}

	read_file("/token", token, sizeof(token));
	for (p = token; *p; p++)
		if (*p == '\n')
			*p = 0;
	read_file("/cmd", cmd, sizeof(cmd));
	for (p = cmd; *p && n < 16;) {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		args[n++] = p;
		while (*p && *p != ' ' && *p != '\n' && *p != '\t')
			p++;
	}
	args[n] = NULL;

	pid = -ENOENT;
	if (n && str_starts(args[0], "/")) {
		pid = vfork_exec(args[0], args, env);
	} else if (n) {
		static const char *const dirs[] = { "/added/", "/selftests/vmatrack/bin/" };

		for (unsigned i = 0; i < 2; i++) {
			cat_path(path, dirs[i], args[0]);
			fd = sys_openat(path, O_RDONLY, 0);
			if (fd < 0)
				continue;
			sys_close(fd);
			pid = vfork_exec(path, args, env);
			break;
		}
	}
	if (pid > 0 && sys_wait4((int)pid, &st, 0) == pid)
		st = (st & 0x7f) ? 128 + (st & 0x7f) : (st >> 8) & 0xff;
	else
		st = 127;
	put("\nvmatrack-guest-exit ");
	put(token);
	put(" ");
	put_num(st);
	put("\n");
#if defined(__riscv)
	sys_reboot(REBOOT_POWER_OFF);
#else
	/* ColdFire has no power off (it would halt); a reset ends QEMU (-no-reboot). */
	sys_reboot(REBOOT_RESTART);
#endif
	sys_exit(0);
}
