#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The churn workload runs to completion in the guest with vmatrack loaded.
. ./lib.sh

ktap_print_header
ktap_set_plan 2

churn_runs() {
	out=$(churn -s 7 -n 5000 -f 500) || return 1
	ktap_print_msg "$out"
}
ktap_test_result "churn (mmap/mprotect/munmap/fork) runs with vmatrack loaded" churn_runs

same_seed_same_result() {
	a=$(churn -s 11 -n 2000) && b=$(churn -s 11 -n 2000) && [ "$a" = "$b" ]
}
ktap_test_result "churn with one seed repeats itself exactly" same_seed_same_result

ktap_finished
