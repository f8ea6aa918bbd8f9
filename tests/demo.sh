#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo `make run` shows: a workload with vmatrack loaded, and every
# vmatrack debugfs file that exists in this build.
D=/sys/kernel/debug/vmatrack
echo "== vmatrack $(cat $D/version) loaded"
echo "== demo workload: churn -s 42 -n 20000 (mmap/mprotect/munmap/fork in a 512-page arena)"
churn -s 42 -n 20000 -f 2000
echo "== debugfs files:"
for f in "$D"/*; do
	echo "-- $(basename "$f"):"
	head -n 40 "$f"
done
