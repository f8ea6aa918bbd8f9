#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What `make run` shows: vmatrack mirroring a workload live.
D=/sys/kernel/debug/vmatrack
echo "== vmatrack $(cat $D/version) loaded"
echo "== demo workload: churn -s 42 -n 20000 -f 2000 (mmap/mprotect/munmap/fork churn"
echo "   in a 512-page arena); vmatrack attaches before it starts changing anything"
churn -s 42 -n 20000 -f 2000 -d 2 -z 600 >/tmp/churn.out &
pid=$!
echo "$pid" >$D/target
echo "== target (right after attaching)"
cat $D/target
# churn prints its summary when its work is done, then waits.
while [ ! -s /tmp/churn.out ]; do sleep 1; done
cat /tmp/churn.out
echo "== target (after the workload: every change arrived through the probes)"
cat $D/target
echo "== probes"
cat $D/probes
echo "== last events"
tail -n 5 $D/events
echo "== check (the shadow against the kernel's own VMA tree, now)"
cat $D/check
echo "== maps (first 12 of $(wc -l <$D/maps) lines; /proc/$pid/maps has $(wc -l </proc/$pid/maps))"
head -n 12 $D/maps
if cat $D/maps | diff /proc/$pid/maps - >/dev/null; then
	echo "== maps is identical to /proc/$pid/maps"
else
	echo "== maps differs from /proc/$pid/maps:"
	cat $D/maps | diff /proc/$pid/maps - | head -n 10
fi
echo "== tree (head)"
head -n 8 $D/tree
echo "== in-kernel selftest of the range tree (against the kernel's C maple tree)"
cat $D/selftest
kill $pid

echo
echo "== demo workload 2: allocator -s 7 -n 6000 (a memory allocator's large blocks:"
echo "   mmap, realloc through mremap that grows in place or moves, shrink, free,"
echo "   madvise, guard pages); vmatrack switches to it before it starts"
allocator -s 7 -n 6000 -b 64 -d 2 -z 600 >/tmp/alloc.out &
pid=$!
echo "$pid" >$D/target
echo reset >$D/stats
# The kernel's own merge verdicts, to cross-check ours (off by default:
# they cost every process a probe hit per mmap and mprotect).
echo verdicts on >$D/stats
while [ ! -s /tmp/alloc.out ]; do sleep 1; done
cat /tmp/alloc.out
echo "== target"
cat $D/target
echo "== check"
cat $D/check
echo "== summary (the one screen to read first)"
cat $D/summary
echo "== whatif (what the anon-VMA merge RFC's relaxed rules would save now; the kernel's merge attempts, timed)"
cat $D/whatif
echo "== stats (merges made and missed since the attach; names in the README)"
cat $D/stats
echo "== unmerged (first 15 of $(wc -l <$D/unmerged) touching pairs that stay separate, with the reasons)"
head -n 15 $D/unmerged
# For scripts/picture on the host (run-demo cuts these out of the log).
echo "-- begin maps"
cat $D/maps
echo "-- end maps"
echo "-- begin unmerged"
cat $D/unmerged
echo "-- end unmerged"
kill $pid

if [ -x /usr/bin/python3 ] && [ -f /added/pyalloc.py ]; then
	echo
	echo "== demo workload 3: a real, dynamically linked program: Debian's $(python3 -V 2>&1)"
	echo "   running pyalloc.py (large buffers grown by realloc, a big dict, many lists);"
	echo "   vmatrack attaches while it sleeps, before the work"
	python3 -S -B /added/pyalloc.py 2 >/tmp/py.out &
	pid=$!
	echo "$pid" >$D/target
	echo reset >$D/stats
	while ! grep -q done /tmp/py.out; do sleep 1; done
	cat /tmp/py.out
	echo "== summary"
	cat $D/summary
	echo "== whatif"
	cat $D/whatif
	echo "== check"
	cat $D/check
	kill $pid
fi
echo none >$D/target
