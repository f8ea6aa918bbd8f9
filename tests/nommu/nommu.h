/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The whole "libc" of the nommu guests (riscv64 and m68k ColdFire): raw
 * syscalls, a few string helpers, file helpers and KTAP printing. A nommu
 * guest has no shell and Debian has no nommu libc, so /init, the suites
 * and their target are freestanding static-pie programs (clang for
 * riscv64, m68k-linux-gnu-gcc -mcpu=5208 for ColdFire, see scripts/build-tests)
 * loaded by the kernel's FDPIC ELF loader.
 *
 * Rules that keep such a program working without a dynamic linker:
 * - _start relocates the program itself (R_*_RELATIVE only) before any
 *   C code runs, so pointers in initialised data are fine;
 * - no fork(): nommu has none; vfork_exec() does clone(CLONE_VM |
 *   CLONE_VFORK) and execve() in one asm block, so the child never
 *   touches the parent's stack.
 */
#ifndef VMATRACK_NOMMU_H
#define VMATRACK_NOMMU_H

typedef __SIZE_TYPE__ size_t;
typedef long ssize_t;
typedef __UINTPTR_TYPE__ uintptr_t;

#define NULL ((void *)0)

#if defined(__riscv)
/* asm-generic/unistd.h numbers (riscv64). */
#define __NR_dup3 24
#define __NR_unlinkat 35
#define __NR_ftruncate 46
#define __NR_mkdirat 34
#define __NR_mount 40
#define __NR_pipe2 59
#define __NR_openat 56
#define __NR_close 57
#define __NR_read 63
#define __NR_write 64
#define __NR_exit 93
#define __NR_exit_group 94
#define __NR_nanosleep 101
#define __NR_delete_module 106
#define __NR_kill 129
#define __NR_reboot 142
#define __NR_getpid 172
#define __NR_munmap 215
#define __NR_mremap 216
#define __NR_clone 220
#define __NR_execve 221
#define __NR_mmap 222
#define __NR_mprotect 226
#define __NR_wait4 260
#define __NR_finit_module 273
#elif defined(__mcoldfire__)
/* arch/m68k/kernel/syscalls/syscall.tbl numbers (m68k). */
#define __NR_exit 1
#define __NR_read 3
#define __NR_write 4
#define __NR_close 6
#define __NR_execve 11
#define __NR_getpid 20
#define __NR_mount 21
#define __NR_kill 37
#define __NR_ftruncate 93
#define __NR_reboot 88
#define __NR_munmap 91
#define __NR_wait4 114
#define __NR_clone 120
#define __NR_mprotect 125
#define __NR_delete_module 129
#define __NR_nanosleep 162
#define __NR_mremap 163
#define __NR_vfork 190
#define __NR_mmap2 192
#define __NR_exit_group 247
#define __NR_openat 288
#define __NR_unlinkat 294
#define __NR_mkdirat 289
#define __NR_dup3 326
#define __NR_pipe2 327
#define __NR_finit_module 348
#else
#error "nommu.h: riscv64 or ColdFire only"
#endif

#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_EXCL 0200
#define O_NONBLOCK 04000
#define O_CLOEXEC 02000000
#define O_NOCTTY 0400
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_SHARED 1
#define MAP_PRIVATE 2
#define MAP_ANONYMOUS 0x20
#define MAP_FAILED ((void *)-1)
#define CLONE_VM 0x100
#define CLONE_VFORK 0x4000
#define SIGKILL 9
#define SIGCHLD 17
#define O_TRUNC_CREAT (O_CREAT | O_TRUNC)
/* PAGE_SIZE: ColdFire's MMU-less kernels use 8 KiB pages. */
#if defined(__mcoldfire__)
#define PAGE 8192UL
#else
#define PAGE 4096UL
#endif
/*
 * nommu_target's B command: this many one-page regions, each its own VMA
 * (nommu never merges), for the core's stack bound on m68k.
 */
#define MANY 5000

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSYS 38

#if defined(__riscv)
static inline long __sc6(long n, long a, long b, long c, long d, long e, long f)
{
	register long a0 __asm__("a0") = a;
	register long a1 __asm__("a1") = b;
	register long a2 __asm__("a2") = c;
	register long a3 __asm__("a3") = d;
	register long a4 __asm__("a4") = e;
	register long a5 __asm__("a5") = f;
	register long a7 __asm__("a7") = n;

	__asm__ volatile("ecall"
			 : "+r"(a0)
			 : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7)
			 : "memory");
	return a0;
}
#else
static inline long __sc6(long n, long a, long b, long c, long d, long e, long f)
{
	register long d0 __asm__("d0") = n;
	register long d1 __asm__("d1") = a;
	register long d2 __asm__("d2") = b;
	register long d3 __asm__("d3") = c;
	register long d4 __asm__("d4") = d;
	register long d5 __asm__("d5") = e;
	register long a0 __asm__("a0") = f;

	__asm__ volatile("trap #0"
			 : "+r"(d0)
			 : "r"(d1), "r"(d2), "r"(d3), "r"(d4), "r"(d5), "r"(a0)
			 : "memory");
	return d0;
}
#endif
#define sc(n, a, b, c, d, e, f) \
	__sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* Every wrapper returns the kernel's value: >= 0, or -errno. */
