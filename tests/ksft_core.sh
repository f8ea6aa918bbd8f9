#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The range-tree core inside the kernel: the module's KUnit suite (the
# tree alone, on the kernel's allocators and RCU), its randomized selftest
# file (checked against the kernel's C maple tree) and the bench file.
. ./lib.sh

ktap_print_header

# The KUnit suite registers when the module loads (CONFIG_KUNIT=y) and runs
# when its debugfs "run" file is written: synchronously, results in KTAP.
# One result per case it reports, so the plan follows from its own plan.
kunit=/sys/kernel/debug/kunit/vmatrack_rangetree
kunit_out=/tmp/kunit.out
: >"$kunit_out"
if [ -d /sys/kernel/debug/kunit ]; then
	[ -d "$kunit" ] && echo 1 >"$kunit/run" && cat "$kunit/results" >"$kunit_out"
	sed 's/^/  /' "$kunit_out" | while read -r l; do ktap_print_msg "$l"; done
fi
# The cases: "ok N name" lines one level in (the suite's own line is not).
kunit_cases=$(sed -n 's/^ \{4\}\(not \)\{0,1\}ok [0-9]* \([a-z0-9_]*\).*/\2/p' "$kunit_out")
ktap_set_plan $((5 + $(echo "$kunit_cases" | grep -c .)))

kunit_suite_ran() {
	plan=$(sed -n 's/^ \{4\}1\.\.//p' "$kunit_out")
	[ -n "$plan" ] && [ "$plan" -ge 4 ] && [ "$(echo "$kunit_cases" | grep -c .)" = "$plan" ]
}
if [ -d /sys/kernel/debug/kunit ]; then
	ktap_test_result "KUnit suite vmatrack_rangetree registered and ran every case it plans" kunit_suite_ran
else
	ktap_test_skip "KUnit suite vmatrack_rangetree: kernel without CONFIG_KUNIT=y"
fi
for c in $kunit_cases; do
	kunit_case_ok() { grep -Eq "^ {4}ok [0-9]+ $c\$" "$kunit_out"; }
	ktap_test_result "KUnit: $c" kunit_case_ok
done

out=/tmp/selftest.out
cat "$VMATRACK_DEBUGFS/selftest" >"$out" 2>&1
sed 's/^/  /' "$out" | while read -r l; do ktap_print_msg "$l"; done

selftest_has_plan() { grep -Eq '^1\.\.[1-9][0-9]*$' "$out"; }
ktap_test_result "selftest prints a KTAP plan" selftest_has_plan

selftest_all_ok() {
	plan=$(sed -n 's/^1\.\.//p' "$out")
	[ "$(grep -c '^ok ' "$out")" = "$plan" ] && ! grep -q '^not ok' "$out"
}
ktap_test_result "every in-kernel core case passes (seeded, vs the C maple tree)" selftest_all_ok

# The bench at small sizes, only to check it runs and what it prints.
bench=/tmp/bench.out
reload_small() {
	rmmod vmatrack && insmod "$VMATRACK_KO" bench_n1=$VMATRACK_BENCH_N bench_n2=0 &&
		cat "$VMATRACK_DEBUGFS/bench" >"$bench"
}
bench_format_ok() {
	reload_small || return 1
	cat "$bench" | while read -r l; do ktap_print_msg "$l"; done
	# 8 workloads x 2 modes, every line in the project's bench format.
	[ "$(grep -c . "$bench")" = 16 ] &&
		! grep -Evq '^bench [a-z_]+ N='"$VMATRACK_BENCH_N"' mode=(rcu|plain) ours_ns=[0-9]+ best_peer=(c_maple|c_maple_rcu|none) best_peer_ns=[0-9]+ ratio=[0-9]+\.[0-9][0-9]$' "$bench"
}
ktap_test_result "bench prints one well-formed line per workload and mode" bench_format_ok

restore() { rmmod vmatrack && insmod "$VMATRACK_KO"; }
ktap_test_result "module reloads with default parameters" restore

ktap_finished
