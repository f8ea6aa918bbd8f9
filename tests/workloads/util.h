/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the workloads. */
#ifndef VMATRACK_WORKLOADS_UTIL_H
#define VMATRACK_WORKLOADS_UTIL_H

#include <stdio.h>

/* The number of VMAs of this process: lines of /proc/self/maps, or -1. */
static inline int count_vmas(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int c, n = 0;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

#endif /* VMATRACK_WORKLOADS_UTIL_H */
