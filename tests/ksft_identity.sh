#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Which process is mirrored, and what its maps say, when the target does
# things that are not changes to its own VMAs: spawns a program through a
# child that shares its mm (vfork, posix_spawn, system), exits and has its
# pid reused, renames a file it has mapped.
. ./lib.sh

T=$VMATRACK_DEBUGFS/target
FIFO=/tmp/identity.fifo

ktap_print_header
ktap_set_plan 10

write_target() { write_file "$T" "$1"; }

# stop PID: kill and reap a background process.
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# wait_line FILE WORD: until FILE has a line WORD (at most 120 s).
wait_line() {
	for _ in $(seq 120); do
		grep -qx "$2" "$1" && return 0
		sleep 1
	done
	ktap_print_msg "timed out waiting for '$2' in $1"
	return 1
}

# maps_same PID: the shadow's maps equals /proc/PID/maps.
maps_same() {
	cat "$VMATRACK_DEBUGFS/maps" >/tmp/id.shadow && cat /proc/$1/maps >/tmp/id.kernel &&
		diff /tmp/id.kernel /tmp/id.shadow >/tmp/id.diff && return 0
	head -n 10 /tmp/id.diff | while IFS= read -r l; do ktap_print_msg "$l"; done
	return 1
}

# spawn_keeps_target HOW: a single-mode target whose child, sharing the
# target's mm (CLONE_VM | CLONE_VFORK), execs /bin/true. The child's exec
# is not the target's: the mirror stays with the parent, live, exact.
spawn_keeps_target() {
	rm -f $FIFO /tmp/spawner.out
	mkfifo $FIFO
	spawner $FIFO "$1" >/tmp/spawner.out &
	S=$!
	wait_line /tmp/spawner.out ready && [ "$(write_target "$S\n")" = ok ] || { stop $S; return 1; }
	echo go >$FIFO
	wait_line /tmp/spawner.out done || { stop $S; return 1; }
	line=$(cat "$T")
	ktap_print_msg "$line"
	echo "$line" | grep -q "^pid=$S comm=spawner mode=single state=live " && maps_same $S
	r=$?
	stop $S
	return $r
}
for how in vfork posix_spawn system; do
	ktap_test_result "a $how child that execs leaves the mirror on its parent" spawn_keeps_target $how
done

# The target is a process, not a number: once it has exited, a new process
# given the same pid (clone3 with set_tid) is not taken for it.
pid_reused() {
	sleep 3 &
	X=$!
	sleep 1 # the forked shell has exec'd sleep
	[ "$(write_target "$X\n")" = ok ] || return 1
	wait $X
	# Made after the exit, before anyone reads the mirror.
	[ "$(spawner at-pid $X)" = "$X" ] || { ktap_print_msg "could not get pid $X again"; return 1; }
	line=$(cat "$T")
	ktap_print_msg "$line"
	ktap_print_msg "pid $X is now: $(cat /proc/$X/comm)"
	echo "$line" | grep -q "^pid=$X comm=sleep mode=single state=exited vmas=0 "
	r=$?
	kill $X
	return $r
}
ktap_test_result "a new process with an exited target's pid is not the target" pid_reused

# maps prints a file VMA's path as /proc/PID/maps does at the time of the
# read: after a rename, the new name (for the old mapping and a new one).
renamed_file() {
	rm -f $FIFO /tmp/spawner.out /tmp/id-old /tmp/id-new
	mkfifo $FIFO
	echo data >/tmp/id-old
	spawner $FIFO rename /tmp/id-old /tmp/id-new >/tmp/spawner.out &
	S=$!
	wait_line /tmp/spawner.out ready && [ "$(write_target "$S\n")" = ok ] || { stop $S; return 1; }
	# Read once with the old name, so that a cached name would be stale.
	grep -q ' /tmp/id-old$' "$VMATRACK_DEBUGFS/maps" || { stop $S; return 1; }
	echo go >$FIFO
	wait_line /tmp/spawner.out done || { stop $S; return 1; }
	maps_same $S && [ "$(grep -c ' /tmp/id-new$' "$VMATRACK_DEBUGFS/maps")" = 2 ]
	r=$?
	stop $S
	return $r
}
ktap_test_result "maps shows a renamed file's new path, as /proc/PID/maps does" renamed_file

# The follow task work, slowed down by the module's test hook: it sleeps
# DELAY ms before it moves the mirror to a new child, and DELAY ms after.
DELAY=/sys/module/vmatrack/parameters/debug_follow_delay_ms

# moves NAME: the count NAME= of the `# moves` line of `probes`.
moves() { sed -n "s/^# moves .* $1=\([0-9]*\).*/\1/p" "$VMATRACK_DEBUGFS/probes"; }

