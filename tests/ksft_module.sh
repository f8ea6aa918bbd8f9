#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The module's life cycle: load, debugfs files, unload, reload.
. ./lib.sh

ktap_print_header
ktap_set_plan 7

# /init loaded the module before any test ran and kept insmod's status.
insmod_ok() { [ "$(cat /tmp/insmod.rc)" = 0 ] && vmatrack_loaded; }
ktap_test_result "insmod at boot succeeded" insmod_ok
[ "$(cat /tmp/insmod.rc)" = 0 ] || ktap_print_msg "insmod said: $(cat /tmp/insmod.out)"

ktap_test_result "debugfs directory exists" test -d "$VMATRACK_DEBUGFS"

version_ok() {
	v=$(cat "$VMATRACK_DEBUGFS/version") || return 1
	ktap_print_msg "version: $v"
	echo "$v" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+'
}
ktap_test_result "version file holds a version number" version_ok

# Every file pins the module while it is open: debugfs calls a closing
# file's release through the module's file_operations, so rmmod must not
# go ahead under an open file (kernel::debugfs files in 7.3 do not pin it;
# reloading then closing one crashed the guest).
open_file_pins() {
	bad=
	for f in "$VMATRACK_DEBUGFS"/*; do
		exec 3<"$f" || return 1
		if rmmod vmatrack 2>/dev/null; then
			bad="$bad ${f##*/}"
			exec 3<&-
			insmod "$VMATRACK_KO" || return 1
		else
			exec 3<&-
		fi
	done
	[ -z "$bad" ] || ktap_print_msg "rmmod went ahead with open:$bad"
	[ -z "$bad" ]
}
ktap_test_result "an open file of each kind keeps rmmod from unloading" open_file_pins

unload_removes_dir() { rmmod vmatrack && ! vmatrack_loaded && [ ! -e "$VMATRACK_DEBUGFS" ]; }
ktap_test_result "rmmod removes the module and its debugfs directory" unload_removes_dir

reload_ok() { insmod "$VMATRACK_KO" && [ -r "$VMATRACK_DEBUGFS/version" ]; }
ktap_test_result "insmod after rmmod brings the files back" reload_ok

ktap_test_result "kernel log has no BUG/WARNING/Oops/KASAN lines" kernel_log_clean

ktap_finished
