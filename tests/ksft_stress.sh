#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A bounded stress run: readers looping over the files while a threaded
# target mutates its VMAs and the target is attached and detached in a
# loop; then the module unloaded and loaded again in a loop, with readers
# on its files until it goes and reads right after it comes back. Then a
# quiescent target must check ok and the kernel log must be clean.
#
# STRESS_SECONDS (default 40): two thirds for the mixed phase, one third
# for the reload phase (at least 3 reloads whatever the time).
# STRESS_FOLLOW=0 leaves `follow PID` out of the attach loop (default 1:
# in). A watchdog ends the file with "Bail out!" after 60 s without
# progress, having printed every task's state and asked the kernel for
# backtraces (sysrq l and w, in the kernel log). Whatever may get stuck in
# the kernel writes only to files, so that the runner's pipe closes when
# the shells are gone.
. ./lib.sh

D=$VMATRACK_DEBUGFS
T=$D/target
SECS=${STRESS_SECONDS:-40}
MIX=$((SECS * 2 / 3))
RELOAD=$((SECS - MIX))
W=/tmp/stress
# How long without progress means stuck, and how long the loops may take
# to stop: the debug kernel is several times slower (its hung-task
# detector reports a kernel-side hang there by itself).
STUCK=60 STOP=120
[ "$VMATRACK_SCALE" = 1 ] || STUCK=180 STOP=360
READ_FILES="maps tree check events stats unmerged"
FOLLOW=
[ "${STRESS_FOLLOW:-1}" = 0 ] || FOLLOW=1
# Read after every insmod: all but bench and selftest (minutes and seconds).
ALL_FILES="version target maps tree check events probes stats unmerged"
rm -rf "$W"
mkdir -p "$W"

ktap_print_header
ktap_set_plan 11

now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%d", b - a }'; }
elapsed2() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
print_file() { head -n "${2:-20}" "$1" | while IFS= read -r l; do ktap_print_msg "  $l"; done; }

# reader FILE: reads FILE until $W/stop; counts reads that succeeded and
# failed; for check, the verdicts that were a divergence (FAIL).
reader() {
	ok=0 bad=0 fails=0
	while [ ! -e "$W/stop" ]; do
		if cat "$D/$1" >"$W/out.$1" 2>>"$W/err.$1"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
		if [ "$1" = check ] && grep -q '^FAIL' "$W/out.check"; then
			fails=$((fails + 1))
			cp "$W/out.check" "$W/checkfail.$fails"
		fi
	done
	echo "$ok $bad $fails" >"$W/count.$1"
}

# vma_random_loop: seeded runs of the threaded workload (3 threads beside
# the main one) until $W/stop. Each run attaches itself at its start;
# its own final check is not counted (the attacher moves the mirror
# away), but every run must get to its summary line.
vma_random_loop() {
	i=0 runs=0 ops=0 bad=0
	while [ ! -e "$W/stop" ]; do
		i=$((i + 1))
		vma_random -s "$i" -n "${STRESS_OPS:-$((3000 / VMATRACK_SCALE))}" -c 1000000 -t 3 >"$W/vr.out" 2>"$W/vr.err"
		n=$(sed -n 's/.* ops=\([0-9]*\) thread_ops=\([0-9]*\) .*/\1 \2/p' "$W/vr.out")
		if [ -n "$n" ]; then
			set -- $n
			ops=$((ops + $1 + $2)) runs=$((runs + 1))
		else
			bad=$((bad + 1))
			cp "$W/vr.err" "$W/vr.bad.$bad"
		fi
	done
	echo "$runs $ops $bad" >"$W/count.vma_random"
}

# churn_loop: forking churn runs until $W/stop.
churn_loop() {
	i=0 runs=0 ops=0 bad=0
	while [ ! -e "$W/stop" ]; do
		i=$((i + 1))
		if churn -s "$i" -n 2000 -f 100 >"$W/churn.out" 2>&1; then
			ops=$((ops + 2000)) runs=$((runs + 1))
		else
			bad=$((bad + 1))
			cp "$W/churn.out" "$W/churn.bad.$bad"
		fi
	done
	echo "$runs $ops $bad" >"$W/count.churn"
}

