#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Last of the suite (hence the name): after every other test has loaded,
# used and unloaded vmatrack, unload it once more and ask kmemleak whether
# anything allocated since boot was leaked. run_tests.sh cleared kmemleak's
# list before the first test, so what is reported here was allocated
# while the suite ran. Needs a kernel with CONFIG_DEBUG_KMEMLEAK (the
# x86_64-debug guest); the others skip with that reason.
. ./lib.sh

K=/sys/kernel/debug/kmemleak

ktap_print_header
if [ ! -e "$K" ]; then
	ktap_skip_all "no kmemleak in the $VMATRACK_GUEST kernel (the x86_64-debug guest runs this)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 3

unload() {
	echo none >"$VMATRACK_DEBUGFS/target" 2>/dev/null
	for _ in $(seq 50); do
		rmmod vmatrack 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
ktap_test_result "vmatrack unloads" unload

no_leaks() {
	# kmemleak reports an object only once it is older than 5 s and was
	# unreferenced in two scans.
	sleep 6
	echo scan >"$K"
	echo scan >"$K"
	cat "$K" >/tmp/kmemleak.out
	n=$(grep -c '^unreferenced object' /tmp/kmemleak.out)
	ktap_print_msg "kmemleak: $n unreferenced objects"
	head -n 40 /tmp/kmemleak.out | while read -r l; do ktap_print_msg "$l"; done
	[ "$n" = 0 ]
}
ktap_test_result "kmemleak finds nothing after rmmod and two scans" no_leaks

ktap_test_result "vmatrack loads again" insmod "$VMATRACK_KO"

ktap_finished
