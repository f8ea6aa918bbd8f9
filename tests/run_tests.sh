#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest test suite: every tests/ksft_*.sh, run by the kernel's own
# kselftest runner (runner.sh), which prints one KTAP line per test file
# and prefixes each file's own KTAP output with "# ".
BASE_DIR=/selftests
export BASE_DIR
. "$BASE_DIR/kselftest/runner.sh"
# Our tests run workloads under TCG; give them longer than the default 45 s.
export kselftest_default_timeout=600

# kmemleak (debug kernel): forget what boot left, so ksft_zz_leaks.sh
# reports only what was allocated while the suite ran.
[ -e /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak

cd "$BASE_DIR/vmatrack" || exit 1
tests=$(ls ksft_*.sh)
set -- $tests
ktap_print_header
ktap_set_plan $#
# One file at a time, to say how long each took (runner.sh numbers the
# files across calls).
for t in "$@"; do
	t0=$(cut -d. -f1 /proc/uptime)
	run_many "$t"
	echo "# $t took $(($(cut -d. -f1 /proc/uptime) - t0)) s"
done
ktap_finished