# attacher: attaches to whichever workload process exists (single, then
# follow unless STRESS_FOLLOW=0), reads target, detaches, until $W/stop.
# Counts what was taken
# and why anything was refused (ESRCH, EINVAL: the process went away).
attacher() {
	ok=0 det=0
	: >"$W/attach.refused"
	while [ ! -e "$W/stop" ]; do
		for p in $(pidof vma_random churn); do
			for cmd in "$p" ${FOLLOW:+"follow $p"}; do
				r=$(fileop write "$T" "$cmd\n" 2>>"$W/attach.err")
				if [ "$r" = ok ]; then ok=$((ok + 1)); else echo "$r" >>"$W/attach.refused"; fi
				cat "$T" >/dev/null 2>>"$W/attach.err"
			done
			r=$(fileop write "$T" 'none\n' 2>>"$W/attach.err")
			if [ "$r" = ok ]; then det=$((det + 1)); else echo "none: $r" >>"$W/attach.refused"; fi
		done
	done
	echo "$ok $det" >"$W/count.attach"
}

# gone PID: the process has exited (no such process, or a zombie).
gone() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
# dump_stuck: every user process's state, wait channel and system call,
# then the kernel's backtraces of running CPUs and blocked tasks (sysrq l,
# w: in the kernel log).
dump_stuck() {
	for d in /proc/[0-9]*/task/[0-9]*; do
		[ -n "$(tr -d '\0' <"$d/cmdline" 2>/dev/null)" ] || continue # kernel threads
		st=$(sed 's/^[0-9]* (\(.*\)) \(.\) .*/\1 \2/' "$d/stat" 2>/dev/null)
		ktap_print_msg "  ${d#/proc/} $st wchan=$(cat "$d/wchan" 2>/dev/null) syscall=$(cut -d' ' -f1 "$d/syscall" 2>/dev/null)"
	done
	echo l >/proc/sysrq-trigger
	echo w >/proc/sysrq-trigger
}
# progress: the test is alive (heartbeats, reload steps).
# Written aside and renamed: the watchdog must never read a truncated,
# empty file (which it once took for "no progress since boot").
progress() { now >"$W/progress.new" && mv "$W/progress.new" "$W/progress"; }
# watchdog: when the test has made no progress for 60 s, prints every
# user task's state and asks the kernel for backtraces, once; the test
# then fails (if it ever gets to its end). It reads no vmatrack file.
watchdog() {
	while [ ! -e "$W/done" ]; do
		sleep 5
		p=$(cat "$W/progress")
		[ -n "$p" ] || continue
		if [ "$(elapsed "$p")" -ge "$STUCK" ] && [ ! -e "$W/stuck" ]; then
			touch "$W/stuck"
			ktap_print_msg "watchdog: no progress since $p (now $(now)); user tasks (pid/task comm state):"
			dump_stuck
			# Tasks stuck in the kernel stay stuck: end the file now
			# rather than at the runner's timeout. Killed: the main
			# shell and every loop it started (whose children, stuck
			# or not, write only to files under $W).
			echo "Bail out! stuck for $STUCK s: the tasks above, sysrq's backtraces in the kernel log"
			kill -9 $(cat "$W/pids") $$ 2>/dev/null
			exit 1
		fi
	done
}

t0=$(now)
ktap_print_msg "mixed phase starts at $t0 (attach loop: single${FOLLOW:+ and follow})"
progress
: >"$W/pids"
watchdog &
wd=$!
pids=
for f in $READ_FILES; do
	reader "$f" &
	pids="$pids $!"
done
vma_random_loop &
pids="$pids $!"
churn_loop &
pids="$pids $!"
attacher &
pids="$pids $!"
echo $pids >"$W/pids"
# A heartbeat every 10 s: when something hangs, the last one says when.
while [ "$(elapsed "$t0")" -lt "$MIX" ]; do
	sleep 10
	progress
	ktap_print_msg "t=$(now): $(head -n 1 "$T" 2>&1)"
done
touch "$W/stop"
ktap_print_msg "mixed phase: stop at $(now) after $(elapsed2 "$t0") s (asked for $MIX s)"