# wait_moves NAME N: until moves NAME reaches N (at most 60 s).
wait_moves() {
	for _ in $(seq 600); do
		[ "$(moves "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	ktap_print_msg "timed out waiting for $1=$2: $(grep '^# moves' "$VMATRACK_DEBUGFS/probes")"
	return 1
}

# A follow move that was on its way when `target` was written is not made:
# the write decides which process is mirrored.
switch_beats_queued_move() {
	sleep 600 &
	Q=$!
	forker -n 1 -k 10 -d 2 >/dev/null &
	F=$!
	sleep 1 # both forked shells have exec'd
	echo 3000 >$DELAY
	asked=$(moves asked) done=$(moves done)
	r=1
	if [ "$(write_target "follow $F\n")" = ok ] && wait_moves asked $((asked + 1)) &&
		[ "$(write_target "$Q\n")" = ok ] && wait_moves done $((done + 1)); then
		sleep 1
		line=$(cat "$T")
		ktap_print_msg "$line"
		echo "$line" | grep -q "^pid=$Q comm=sleep mode=single state=live "
		r=$?
	fi
	echo 0 >$DELAY
	wait $F
	stop $Q
	return $r
}
ktap_test_result "a target write wins over a follow move queued before it" switch_beats_queued_move

# rmmod while a new child is still inside the follow task work (its last
# sleep, after the move): the module stays until the work has returned.
rmmod_during_move() {
	forker -n 1 -k 10 -d 2 >/dev/null &
	F=$!
	sleep 1
	echo 3000 >$DELAY
	done=$(moves done)
	r=1
	if [ "$(write_target "follow $F\n")" = ok ] && wait_moves done $((done + 1)); then
		sleep 1 # the move is made; the work sleeps once more
		refused=0
		for _ in $(seq 300); do
			rmmod vmatrack 2>/dev/null && break
			refused=$((refused + 1))
			sleep 0.1
		done
		ktap_print_msg "rmmod refused $refused times before it went through"
		# The child has left the task work and run to its exit before
		# anything is loaded again (a new module image at the same
		# address would hide a return into the old one).
		# Refused at first: the work had 2 s of module text still to run
		# when the first rmmod came.
		[ $refused -gt 0 ] && ! vmatrack_loaded && wait $F && kernel_log_clean &&
			insmod "$VMATRACK_KO" && [ -r "$T" ]
		r=$?
	fi
	vmatrack_loaded || insmod "$VMATRACK_KO"
	[ -e $DELAY ] && echo 0 >$DELAY
	wait $F 2>/dev/null
	return $r
}
ktap_test_result "rmmod during a follow move waits for the move's task work to return" rmmod_during_move

# An unregistration can skip a kretprobe's return handler (a task still
# inside the function when it happens). The test hook skips the fork
# probe's return handler every time: the entry handler must have left
# nothing behind (a claimed move, a task reference), so a detach returns
# at once and the child is simply not followed.
SKIP=/sys/module/vmatrack/parameters/debug_skip_fork_return
skipped_fork_return() {
	forker -n 1 -k 10 -d 2 >/dev/null &
	F=$!
	sleep 1
	echo 1 >$SKIP
	r=1
	if [ "$(write_target "follow $F\n")" = ok ] && wait $F; then
		line=$(cat "$T")
		ktap_print_msg "$line"
		ktap_print_msg "$(grep '^# moves' "$VMATRACK_DEBUGFS/probes")"
		# Still on the parent, and a detach does not wait for a move.
		echo "$line" | grep -q "^pid=$F comm=forker mode=follow " &&
			[ "$(/usr/libexec/vmatrack-timeout 30 sh -c "cd $VMATRACK_DEBUGFS && fileop write target 'none\n'")" = ok ]
		r=$?
	fi
	echo 0 >$SKIP
	return $r
}
ktap_test_result "a skipped fork return handler leaves no claim behind: detach returns" skipped_fork_return

# In follow mode the root's forks are followed while the root lives. Once
# it and its children have exited, nothing may be followed any more: new
# processes forking (and reusing freed mm_structs) are not the root's.
no_follow_after_root_exits() {
	forker -n 2 -k 100 -d 2 >/dev/null &
	F=$!
	sleep 1
	[ "$(write_target "follow $F\n")" = ok ] && wait $F || return 1
	line0=$(cat "$T")
	for _ in $(seq 60); do sh -c 'true & wait'; done
	line1=$(cat "$T")
	ktap_print_msg "after the root exited: $line0"
	ktap_print_msg "after 60 other forks:  $line1"
	[ "$(field pid "$line1")" = "$(field pid "$line0")" ] && echo "$line1" | grep -q " state=exited "
}
ktap_test_result "after a followed root exits, other processes' forks are not followed" no_follow_after_root_exits

write_target "none\n" >/dev/null
ktap_test_result "kernel log has no BUG/WARNING/Oops lines" kernel_log_clean

ktap_finished
