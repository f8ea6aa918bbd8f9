#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of `make bench` (a benchmark, not a test: nothing here
# passes or fails on a number). Prints `# ...` commentary and result lines.
D=/sys/kernel/debug/vmatrack
KO=/lib/modules/vmatrack.ko

# now_cs: uptime in centiseconds (busybox has no sub-second date).
now_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }

echo "# overhead: mmap+munmap of one 4 KiB page, 20000 per round, median of 7 rounds, ns/iteration (TCG)"
loop() { mmap_loop -n 20000 -r 7 "$@" | cut -d' ' -f1; }
rmmod vmatrack
unloaded=$(loop)
insmod $KO
loaded=$(loop)
sleep 1000 &
S=$!
sleep 1
echo $S >$D/target
other=$(loop)
echo none >$D/target
kill $S
self=$(loop -a)
cat $D/target
echo none >$D/target
for c in "not_loaded $unloaded" "loaded_no_target $loaded" "other_process_mirrored $other" "this_process_mirrored $self"; do
	set -- $c
	echo "overhead $1 ns=$2 ratio=$(awk -v a="$2" -v b="$unloaded" 'BEGIN { printf "%.3f", a / b }')"
done

echo "# scale: a target with about 64,000 VMAs (the default vm.max_map_count is 65,530)"
rm -f /tmp/go
mkfifo /tmp/go
vma_scale -v 32000 -k 0 >/tmp/base.out
echo "# without vmatrack: $(cat /tmp/base.out | tr '\n' ' ')"
vma_scale -v 32000 -k 0 -w -z 600 </tmp/go >/tmp/scale.out &
P=$!
exec 3>/tmp/go
while ! grep -q vmas= /tmp/scale.out 2>/dev/null; do sleep 1; done
t0=$(now_cs)
echo $P >$D/target
t1=$(now_cs)
echo "scale attach vmas=$(sed -n 's/vmas=//p' /tmp/scale.out) ms=$(((t1 - t0) * 10))"
t0=$(now_cs)
cat $D/check >/tmp/check.out
t1=$(now_cs)
echo "scale check ms=$(((t1 - t0) * 10)) says: $(tail -n 1 /tmp/check.out)"
t0=$(now_cs)
cat $D/maps >/tmp/maps.out
t1=$(now_cs)
echo "scale maps ms=$(((t1 - t0) * 10)) lines=$(wc -l </tmp/maps.out) identical_to_proc=$(diff /proc/$P/maps /tmp/maps.out >/dev/null && echo yes || echo no)"
kill $P
exec 3>&-
echo none >$D/target

echo "# per-change cost at scale: 2000 single-page mprotect toggles (split/merge) among ~64,000 VMAs"
vma_scale -v 32000 -k 2000 >/tmp/c0.out
echo "scale change without_vmatrack $(tail -n 1 /tmp/c0.out)"
vma_scale -v 32000 -k 2000 -w </tmp/go >/tmp/c1.out &
P=$!
exec 3>/tmp/go
while ! grep -q vmas= /tmp/c1.out 2>/dev/null; do sleep 1; done
echo $P >$D/target
echo >&3
wait $P
exec 3>&-
echo "scale change mirrored $(tail -n 1 /tmp/c1.out)"
echo none >$D/target

echo "# in-kernel bench: the range tree against the kernel's C maple tree, this boot"
rmmod vmatrack
insmod $KO bench_n1=1000 bench_n2=100000
cat $D/bench