loops_stopped() {
	n=0
	for p in $pids; do
		while ! gone "$p"; do
			n=$((n + 1))
			[ $n -lt "$STOP" ] || { ktap_print_msg "pid $p still running $STOP s after the stop"; [ -e "$W/stuck" ] || dump_stuck; return 1; }
			# Loops finishing their last run is progress.
			progress
			sleep 1
		done
		wait "$p"
	done
	ktap_print_msg "mixed phase: every loop gone at $(now), $(elapsed2 "$t0") s after its start"
}
if ! loops_stopped; then
	ktap_test_fail "mixed phase: every loop stopped within $STOP s of the stop"
	touch "$W/done"
	ktap_exit_fail_msg "stuck: see the process list above and sysrq's backtraces in the kernel log"
fi
ktap_test_pass "mixed phase: every loop stopped within $STOP s of the stop"

readers_ok() {
	r=0
	for f in $READ_FILES; do
		set -- $(cat "$W/count.$f")
		ktap_print_msg "reads of $f: $1 ok, $2 failed"
		[ "$1" -gt 0 ] && [ "$2" = 0 ] || r=1
		[ -s "$W/err.$f" ] && print_file "$W/err.$f" 5
	done
	return $r
}
ktap_test_result "mixed phase: every reader read its file, no read failed" readers_ok

check_never_failed() {
	set -- $(cat "$W/count.check")
	[ "$3" = 0 ] && return 0
	ktap_print_msg "check said FAIL $3 times; the first:"
	print_file "$W/checkfail.1"
	return 1
}
ktap_test_result "mixed phase: check never reported a divergence" check_never_failed

workloads_ok() {
	set -- $(cat "$W/count.vma_random")
	ktap_print_msg "vma_random: $1 runs, $2 ops (main + threads), $3 without a summary"
	[ "$3" = 0 ] || print_file "$W/vr.bad.1"
	vr_runs=$1 vr_bad=$3
	set -- $(cat "$W/count.churn")
	ktap_print_msg "churn: $1 runs, $2 ops, $3 failed"
	[ "$3" = 0 ] || print_file "$W/churn.bad.1"
	[ "$vr_runs" -gt 0 ] && [ "$vr_bad" = 0 ] && [ "$1" -gt 0 ] && [ "$3" = 0 ]
}
ktap_test_result "mixed phase: every workload run completed" workloads_ok

attaches_ok() {
	set -- $(cat "$W/count.attach")
	ktap_print_msg "attaches: $1 taken, detaches: $2, refused: $(sort "$W/attach.refused" | uniq -c | tr -s ' \n' ' ')"
	# A process can go between pidof and the write: ESRCH, or EINVAL
	# while it exits; nothing else may refuse a good command.
	[ "$1" -gt 0 ] && [ "$2" -gt 0 ] && ! grep -Evq '^(ESRCH|EINVAL)$' "$W/attach.refused"
}
ktap_test_result "mixed phase: attaches and detaches taken, refused only for gone processes" attaches_ok

# The reload phase: a busy, forking target stays attached across each
# unload; readers hold the files until the module goes.
churn -s 99 -n 1000000000 -f 200 >/dev/null 2>&1 &
C=$!
sleep 1 # let the forked shell exec churn first

# hammer: reads every file in turn while the directory exists.
hammer() {
	while [ -d "$D" ]; do
		for f in $ALL_FILES; do cat "$D/$f" >/dev/null 2>&1; done
	done
}
# early: waits for the directory to appear (insmod in progress), then
# reads whatever files exist for a second.
early() {
	while [ ! -d "$D" ]; do :; done
	e0=$(now)
	while [ "$(elapsed "$e0")" -lt 1 ]; do
		for f in $ALL_FILES; do cat "$D/$f" >/dev/null 2>&1; done
	done
}

# trace K STEP: one line per step, with the uptime, to put beside the
# kernel log's timestamps if the kernel dies.
trace() {
	progress
	ktap_print_msg "reload $1: $2 at $(now)"
}

