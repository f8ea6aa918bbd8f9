#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The mirror as it stands: attaching to a process, its maps and tree, exec
# and exit of the target, and every kind of bad write to `target`.
. ./lib.sh

T=$VMATRACK_DEBUGFS/target

ktap_print_header
ktap_set_plan 38

# write_target VALUE: one write(2) of VALUE to `target` (write_file).
write_target() { write_file "$T" "$1"; }


# A quiescent target: churn prints its summary once its changes are done
# (the debug kernel takes many seconds for them).
churn -s 5 -n 2000 -f 0 -z 600 >/tmp/churn5.out &
P=$!
while [ ! -s /tmp/churn5.out ]; do sleep 1; done

attach_ok() { [ "$(write_target "$P\n")" = ok ] && grep -q "^pid=$P comm=churn mode=single state=live " "$T"; }
ktap_test_result "writing a pid attaches to that process" attach_ok
ktap_print_msg "$(cat "$T")"

maps_same() {
	cat "$VMATRACK_DEBUGFS/maps" >/tmp/shadow.maps && cat /proc/$P/maps >/tmp/kernel.maps &&
		diff /tmp/kernel.maps /tmp/shadow.maps >/tmp/maps.diff
}
ktap_test_result "maps equals /proc/PID/maps of a quiescent target" maps_same
[ -s /tmp/maps.diff ] && head -n 20 /tmp/maps.diff | while read -r l; do ktap_print_msg "$l"; done

tree_counts() {
	n=$(wc -l </proc/$P/maps)
	head -n 1 "$VMATRACK_DEBUGFS/tree" | grep -q "^rangetree height=[0-9]* ranges=$n\$"
}
ktap_test_result "tree names one range per VMA" tree_counts

check_ok() { grep -q "^ok vmas=$(wc -l </proc/$P/maps)\$" "$VMATRACK_DEBUGFS/check"; }
ktap_test_result "check compares the shadow with the kernel's tree: ok" check_ok

probes_registered() {
	# Off unless asked for (an earlier suite may have asked).
	printf 'verdicts off\n' >"$VMATRACK_DEBUGFS/stats" &&
		grep -q '^# registered' "$VMATRACK_DEBUGFS/probes" &&
		[ "$(grep -cE '^(mas_store_prealloc|mas_store_gfp|__vma_start_write|exit_mmap|sched_post_fork|begin_new_exec) hits=[0-9]+ nmissed=0 armed=(trap|jump|ftrace|armed)$' "$VMATRACK_DEBUGFS/probes")" = 6 ] &&
		[ "$(grep -cE '^(vma_merge_new_range|vma_modify) hits=[0-9]+ nmissed=0 armed=off$' "$VMATRACK_DEBUGFS/probes")" = 2 ]
}
ktap_test_result "probes lists the six mirror probes armed, the two verdict probes off, none missed" probes_registered

# The merge-verdict probes cost every process, so they are armed only
# between `verdicts on` and `verdicts off` (written to stats).
verdicts_switch() {
	V=$VMATRACK_DEBUGFS/probes
	printf 'verdicts on\n' >"$VMATRACK_DEBUGFS/stats" || return 1
	on=$(grep -cE '^(vma_merge_new_range|vma_modify) .* armed=(trap|jump|ftrace|armed)$' "$V")
	grep -q '^# verdicts off' "$VMATRACK_DEBUGFS/stats" && return 1
	printf 'verdicts off\n' >"$VMATRACK_DEBUGFS/stats" || return 1
	off=$(grep -cE '^(vma_merge_new_range|vma_modify) .* armed=off$' "$V")
	grep -q '^# verdicts off' "$VMATRACK_DEBUGFS/stats" || return 1
	ktap_print_msg "verdict probes armed after 'verdicts on': $on, off after 'verdicts off': $off"
	[ "$on" = 2 ] && [ "$off" = 2 ]
}
ktap_test_result "stats: verdicts on arms the two verdict probes, verdicts off disarms them" verdicts_switch

