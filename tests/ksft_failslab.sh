#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Injected allocation failures in the shadow's own slab cache
# (vmatrack_node), through failslab's cache filter with sleeping
# allocations included: while attaching, while live changes refill the node
# pool from irq_work, and while readers resync a stale mirror. Every
# failure must end with an errno or a stale mirror, never a crash, and the
# mirror must be exact again (check ok) once the failures stop. Needs
# CONFIG_FAILSLAB and its debugfs (the x86_64-debug guest); the others skip
# with that reason.
. ./lib.sh

F=/sys/kernel/debug/failslab
C=/sys/kernel/slab/vmatrack_node
T=$VMATRACK_DEBUGFS/target
TIMES=1000000

ktap_print_header
if [ ! -d "$F" ] || [ ! -e "$C/failslab" ]; then
	ktap_skip_all "no failslab or no $C/failslab in the $VMATRACK_GUEST kernel (the x86_64-debug guest runs this)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 7

# inject PERCENT: fail that share of vmatrack_node allocations, sleeping
# ones included; 0 stops. `times` counts down once per injected failure.
inject() {
	echo "$1" >"$F/probability"
}

injected() { echo $((TIMES - $(cat "$F/times"))); }

setup() {
	echo 1 >"$C/failslab" &&
		echo Y >"$F/cache-filter" &&
		echo N >"$F/ignore-gfp-wait" &&
		echo 0 >"$F/interval" &&
		echo 0 >"$F/space" &&
		echo 0 >"$F/verbose" &&
		echo "$TIMES" >"$F/times" &&
		inject 0
}
ktap_test_result "failslab aims at vmatrack_node only, sleeping allocations included" setup

# write_target VALUE: one write(2) of VALUE and a newline to `target`.
write_target() { write_file "$T" "$1\n"; }

# check_ok: the shadow equals the kernel's tree (reading check resyncs a
# stale mirror first).
check_ok() { grep -q '^ok vmas=' "$VMATRACK_DEBUGFS/check"; }

churn -s 21 -n 3000 -f 0 -z 600 >/tmp/churn.out &
P=$!
while [ ! -s /tmp/churn.out ]; do sleep 1; done

attach_under_failures() {
	inject 50
	ok=0 enomem=0 other=0
	for _ in $(seq 40); do
		r=$(write_target "$P")
		case $r in
		ok) ok=$((ok + 1)) ;;
		ENOMEM) enomem=$((enomem + 1)) ;;
		*) other=$((other + 1)); ktap_print_msg "unexpected: $r" ;;
		esac
		write_target none >/dev/null
	done
	inject 0
	ktap_print_msg "40 attaches at 50%: $ok attached, $enomem ENOMEM, $other other; injected so far $(injected)"
	[ "$other" = 0 ] && [ "$enomem" -gt 0 ]
}
ktap_test_result "attach under failures: each write attaches or returns ENOMEM" attach_under_failures

attach_after() { [ "$(write_target "$P")" = ok ] && check_ok; }
ktap_test_result "with failures stopped, attach succeeds and check is ok" attach_after
kill $P
wait $P 2>/dev/null

live_under_failures() {
	# A target changing its VMAs for a while, mirrored live, while a
	# quarter of the node allocations fail: the worker applying the
	# recorded changes (GFP_ATOMIC, preemption off), the readers applying
	# the rest, and the resyncs readers start all meet failures. 5,000 operations
	# inject several thousand failures on the debug kernel.
	churn -s 22 -n 5000 -f 0 -d 1 -z 600 >/tmp/churn2.out &
	L=$!
	[ "$(write_target "$L")" = ok ] || return 1
	before=$(injected)
	inject 25
	reads=0 errors=0
	while [ ! -s /tmp/churn2.out ]; do
		for f in maps check tree stats unmerged; do
			cat "$VMATRACK_DEBUGFS/$f" >/dev/null 2>&1 || errors=$((errors + 1))
			reads=$((reads + 1))
		done
	done
	inject 0
	n=$(($(injected) - before))
	ktap_print_msg "live churn at 25%: $n failures injected, $reads reads ($errors returned an error)"
	ktap_print_msg "$(cat "$T")"
	[ "$n" -gt 0 ]
}
ktap_test_result "live changes and resyncs under failures: no crash, failures injected" live_under_failures

recovers() {
	check_ok && cat "$VMATRACK_DEBUGFS/maps" | diff /proc/$L/maps - >/dev/null
}
ktap_test_result "after the failures stop: check ok, maps equal /proc/PID/maps" recovers
ktap_print_msg "failures injected in all: $(injected), every one survived"
kill $L
wait $L 2>/dev/null
write_target none >/dev/null
echo 0 >"$C/failslab"

reload() { rmmod vmatrack && insmod "$VMATRACK_KO"; }
ktap_test_result "rmmod and insmod after the failures" reload

ktap_test_result "kernel log has no BUG/WARNING/Oops/KASAN lines" kernel_log_clean

ktap_finished
