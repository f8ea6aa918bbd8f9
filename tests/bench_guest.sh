#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of `make bench` (a benchmark, not a test: nothing here
# passes or fails on a number). Prints `# ...` commentary and result lines.
D=/sys/kernel/debug/vmatrack
KO=/lib/modules/vmatrack.ko
PARAM=/sys/module/vmatrack/parameters
N=${BENCH_N:-20000}
ROUNDS=${BENCH_ROUNDS:-7}

# now_cs: uptime in centiseconds (busybox has no sub-second date).
now_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }

# loop [-a]: ns per mmap+munmap of one round of $N (-a: attach to itself).
loop() { mmap_loop -n "$N" -r 1 "$@" | cut -d' ' -f1; }

# hits: the probes file's hit counts, "name=hits" per probe.
hits() { sed -n 's/^\([a-z_]*\) hits=\([0-9]*\) .*/\1=\2/p' $D/probes; }

# per_iteration BEFORE AFTER: hits per mmap+munmap of each probe.
per_iteration() {
	echo "$1" "$2" | tr ' ' '\n' | awk -F= -v n="$N" '
		!($1 in a) { a[$1] = $2; order[++k] = $1; next }
		{ d[$1] = $2 - a[$1] }
		END { for (i = 1; i <= k; i++) printf "%s=%.2f ", order[i], d[order[i]] / n }'
}

# wait_optimized: until no registered probe is still a breakpoint (the
# optimizer works asynchronously after registration), or 20 s. Prints the
# ones that stayed breakpoints.
wait_optimized() {
	i=0
	while grep -q 'armed=trap' $D/probes && [ $i -lt 40 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	grep 'armed=trap' $D/probes | while read -r name _; do
		echo "# not jump-optimized after 20 s: $name (the kernel's can_optimize() refused it: see the probe list in the README)"
	done
}

# attach PID: attach, then wait until the probes are optimized.
attach() {
	echo "$1" >$D/target
	wait_optimized
}

# record CASE NS: appends one round's figure.
record() { echo "$1 $2" >>/tmp/bench.rounds; }

echo "# overhead: mmap+munmap of one 4 KiB page, $N per round, $ROUNDS rounds; the cases"
echo "# alternate within each round (one boot); ns per iteration (TCG: read the ratios)"
echo "# probe_floor: the same probes registered, handlers return at once (probe_floor=1)"
rm -f /tmp/bench.rounds
sleep 100000 &
S=$!
names=$(sed -n 's/^\([a-z_]*\) hits=.*/\1/p' $D/probes)
r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	rmmod vmatrack
	record not_loaded "$(loop)"
	insmod $KO
	record loaded_no_target "$(loop)"
	attach $S
	[ $r -eq 1 ] && { echo "# probes once optimized:"; sed 's/^/#   /' $D/probes; }
	echo 1 >$PARAM/probe_floor
	record probe_floor "$(loop)"
	echo 0 >$PARAM/probe_floor
	h0=$(hits)
	record other_process_mirrored "$(loop)"
	h1=$(hits)
	[ $r -eq 1 ] && echo "# hits per iteration, another process mirrored: $(per_iteration "$h0" "$h1")"
	# The target moves to mmap_loop itself; the probes stay registered
	# (and optimized) across the switch.
	h0=$(hits)
	record this_process_mirrored "$(loop -a)"
	h1=$(hits)
	[ $r -eq 1 ] && echo "# hits per iteration, this process mirrored: $(per_iteration "$h0" "$h1")"
	echo none >$D/target
	# The floor of each probe alone: the probes are registered once per
	# load (at the first attach), so each gets a load of its own.
	bit=0
	for name in $names; do
		rmmod vmatrack
		insmod $KO probe_mask=$((1 << bit)) probe_floor=1
		attach $S
		record "probe_floor_$name" "$(loop)"
		bit=$((bit + 1))
	done
done
kill $S
# median, min and max of each case; ratios of medians to not_loaded.
awk '
	{ v[$1] = v[$1] " " $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
	END {
		for (i = 1; i <= k; i++) {
			c = order[i]; n = split(v[c], a, " ")
			for (x = 1; x <= n; x++) for (y = x + 1; y <= n; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
			med[c] = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			lo[c] = a[1]; hi[c] = a[n]
		}
		for (i = 1; i <= k; i++) {
			c = order[i]
			printf "overhead %s ns=%d min=%d max=%d ratio=%.3f range=%.3f-%.3f\n", c, med[c], lo[c], hi[c], med[c] / med["not_loaded"], lo[c] / med["not_loaded"], hi[c] / med["not_loaded"]
		}
	}' /tmp/bench.rounds

echo "# scale: a target with about 64,000 VMAs (the default vm.max_map_count is 65,530)"
rm -f /tmp/go
mkfifo /tmp/go
vma_scale -v 32000 -k 0 >/tmp/base.out
echo "# without vmatrack: $(head -n 1 /tmp/base.out)"
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

echo "# per-change cost at scale: 2000 single-page mprotect toggles (split/merge) among ~64,000 VMAs,"
echo "# mirrored and not, alternated over 3 rounds"
rm -f /tmp/scale.rounds
r=0
while [ $r -lt 3 ]; do
	r=$((r + 1))
	vma_scale -v 32000 -k 2000 >/tmp/c0.out
	echo "without_vmatrack $(sed -n 's/.*change_ns=\([0-9]*\).*/\1/p' /tmp/c0.out | tail -n 1)" >>/tmp/scale.rounds
	vma_scale -v 32000 -k 2000 -w </tmp/go >/tmp/c1.out &
	P=$!
	exec 3>/tmp/go
	while ! grep -q vmas= /tmp/c1.out 2>/dev/null; do sleep 1; done
	echo $P >$D/target
	echo >&3
	wait $P
	exec 3>&-
	echo "mirrored $(sed -n 's/.*change_ns=\([0-9]*\).*/\1/p' /tmp/c1.out | tail -n 1)" >>/tmp/scale.rounds
	echo none >$D/target
done
awk '{ v[$1] = v[$1] " " $2 }
	END {
		for (c in v) {
			n = split(v[c], a, " ")
			for (x = 1; x <= n; x++) for (y = x + 1; y <= n; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
			med[c] = a[(n + 1) / 2]; lo[c] = a[1]; hi[c] = a[n]
		}
		for (c in v)
			printf "scale change %s change_ns=%d min=%d max=%d ratio=%.3f\n", c, med[c], lo[c], hi[c], med[c] / med["without_vmatrack"]
	}' /tmp/scale.rounds

echo "# in-kernel bench: the range tree against the kernel's C maple tree, this boot"
rmmod vmatrack
insmod $KO bench_n1=1000 bench_n2=100000
cat $D/bench
