#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What `make run` shows: vmatrack mirroring a workload.
D=/sys/kernel/debug/vmatrack
echo "== vmatrack $(cat $D/version) loaded"
echo "== demo workload: churn -s 42 -n 20000 (mmap/mprotect/munmap/fork churn in a 512-page arena), then it waits"
churn -s 42 -n 20000 -f 2000 -z 600 &
pid=$!
sleep 2
echo "$pid" >$D/target
echo "== target"
cat $D/target
echo "== maps (first 15 of $(wc -l <$D/maps) lines; /proc/$pid/maps has $(wc -l </proc/$pid/maps))"
head -n 15 $D/maps
if cat $D/maps | diff /proc/$pid/maps - >/dev/null; then
	echo "== maps is identical to /proc/$pid/maps"
else
	echo "== maps differs from /proc/$pid/maps:"
	cat $D/maps | diff /proc/$pid/maps - | head -n 10
fi
echo "== tree (head)"
head -n 6 $D/tree | cut -c1-160
echo "== in-kernel selftest of the range tree (against the kernel's C maple tree)"
cat $D/selftest
kill $pid