static inline long sys_openat(const char *p, int fl, int mode) { return sc(__NR_openat, AT_FDCWD, p, fl, mode, 0, 0); }
static inline long sys_close(int fd) { return sc(__NR_close, fd, 0, 0, 0, 0, 0); }
static inline long sys_read(int fd, void *b, size_t n) { return sc(__NR_read, fd, b, n, 0, 0, 0); }
static inline long sys_write(int fd, const void *b, size_t n) { return sc(__NR_write, fd, b, n, 0, 0, 0); }
static inline long sys_pipe2(int fds[2], int fl) { return sc(__NR_pipe2, fds, fl, 0, 0, 0, 0); }
static inline long sys_dup3(int a, int b, int fl) { return sc(__NR_dup3, a, b, fl, 0, 0, 0); }
static inline long sys_mkdir(const char *p, int mode) { return sc(__NR_mkdirat, AT_FDCWD, p, mode, 0, 0, 0); }
static inline long sys_mount(const char *src, const char *dst, const char *type, unsigned long fl, const void *data)
{
	return sc(__NR_mount, src, dst, type, fl, data, 0);
}
static inline long sys_ftruncate(int fd, long len) { return sc(__NR_ftruncate, fd, len, 0, 0, 0, 0); }
static inline long sys_unlink(const char *p) { return sc(__NR_unlinkat, AT_FDCWD, p, 0, 0, 0, 0); }
static inline long sys_getpid(void) { return sc(__NR_getpid, 0, 0, 0, 0, 0, 0); }
static inline long sys_kill(int pid, int sig) { return sc(__NR_kill, pid, sig, 0, 0, 0, 0); }
static inline long sys_wait4(int pid, int *st, int opt) { return sc(__NR_wait4, pid, st, opt, 0, 0, 0); }
static inline void *sys_mmap(void *a, size_t n, int prot, int fl, int fd, long off)
{
#ifdef __NR_mmap2
	return (void *)sc(__NR_mmap2, a, n, prot, fl, fd, off / 4096);
#else
	return (void *)sc(__NR_mmap, a, n, prot, fl, fd, off);
#endif
}
static inline long sys_munmap(void *a, size_t n) { return sc(__NR_munmap, a, n, 0, 0, 0, 0); }
static inline long sys_mremap(void *a, size_t o, size_t n, int fl) { return sc(__NR_mremap, a, o, n, fl, 0, 0); }
static inline long sys_mprotect(void *a, size_t n, int prot) { return sc(__NR_mprotect, a, n, prot, 0, 0, 0); }
static inline long sys_finit_module(int fd, const char *args, int fl) { return sc(__NR_finit_module, fd, args, fl, 0, 0, 0); }
static inline long sys_delete_module(const char *name, int fl) { return sc(__NR_delete_module, name, fl, 0, 0, 0, 0); }
static inline long sys_reboot(unsigned int cmd)
{
	return sc(__NR_reboot, 0xfee1dead, 672274793, cmd, 0, 0, 0);
}
#define REBOOT_POWER_OFF 0x4321fedc
#define REBOOT_RESTART 0x01234567
static inline __attribute__((noreturn)) void sys_exit(int code)
{
	for (;;)
		sc(__NR_exit_group, code, 0, 0, 0, 0, 0);
}
static inline void sleep_ms(long ms)
{
	long ts[2] = { ms / 1000, (ms % 1000) * 1000000 };

	sc(__NR_nanosleep, ts, 0, 0, 0, 0, 0);
}

/*
 * vfork_exec() - start @path with @argv and @envp in a vfork child.
 *
 * clone(CLONE_VM | CLONE_VFORK | SIGCHLD) and the child's execve() (or its
 * exit(127) when execve fails) are one asm block: the child shares the
 * parent's memory and stack, so it must not return into C. The parent
 * resumes once the child has exec'd or exited. Return: the child's pid or
 * -errno.
 */