live_changes() {
	# A process that starts changing its VMAs 2 s after we attach to it.
	churn -s 3 -n 2000 -f 0 -d 2 -z 600 >/tmp/churn3.out &
	L=$!
	write_target "$L\n" >/dev/null
	line0=$(cat "$T")
	while [ ! -s /tmp/churn3.out ]; do sleep 1; done
	line1=$(cat "$T")
	ktap_print_msg "before: $line0"
	ktap_print_msg "after:  $line1"
	# More than 1,000 changes arrived, and not through a resync.
	echo "$line1" | grep -q "^pid=$L comm=churn mode=single state=live " &&
		[ "$(field events "$line1")" -gt "$(($(field events "$line0") + 1000))" ] &&
		[ "$(field resyncs "$line1")" = "$(field resyncs "$line0")" ] &&
		grep -Eq '^[0-9]+ (store|clear) [0-9a-f]+-[0-9a-f]+ applied( [a-z_]+ [a-z_]+)?$' "$VMATRACK_DEBUGFS/events" &&
		grep -q '^ok vmas=' "$VMATRACK_DEBUGFS/check" &&
		cat "$VMATRACK_DEBUGFS/maps" | diff /proc/$L/maps - >/dev/null
	r=$?
	kill $L
	wait $L 2>/dev/null
	write_target "$P\n" >/dev/null
	return $r
}
ktap_test_result "changes made after attach arrive live (events, check ok, maps equal)" live_changes

before=$(cat "$T")
# rejects LABEL VALUE ERRNO: the write fails with ERRNO and changes nothing.
rejects() {
	got=$(write_target "$2")
	if [ "$got" = "$3" ] && [ "$(cat "$T")" = "$before" ]; then
		ktap_test_pass "target rejects $1 with $3, unchanged"
	else
		ktap_test_fail "target rejects $1 with $3, unchanged (got $got)"
	fi
}
rejects "an empty line" '\n' EINVAL
rejects "letters" 'abc\n' EINVAL
rejects "a negative pid" '-1\n' EINVAL
rejects "trailing junk" "${P}x\n" EINVAL
rejects "a leading plus" "+$P\n" EINVAL
rejects "a leading space" " $P\n" EINVAL
rejects "two numbers" "$P $P\n" EINVAL
rejects "binary bytes" '\001\002\377' EINVAL
rejects "a number that overflows" '99999999999999999999\n' EINVAL
rejects "pid_max itself" "$(cat /proc/sys/kernel/pid_max)\n" EINVAL
rejects "follow 0" 'follow 0\n' EINVAL
rejects "an unknown pid" '31337\n' ESRCH
rejects "a kernel thread (kthreadd)" '2\n' EINVAL

# A write that does not start at offset 0: the tail of a split write, or a
# write after a seek. Each write is a whole command; a tail is refused.
at_offset() {
	printf '%s\n' "$P" >/tmp/win
	! dd if=/tmp/win of="$T" bs=64 seek=1 conv=notrunc 2>/tmp/werr &&
		grep -q "Invalid argument" /tmp/werr && [ "$(cat "$T")" = "$before" ]
}
ktap_test_result "target rejects a write at a non-zero offset with EINVAL, unchanged" at_offset
split_write() {
	# One open, two write(2)s: "PID" then "\n". The first is a command of
	# its own (the same target: unchanged); the second is refused.
	# (Re-attaching counts a resync: compare who is mirrored, and how.)
	(printf '%s' "$P" && printf '\n') >"$T" 2>/tmp/werr
	[ $? -ne 0 ] && grep -q "^pid=$P comm=churn mode=single state=live " "$T"
}
ktap_test_result "target refuses the tail of a split write, unchanged" split_write

switch_ok() {
	sleep 600 &
	S=$!
	sleep 1 # let the forked shell exec sleep first
	[ "$(write_target "$S\n")" = ok ] && grep -q "^pid=$S comm=sleep " "$T"
	r=$?
	kill $S
	wait $S 2>/dev/null
	return $r
}
ktap_test_result "attaching while attached switches targets" switch_ok

exec_followed() {
	# The shell execs churn after a pause; the mirror is attached before.
	rm -f /tmp/churn9.out
	sh -c 'sleep 1; exec churn -s 9 -n 500 -f 0 -z 600' >/tmp/churn9.out &
	E=$!
	[ "$(write_target "$E\n")" = ok ] || return 1
	# Until churn has made its changes and printed its summary.
	while [ ! -s /tmp/churn9.out ]; do sleep 1; done
	cat "$VMATRACK_DEBUGFS/maps" >/tmp/e.shadow && cat /proc/$E/maps >/tmp/e.kernel &&
		diff /tmp/e.kernel /tmp/e.shadow >/dev/null && grep -q "comm=churn" "$T"
	r=$?
	kill $E
	wait $E 2>/dev/null
	return $r
}
ktap_test_result "the mirror follows its target through exec" exec_followed

