// SPDX-License-Identifier: GPL-2.0
/*
 * fileop: open and write a file exactly as a test says, and name the errno.
 *
 * usage: fileop open r|w|rw FILE
 *        fileop write [-o OFFSET | -p OFFSET] FILE PART...
 *
 * open: open(2)s FILE read-only, write-only (no O_CREAT, no O_TRUNC) or
 * read-write and prints "ok" or the errno's name (e.g. "EACCES").
 *
 * write: opens FILE write-only (no O_CREAT, no O_TRUNC) once, then writes
 * each PART with one write(2) and prints one word per PART on one line:
 * "ok" when the whole part was taken, "short:N" when only N bytes were, or
 * the errno's name. -o seeks to OFFSET first (lseek, SEEK_SET); -p uses
 * pwrite(2) at OFFSET for every part instead of write(2). A PART is
 *   TEXT       with the escapes \n \r \t \\ \NNN (octal, 1-3 digits) \xHH;
 *              an empty TEXT is a zero-length write
 *   @PATH      the contents of the file PATH (e.g. 100 KB)
 *   !fault:N   N bytes from a PROT_NONE page (the copy from user faults)
 *   !edge:TEXT TEXT followed by one byte of a PROT_NONE page: the buffer
 *              starts readable and its last byte faults
 * A failed open or seek prints "open:ERRNO" or "seek:ERRNO" and writes
 * nothing. Exit status 0 when every step succeeded, else 1 (2: usage).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static int usage(void)
{
	fprintf(stderr, "usage: fileop open r|w|rw FILE\n"
			"       fileop write [-o OFFSET | -p OFFSET] FILE PART...\n");
	return 2;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes TEXT's escapes into out (at least strlen(s) bytes); returns the length. */
static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (*s != '\\' || !s[1]) {
			out[n++] = *s++;
			continue;
		}
		s++;
		if (*s == 'n') {
			out[n++] = '\n';
			s++;
		} else if (*s == 'r') {
			out[n++] = '\r';
			s++;
		} else if (*s == 't') {
			out[n++] = '\t';
			s++;
		} else if (*s == 'x' && hexval(s[1]) >= 0) {
			int v = hexval(s[1]);

			s += 2;
			if (hexval(*s) >= 0)
				v = v * 16 + hexval(*s++);
			out[n++] = (char)v;
		} else if (*s >= '0' && *s <= '7') {
			int v = 0;

			for (int i = 0; i < 3 && *s >= '0' && *s <= '7'; i++)
				v = v * 8 + (*s++ - '0');
			out[n++] = (char)v;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

/* A page mapped PROT_NONE right after one readable page. */
static char *guard_pair(long page)
{
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + page, page, PROT_NONE)) {
		perror("fileop: mmap");
		exit(2);
	}
	return p;
}

/* Makes the buffer for PART; sets *len. Exits on a bad PART. */
static const char *part_buf(const char *part, size_t *len)
{
	static char *pair;
	long page = sysconf(_SC_PAGESIZE);

	if (!pair)
		pair = guard_pair(page);
	if (part[0] == '@') {
		struct stat st;
		char *buf;
		int fd = open(part + 1, O_RDONLY);

		if (fd < 0 || fstat(fd, &st) || !(buf = malloc(st.st_size + 1)) ||
		    read(fd, buf, st.st_size) != st.st_size) {
			perror(part + 1);
			exit(2);
		}
		close(fd);
		*len = st.st_size;
		return buf;
	}
	if (strncmp(part, "!fault:", 7) == 0) {
		*len = strtoul(part + 7, NULL, 0);
		if (*len > (size_t)page)
			exit(usage());
		return pair + page;
	}
	if (strncmp(part, "!edge:", 6) == 0) {
		char *tmp = malloc(strlen(part) + 1);
		size_t n = unescape(part + 6, tmp);

		if (n >= (size_t)page)
			exit(usage());
		memcpy(pair + page - n, tmp, n);
		free(tmp);
		*len = n + 1;
		return pair + page - n;
	}
	char *buf = malloc(strlen(part) + 1);

	*len = unescape(part, buf);
	return buf;
}

static int do_open(int argc, char **argv)
{
	int flags, fd;

	if (argc != 4)
		return usage();
	if (!strcmp(argv[2], "r"))
		flags = O_RDONLY;
	else if (!strcmp(argv[2], "w"))
		flags = O_WRONLY;
	else if (!strcmp(argv[2], "rw"))
		flags = O_RDWR;
	else
		return usage();
	fd = open(argv[3], flags);
	if (fd < 0) {
		puts(ename(errno));
		return 1;
	}
	close(fd);
	puts("ok");
	return 0;
}

static int do_write(int argc, char **argv)
{
	long long off = -1;
	int use_pwrite = 0, opt, fd, bad = 0;

	/* Options end at FILE ("+"): a PART such as "-1" is not an option. */
	argc--;
	argv++;
	while ((opt = getopt(argc, argv, "+o:p:")) != -1) {
		switch (opt) {
		case 'o': off = strtoll(optarg, NULL, 0); break;
		case 'p': off = strtoll(optarg, NULL, 0); use_pwrite = 1; break;
		default: return usage();
		}
	}
	if (argc - optind < 2)
		return usage();
	fd = open(argv[optind], O_WRONLY);
	if (fd < 0) {
		printf("open:%s\n", ename(errno));
		return 1;
	}
	if (off >= 0 && !use_pwrite && lseek(fd, off, SEEK_SET) != off) {
		printf("seek:%s\n", ename(errno));
		return 1;
	}
	for (int i = optind + 1; i < argc; i++) {
		size_t len;
		const char *buf = part_buf(argv[i], &len);
		ssize_t n = use_pwrite ? pwrite(fd, buf, len, off) : write(fd, buf, len);

		if (n < 0) {
			printf("%s%s", i > optind + 1 ? " " : "", ename(errno));
			bad = 1;
		} else if ((size_t)n != len) {
			printf("%sshort:%zd", i > optind + 1 ? " " : "", n);
			bad = 1;
		} else {
			printf("%sok", i > optind + 1 ? " " : "");
		}
	}
	putchar('\n');
	close(fd);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "open"))
		return do_open(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "write"))
		return do_write(argc, argv);
	return usage();
}