reloads=0 tries=0 reload_fail=0 read_fail=0
: >"$W/reload.log"
t1=$(now)
while [ "$(elapsed "$t1")" -lt "$RELOAD" ] || [ "$reloads" -lt 3 ]; do
	k=$((reloads + 1))
	r=$(fileop write "$T" "$C\n" 2>>"$W/reload.log")
	[ "$r" = ok ] || echo "reload $k: attach to churn: $r" >>"$W/reload.log"
	hammer &
	h1=$!
	hammer &
	h2=$!
	echo $h1 $h2 >"$W/pids"
	trace $k "attached to churn ($r), 2 readers started"
	sleep 1
	# An open file pins the module: rmmod is refused until both readers
	# are between two opens.
	gone=0 n=0
	for _ in $(seq 2000); do
		n=$((n + 1))
		rmmod vmatrack 2>/dev/null && { gone=1; break; }
	done
	tries=$((tries + n))
	if [ $gone = 0 ]; then
		echo "reload $k: rmmod refused 2000 times" >>"$W/reload.log"
		reload_fail=$((reload_fail + 1))
		break
	fi
	trace $k "rmmod done ($n calls)"
	wait $h1 $h2
	early &
	e=$!
	echo $e >"$W/pids"
	trace $k "readers gone, insmod with an early reader waiting"
	if ! insmod "$VMATRACK_KO" 2>>"$W/reload.log" || [ ! -r "$T" ]; then
		echo "reload $k: insmod failed or no files" >>"$W/reload.log"
		reload_fail=$((reload_fail + 1))
		wait $e
		break
	fi
	trace $k "insmod done"
	wait $e
	reloads=$k
	trace $k "early reader done, reading every file"
	# Right after the load: every file once, then attached.
	for f in $ALL_FILES; do
		cat "$D/$f" >/dev/null 2>>"$W/reload.log" || { read_fail=$((read_fail + 1)); echo "reload $k: reading $f failed" >>"$W/reload.log"; }
	done
	r=$(fileop write "$T" "$C\n" 2>>"$W/reload.log")
	[ "$r" = ok ] || echo "reload $k: attach after insmod: $r" >>"$W/reload.log"
	trace $k "read every file, attached ($r), reading maps check stats events"
	for f in maps check stats events; do
		cat "$D/$f" >/dev/null 2>>"$W/reload.log" || { read_fail=$((read_fail + 1)); echo "reload $k: reading $f (attached) failed" >>"$W/reload.log"; }
	done
	trace $k "done"
done
reload_secs=$(elapsed2 "$t1")
kill $C
wait $C 2>/dev/null
ktap_print_msg "reload phase: $reloads reloads in $reload_secs s, $tries rmmod calls"

reloads_ok() {
	[ -s "$W/reload.log" ] && print_file "$W/reload.log"
	[ "$reloads" -ge 3 ] && [ "$reload_fail" = 0 ] && vmatrack_loaded
}
ktap_test_result "rmmod/insmod loop with readers and an attached target: reloaded every time (>= 3)" reloads_ok

ktap_test_result "reads right after each insmod, detached and attached, all succeeded" [ "$read_fail" = 0 ]

quiescent_check() {
	churn -s 3 -n 500 -f 0 -z 600 >"$W/q.out" &
	Q=$!
	while ! grep -q vmas= "$W/q.out"; do sleep 1; done
	[ "$(fileop write "$T" "$Q\n")" = ok ] || return 1
	out=$(cat "$D/check")
	ktap_print_msg "check: $out"
	n=$(wc -l <"/proc/$Q/maps")
	[ "$out" = "ok vmas=$n" ] && cat "$D/maps" | diff "/proc/$Q/maps" - >/dev/null
	r=$?
	kill $Q
	wait $Q 2>/dev/null
	return $r
}
ktap_test_result "after the stress: attached to a quiescent target, check ok and maps equal" quiescent_check

detached_at_end() {
	[ "$(fileop write "$T" 'none\n')" = ok ] && grep -q 'state=detached' "$T" &&
		grep -q '^# registered' "$D/probes"
}
ktap_test_result "module loaded and detached at the end, probes still registered (until rmmod)" detached_at_end

touch "$W/done"
wait $wd
ktap_test_result "the watchdog never saw $STUCK s without progress" [ ! -e "$W/stuck" ]

ktap_print_msg "duration: $(elapsed2 "$t0") s (STRESS_SECONDS=$SECS)"
ktap_test_result "kernel log has no BUG/WARNING/Oops lines" kernel_log_clean

ktap_finished