exit_seen() {
	[ "$(write_target "$P\n")" = ok ] || return 1
	kill $P
	wait $P 2>/dev/null
	head -n 1 "$VMATRACK_DEBUGFS/maps" | grep -q '^# no live target' &&
		grep -q "^pid=$P comm=churn mode=single state=exited vmas=0 " "$T"
}
ktap_test_result "a target that exits reads as state=exited with an empty shadow" exit_seen

# The probes only record a change; readers (and a worker) apply them. A
# process that maps and unmaps a page 1000 times and exits before anyone
# reads: every one of its changes is still counted, in order (each mmap a
# new VMA, each munmap a removal), including the last ones before exit.
short_lived_counted() {
	d0=$(sed -n 's/^# changes: .* dropped=\([0-9]*\) .*/\1/p' "$VMATRACK_DEBUGFS/probes")
	printf 'reset\n' >"$VMATRACK_DEBUGFS/stats" || return 1
	mmap_loop -n 1000 -r 1 -a >/dev/null || return 1
	new=$(sed -n 's/^new_merge_none //p' "$VMATRACK_DEBUGFS/stats")
	removed=$(sed -n 's/^removed //p' "$VMATRACK_DEBUGFS/stats")
	ktap_print_msg "after 1000 mmap+munmap pairs and exit: new_merge_none=$new removed=$removed"
	ktap_print_msg "$(grep '^# changes' "$VMATRACK_DEBUGFS/probes")"
	d1=$(sed -n 's/^# changes: .* dropped=\([0-9]*\) .*/\1/p' "$VMATRACK_DEBUGFS/probes")
	[ "$new" -ge 1000 ] && [ "$removed" -ge 1000 ] && [ $((new - removed)) -le 8 ] &&
		[ -n "$d0" ] && [ "$d0" = "$d1" ] &&
		grep -q '^# changes: waiting=0 ' "$VMATRACK_DEBUGFS/probes"
}
ktap_test_result "short-lived mappings of a target that exited are all counted" short_lived_counted

# Changes faster than the worker applies them (64,000 VMAs: each shadow
# store copies a node per level) fill the change ring; the target then
# waits for room rather than the mirror losing a change (it lost 182 of
# about 2,000 mprotect toggles before it waited).
no_change_lost_at_scale() {
	n=$((32000 / VMATRACK_SCALE))
	d0=$(sed -n 's/^# changes: .* dropped=\([0-9]*\) .*/\1/p' "$VMATRACK_DEBUGFS/probes")
	rm -f /tmp/scale.go
	mkfifo /tmp/scale.go
	vma_scale -v "$n" -k 2000 -w -z 600 </tmp/scale.go >/tmp/scale.out &
	S=$!
	exec 3>/tmp/scale.go
	while ! grep -q vmas= /tmp/scale.out 2>/dev/null; do sleep 1; done
	[ "$(write_target "$S\n")" = ok ] || return 1
	echo >&3
	while ! grep -q change_ns= /tmp/scale.out; do sleep 1; done
	cat "$VMATRACK_DEBUGFS/check" >/tmp/scale.check
	first=$(head -n 1 /tmp/scale.check)
	last=$(tail -n 1 /tmp/scale.check)
	want="ok vmas=$(wc -l </proc/$S/maps)"
	d1=$(sed -n 's/^# changes: .* dropped=\([0-9]*\) .*/\1/p' "$VMATRACK_DEBUGFS/probes")
	ktap_print_msg "$(tail -n 1 /tmp/scale.out), check: $last, dropped $d0 -> $d1"
	kill $S
	exec 3>&-
	wait $S 2>/dev/null
	# Not stale (nothing lost), and exact.
	[ -n "$d0" ] && [ "$d0" = "$d1" ] && [ "$first" = "$want" ] && [ "$last" = "$want" ]
}
ktap_test_result "a target changing faster than the worker applies loses no change" no_change_lost_at_scale

detach_ok() {
	[ "$(write_target 'none\n')" = ok ] && grep -q '^pid=0 .* state=detached ' "$T" &&
		! grep -q '^[0-9a-f]' "$VMATRACK_DEBUGFS/maps"
}
ktap_test_result "none detaches and empties the shadow" detach_ok

