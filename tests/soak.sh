#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The soak (make soak, not part of make check): at least 10 million
# VMA-changing system calls under the mirror, in three kinds of target,
# each compared with the kernel's VMA tree at least every 10,000 of its
# operations and at every exit of a followed process:
#   threads  vma_random with 4 threads (the main thread reads `check`
#            every 1,000 of its own operations, which is every ~7,500 of
#            all threads' together); it attaches itself, single mode
#   single   vma_random without threads, `check` every 10,000 operations
#   follow   forker under `follow`: children of 10,000 operations each,
#            each compared with the kernel's tree as it exits
# Prints one line per run and at the end
#   soak ops=N checks=N divergences=N stale=N minutes=N
# (stale: checks that found the mirror marked stale and resynced first; not
# a divergence, but counted). Exit status 0 when there was no divergence.
# SOAK_SCALE divides every run's size (default 1: the full 10 million).
. ./lib.sh
D=$VMATRACK_DEBUGFS
S=${SOAK_SCALE:-1}
ops=0 checks=0 bad=0 stale=0
t0=$(cut -d. -f1 /proc/uptime)

# random_run SEED OPS CHECK_EVERY THREADS
random_run() {
	out=$(vma_random -s "$1" -n "$2" -c "$3" -t "$4" 2>/tmp/soak.err)
	r=$?
	echo "$out"
	[ $r -eq 0 ] || { head -n 20 /tmp/soak.err; bad=$((bad + 1)); }
	ops=$((ops + $(field ops "$out") + $(field thread_ops "$out")))
	checks=$((checks + $(field checks "$out")))
	bad=$((bad + $(field failed "$out")))
	stale=$((stale + $(field stale_checks "$out")))
}

# threads: 8 runs of 70,000 main-thread operations (about 515,000 in all
# per run with the threads').
for seed in 1 2 3 4 5 6 7 8; do
	random_run $((100 + seed)) $((70000 / S)) 1000 4
done

# single: 6 runs of 500,000 operations.
for seed in 1 2 3 4 5 6; do
	random_run $((200 + seed)) $((500000 / S)) 10000 0
done

# follow: 300 children of 10,000 operations each.
children=$((300 / S))
forker -n "$children" -k 10000 -d 2 >/tmp/soak.forker &
F=$!
sleep 1
echo "follow $F" >$D/target
line0=$(cat $D/target)
wait $F || bad=$((bad + 1))
line1=$(cat $D/target)
echo "$(cat /tmp/soak.forker); $line1"
ok=$(($(field exit_checks_ok "$line1") - $(field exit_checks_ok "$line0")))
failed=$(($(field exit_checks_failed "$line1") - $(field exit_checks_failed "$line0")))
[ "$ok" -ge "$children" ] || { echo "follow: $ok exit checks for $children children"; bad=$((bad + 1)); }
ops=$((ops + children * 10000))
checks=$((checks + ok + failed))
bad=$((bad + failed))
echo none >$D/target

echo "soak ops=$ops checks=$checks divergences=$bad stale=$stale minutes=$((($(cut -d. -f1 /proc/uptime) - t0) / 60))"
[ $bad -eq 0 ]