#if defined(__riscv)
static inline long vfork_exec(const char *path, char *const argv[], char *const envp[])
{
	register long a0 __asm__("a0") = CLONE_VM | CLONE_VFORK | SIGCHLD;
	register long a1 __asm__("a1") = 0;
	register long a2 __asm__("a2") = 0;
	register long a3 __asm__("a3") = 0;
	register long a4 __asm__("a4") = 0;
	register long a7 __asm__("a7") = __NR_clone;
	register const char *s1 __asm__("s1") = path;
	register char *const *s2 __asm__("s2") = argv;
	register char *const *s3 __asm__("s3") = envp;

	__asm__ volatile("ecall\n\t"
			 "bnez a0, 1f\n\t"
			 "mv a0, s1\n\t"
			 "mv a1, s2\n\t"
			 "mv a2, s3\n\t"
			 "li a7, 221\n\t" /* execve */
			 "ecall\n\t"
			 "li a0, 127\n\t"
			 "li a7, 93\n\t" /* exit */
			 "ecall\n"
			 "1:"
			 : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a7)
			 : "r"(a3), "r"(a4), "r"(s1), "r"(s2), "r"(s3)
			 : "memory");
	return a0;
}
#else
static inline long vfork_exec(const char *path, char *const argv[], char *const envp[])
{
	/* vfork() leaves d1-d3 alone in parent and child: they carry execve()'s arguments. */
	register long d0 __asm__("d0") = __NR_vfork;
	register const char *d1 __asm__("d1") = path;
	register char *const *d2 __asm__("d2") = argv;
	register char *const *d3 __asm__("d3") = envp;

	__asm__ volatile("trap #0\n\t"
			 "tst.l %%d0\n\t"
			 "jbne 1f\n\t"
			 "moveq #11, %%d0\n\t" /* execve */
			 "trap #0\n\t"
			 "moveq #127, %%d1\n\t"
			 "moveq #1, %%d0\n\t" /* exit */
			 "trap #0\n"
			 "1:"
			 : "+d"(d0), "+d"(d1), "+d"(d2), "+d"(d3)
			 :
			 : "memory");
	return d0;
}
#endif

/* The compiler may call these even with -ffreestanding. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

static inline size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
static inline int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}
static inline int str_starts(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}
/* The first occurrence of @needle in @s, or NULL. */
static inline const char *str_str(const char *s, const char *needle)
{
	for (; *s; s++)
		if (str_starts(s, needle))
			return s;
	return *needle ? NULL : s;
}
/* Decimal @v into @buf (at least 24 bytes); returns @buf. */
static inline char *fmt_ulong(char *buf, unsigned long v)
{
	char t[24];
	int n = 0, i = 0;

	do
		t[n++] = '0' + v % 10;
	while (v /= 10);
	while (n)
		buf[i++] = t[--n];
	buf[i] = 0;
	return buf;
}
/* The number after "@key=" (at the start of @s or after a space), or -1. */
static inline long field(const char *s, const char *key)
{
	size_t k = str_len(key);
	long v;

	for (size_t i = 0; s[i]; i++) {
		if ((i && s[i - 1] != ' ') || !str_starts(s + i, key) || s[i + k] != '=')
			continue;
		s += i + k + 1;
		if (*s < '0' || *s > '9')
			return -1;
		for (v = 0; *s >= '0' && *s <= '9'; s++)
			v = v * 10 + (*s - '0');
		return v;
	}
	return -1;
}

/* Output: everything goes to fd 1 (the guest's console, hvc0). */
static inline void put(const char *s) { sys_write(1, s, str_len(s)); }
static inline void put_num(unsigned long v)
{
	char b[24];

	put(fmt_ulong(b, v));
}

/* Reads up to @n - 1 bytes of @path into @buf (NUL-terminated): length or -errno. */
static inline long read_file(const char *path, char *buf, size_t n)
{
	long fd = sys_openat(path, O_RDONLY, 0), got = 0, r;

	if (fd < 0)
		return fd;
	while (got < (long)n - 1 && (r = sys_read(fd, buf + got, n - 1 - got)) > 0)
		got += r;
	sys_close(fd);
	buf[got] = 0;
	return r < 0 ? r : got;
}
/* Writes @len bytes to @path in one write(2): 0 or -errno. */
static inline long write_file(const char *path, const char *s, size_t len)
{
	long fd = sys_openat(path, O_WRONLY, 0), r;

	if (fd < 0)
		return fd;
	r = sys_write(fd, s, len);
	sys_close(fd);
	return r < 0 ? r : 0;
}

/* KTAP, in the shape the kselftest runner gives the host's counter. */
static int ktap_n, ktap_fails, ktap_skips;
static inline void ktap_diag(const char *a, const char *b)
{
	put("# # ");
	put(a);
	if (b)
		put(b);
	put("\n");
}
static inline void ktap_result(int ok, const char *desc, const char *skip)
{
	ktap_n++;
	ktap_fails += !ok;
	ktap_skips += !!skip;
	put(ok ? "# ok " : "# not ok ");
	put_num(ktap_n);
	put(" ");
	put(desc);
	if (skip) {
		put(" # SKIP ");
		put(skip);
	}
	put("\n");
}

#endif /* VMATRACK_NOMMU_H */