# Attaching and detaching patch no kernel text: the probes are registered
# at the first attach and stay armed until rmmod; detached, their handlers
# find no target and return at once. (Text patched and unpatched in a
# tight attach/detach loop once met a stale breakpoint under QEMU's TCG:
# "Oops: int3" at mas_store_prealloc+0x1.)
detach_patches_no_text() {
	K=/sys/kernel/debug/kprobes/list
	V=$VMATRACK_DEBUGFS/probes
	mirror='^(mas_store_prealloc|mas_store_gfp|__vma_start_write|exit_mmap|sched_post_fork|begin_new_exec) '
	sleep 600 &
	S=$!
	write_target "$S\n" >/dev/null
	list0=$(awk '{ print $3 }' "$K" | sort)
	n=$(grep -cE "$mirror" "$V")
	off=0
	i=0
	while [ $i -lt 10 ]; do
		[ "$(write_target 'none\n')" = ok ] || break
		grep -q '^# registered' "$V" || off=$((off + 1))
		off=$((off + $(grep -E "$mirror" "$V" | grep -c ' armed=off$')))
		[ "$(write_target "$S\n")" = ok ] || break
		i=$((i + 1))
	done
	write_target 'none\n' >/dev/null
	list1=$(awk '{ print $3 }' "$K" | sort)
	kill $S
	wait $S 2>/dev/null
	ktap_print_msg "$i attach/detach cycles; mirror probes disarmed after a detach: $off times; kprobes listed before: $(echo $list0), after: $(echo $list1)"
	[ "$i" = 10 ] && [ "$n" -gt 0 ] && [ "$off" = 0 ] && [ "$list0" = "$list1" ] && [ -n "$list0" ]
}
ktap_test_result "attach and detach patch no kernel text: the probes stay registered and armed" detach_patches_no_text

zero_detaches() {
	sleep 600 &
	S=$!
	write_target "$S\n" >/dev/null
	[ "$(write_target '0\n')" = ok ] && grep -q 'state=detached' "$T"
	r=$?
	kill $S
	wait $S 2>/dev/null
	return $r
}
ktap_test_result "0 detaches too" zero_detaches

# follows_ok LINE BEFORE MIN: at least MIN more exit checks than BEFORE,
# none failed.
follows_ok() {
	ktap_print_msg "$1"
	[ "$(field exit_checks_ok "$1")" -ge "$(($2 + $3))" ] && [ "$(field exit_checks_failed "$1")" = 0 ]
}

follow_children() {
	forker -n 4 -k 300 -d 3 >/dev/null &
	F=$!
	sleep 1 # let the forked shell exec forker first
	[ "$(write_target "follow $F\n")" = ok ] || return 1
	grep -q "^pid=$F comm=forker mode=follow state=live " "$T" || return 1
	c0=$(field exit_checks_ok)
	wait $F || return 1
	# Four children followed in turn, each compared with the kernel as it exited.
	follows_ok "$(cat "$T")" "$c0" 4
}
ktap_test_result "follow moves to each child and checks it at exit" follow_children

follow_through_exec() {
	sh -c 'sleep 2; exec forker -n 2 -k 200 -d 1' >/dev/null &
	F=$!
	sleep 1
	[ "$(write_target "follow $F\n")" = ok ] || return 1
	c0=$(field exit_checks_ok)
	wait $F || return 1
	# The shell's own sleep child, then forker's two children after the exec.
	follows_ok "$(cat "$T")" "$c0" 3
}
ktap_test_result "follow carries on through exec (re-attached before the new program runs)" follow_through_exec

single_ignores_children() {
	forker -n 2 -k 100 -d 2 >/dev/null &
	F=$!
	sleep 1
	write_target "$F\n" >/dev/null
	wait $F
	grep -q "^pid=$F comm=forker mode=single state=exited " "$T"
}
ktap_test_result "single mode stays with the parent when it forks" single_ignores_children

random_workload() {
	# 35,000 operations in the main thread (a twentieth on the debug kernel),
	# two threads mutating their own arenas all along (about 2.5x as
	# many), forks; check every 300 operations while the threads run.
	# vma_random attaches itself.
	out=$(vma_random -s "${VMATRACK_SEED:-1}" -n $((35000 / VMATRACK_SCALE)) -c 300 -t 2 2>/tmp/vr.err)
	r=$?
	ktap_print_msg "$out"
	[ $r -eq 0 ] || head -n 20 /tmp/vr.err | while read -r l; do ktap_print_msg "$l"; done
	total=$(echo "$out" | sed -n 's/.* ops=\([0-9]*\) thread_ops=\([0-9]*\) .*/\1 \2/p')
	set -- $total
	[ $r -eq 0 ] && [ $(($1 + $2)) -ge $((100000 / VMATRACK_SCALE)) ]
}
ktap_test_result "random workload (>=$((100000 / VMATRACK_SCALE)) ops, threads, fork): every check ok" random_workload

