#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The churn workload runs to completion in the guest with vmatrack loaded.
. ./lib.sh

ktap_print_header
ktap_set_plan 2

churn_runs() {
	out=$(churn -s 7 -n $((5000 / VMATRACK_SCALE)) -f $((500 / VMATRACK_SCALE))) || return 1
	ktap_print_msg "$out"
}
ktap_test_result "churn (mmap/mprotect/munmap/fork) runs with vmatrack loaded" churn_runs

same_seed_same_result() {
	n=$((2000 / VMATRACK_SCALE))
	a=$(churn -s 11 -n $n) && b=$(churn -s 11 -n $n) && [ "$a" = "$b" ]
}
ktap_test_result "churn with one seed repeats itself exactly" same_seed_same_result

ktap_finished
