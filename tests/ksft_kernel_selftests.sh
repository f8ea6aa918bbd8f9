#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel's own mm selftests for VMA merging and mremap, built from the
# extracted 7.3 source, run under `follow`: every test runs in a forked
# child, vmatrack moves to each and compares its shadow with the kernel's
# tree as each exits. The programs must pass, and every exit check be ok.
. ./lib.sh

T=$VMATRACK_DEBUGFS/target
ktap_print_header
ktap_set_plan 4

for t in merge mremap_test; do
	# Attached to a launcher that then execs the program, so that not one
	# of its forks is missed (exec re-attaches before the program runs).
	# mremap_test checks that its destination is free but not the 40 MB
	# "preamble" below it, which it maps with MAP_FIXED_NOREPLACE: in about
	# one layout in ten (ASLR) that fails with EEXIST. Its layout is fixed.
	norand=
	[ "$t" = mremap_test ] && norand=-R
	ok0=$(sed -n 's/.* exit_checks_ok=\([0-9]*\) .*/\1/p' "$T")
	rm -f /tmp/go.$t
	mkfifo /tmp/go.$t
	exec_on_signal $norand /tmp/go.$t $t >/tmp/$t.out 2>&1 &
	p=$!
	echo "follow $p" >"$T"
	echo go >/tmp/go.$t
	wait $p
	rc=$?
	grep -E '^# Totals' /tmp/$t.out | while read -r l; do ktap_print_msg "$t: $l"; done
	line=$(cat "$T")
	ktap_print_msg "$t: exit=$rc $line"
	ktap_print_msg "$t: $(tail -n 1 "$VMATRACK_DEBUGFS/probes")"
	echo none >"$T"
	ok=$(echo "$line" | sed -n 's/.* exit_checks_ok=\([0-9]*\) .*/\1/p')
	failed=$(echo "$line" | sed -n 's/.* exit_checks_failed=\([0-9]*\)$/\1/p')
	forks=$(grep -c '^ok\|^not ok' /tmp/$t.out)
	if [ "$rc" = 0 ]; then ktap_test_pass "$t passes under vmatrack follow"; else
		ktap_test_fail "$t passes under vmatrack follow"
		# Each failure with the lines that explain it.
		grep -B3 '^not ok' /tmp/$t.out | grep -v '^ok' | while read -r l; do ktap_print_msg "$l"; done
	fi
	# merge runs each of its tests in a fork: at least one exit check per
	# test. mremap_test does not fork: its own exit is checked.
	[ "$t" = merge ] && want=$forks || want=1
	if [ -n "$ok" ] && [ "$((ok - ok0))" -ge "$want" ] && [ "$failed" = 0 ]; then
		ktap_test_pass "$t: every mirrored process matched the kernel at exit"
	else
		ktap_test_fail "$t: every mirrored process matched the kernel at exit"
	fi
done

ktap_finished