maps_at_scale() {
	# About 64,000 VMAs (vm.max_map_count is 65,530): maps streams them,
	# rendered once, and matches /proc line for line.
	rm -f /tmp/go.scale
	mkfifo /tmp/go.scale
	vma_scale -v $((32000 / VMATRACK_SCALE)) -k 0 -w -z 600 </tmp/go.scale >/tmp/scale.out &
	S=$!
	exec 3>/tmp/go.scale
	while ! grep -q vmas= /tmp/scale.out 2>/dev/null; do sleep 1; done
	write_target "$S\n" >/dev/null
	t0=$(cut -d' ' -f1 /proc/uptime)
	cat "$VMATRACK_DEBUGFS/maps" >/tmp/maps.scale
	t1=$(cut -d' ' -f1 /proc/uptime)
	n=$(wc -l </tmp/maps.scale)
	ktap_print_msg "maps of $n VMAs read in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	diff /proc/$S/maps /tmp/maps.scale >/dev/null
	r=$?
	kill $S
	exec 3>&-
	wait $S 2>/dev/null
	echo none >"$T"
	[ $r -eq 0 ] && [ "$n" -ge $((60000 / VMATRACK_SCALE)) ]
}
ktap_test_result "maps of a $((64000 / VMATRACK_SCALE))-VMA target equals /proc/PID/maps" maps_at_scale

# A store made from deep inside a system call: the kernel grows the
# target's stack from a page fault that copy_to_user() takes in pipe_read().
# The probe only records the store (about 0.5 KiB of stack, measured from
# the module's frames), so what it had left on entry must leave a wide
# margin; the debug guest's vmapped stacks would fault on an overflow.
stack_grown_in_kernel() {
	rm -f /tmp/sg.fifo /tmp/sg.out
	mkfifo /tmp/sg.fifo
	stack_grow /tmp/sg.fifo >/tmp/sg.out &
	G=$!
	while ! grep -q ready /tmp/sg.out; do sleep 1; done
	r=1
	if [ "$(write_target "$G\n")" = ok ]; then
		echo go >/tmp/sg.fifo
		while ! grep -q done /tmp/sg.out && kill -0 $G 2>/dev/null; do sleep 1; done
		left=$(sed -n 's/^# stack: least left on entry to a store of the target: \([0-9]*\) bytes$/\1/p' "$VMATRACK_DEBUGFS/probes")
		ktap_print_msg "least stack left on entry to a store: ${left:-none} bytes"
		grep -q done /tmp/sg.out && [ -n "$left" ] && [ "$left" -ge 4096 ] &&
			cat "$VMATRACK_DEBUGFS/maps" >/tmp/sg.shadow && cat /proc/$G/maps >/tmp/sg.kernel &&
			diff /tmp/sg.kernel /tmp/sg.shadow >/dev/null
		r=$?
	fi
	kill $G
	wait $G 2>/dev/null
	return $r
}
ktap_test_result "a stack grown by the kernel inside read(2) is mirrored, with stack to spare" stack_grown_in_kernel

rmmod_busy() {
	churn -s 11 -n 200000 -f 1000 >/dev/null &
	B=$!
	write_target "$B\n" >/dev/null
	(while [ -e "$VMATRACK_DEBUGFS/maps" ]; do cat "$VMATRACK_DEBUGFS/maps" >/dev/null 2>&1; done) &
	R=$!
	sleep 2
	# An open file pins the module: rmmod is refused until the reader is
	# between two opens.
	r=1
	for _ in $(seq 500); do
		rmmod vmatrack 2>/dev/null && { r=0; break; }
	done
	wait $R
	kill $B 2>/dev/null
	wait $B 2>/dev/null
	[ $r -eq 0 ] && insmod "$VMATRACK_KO" && [ -r "$T" ]
}
ktap_test_result "rmmod while the target is busy and maps is being read, then insmod" rmmod_busy

ktap_test_result "kernel log has no BUG/WARNING/Oops lines" kernel_log_clean

ktap_finished
