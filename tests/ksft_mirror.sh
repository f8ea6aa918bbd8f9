#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The mirror as it stands: attaching to a process, its maps and tree, exec
# and exit of the target, and every kind of bad write to `target`.
. ./lib.sh

T=$VMATRACK_DEBUGFS/target

ktap_print_header
ktap_set_plan 22

# write_target VALUE: write VALUE (printf %b escapes) to `target` in one
# write(2) (dd, not the shell's printf, whose errors the shell prints
# itself); prints the errno name of a failure, or "ok".
write_target() {
	printf '%b' "$1" >/tmp/win
	if dd if=/tmp/win of="$T" bs=4096 conv=notrunc 2>/tmp/werr; then echo ok; return; fi
	case $(cat /tmp/werr) in
	*"Invalid argument"*) echo EINVAL ;;
	*"No such process"*) echo ESRCH ;;
	*) cat /tmp/werr ;;
	esac
}

churn -s 5 -n 2000 -f 0 -z 600 >/dev/null &
P=$!
sleep 1

attach_ok() { [ "$(write_target "$P\n")" = ok ] && grep -q "^pid=$P comm=churn mode=single state=snapshot " "$T"; }
ktap_test_result "writing a pid attaches to that process" attach_ok
ktap_print_msg "$(cat "$T")"

maps_same() {
	cat "$VMATRACK_DEBUGFS/maps" >/tmp/shadow.maps && cat /proc/$P/maps >/tmp/kernel.maps &&
		diff /tmp/kernel.maps /tmp/shadow.maps >/tmp/maps.diff
}
ktap_test_result "maps equals /proc/PID/maps of a quiescent target" maps_same
[ -s /tmp/maps.diff ] && head -n 20 /tmp/maps.diff | while read -r l; do ktap_print_msg "$l"; done

tree_counts() {
	n=$(wc -l </proc/$P/maps)
	head -n 1 "$VMATRACK_DEBUGFS/tree" | grep -q "^rangetree height=[0-9]* ranges=$n\$"
}
ktap_test_result "tree names one range per VMA" tree_counts

before=$(cat "$T")
# rejects LABEL VALUE ERRNO: the write fails with ERRNO and changes nothing.
rejects() {
	got=$(write_target "$2")
	if [ "$got" = "$3" ] && [ "$(cat "$T")" = "$before" ]; then
		ktap_test_pass "target rejects $1 with $3, unchanged"
	else
		ktap_test_fail "target rejects $1 with $3, unchanged (got $got)"
	fi
}
rejects "an empty line" '\n' EINVAL
rejects "letters" 'abc\n' EINVAL
rejects "a negative pid" '-1\n' EINVAL
rejects "trailing junk" "${P}x\n" EINVAL
rejects "a leading plus" "+$P\n" EINVAL
rejects "a leading space" " $P\n" EINVAL
rejects "two numbers" "$P $P\n" EINVAL
rejects "binary bytes" '\001\002\377' EINVAL
rejects "a number that overflows" '99999999999999999999\n' EINVAL
rejects "pid_max itself" "$(cat /proc/sys/kernel/pid_max)\n" EINVAL
rejects "follow 0" 'follow 0\n' EINVAL
rejects "an unknown pid" '31337\n' ESRCH
rejects "a kernel thread (kthreadd)" '2\n' EINVAL

switch_ok() {
	sleep 600 &
	S=$!
	[ "$(write_target "$S\n")" = ok ] && grep -q "^pid=$S comm=sleep " "$T"
	r=$?
	kill $S
	wait $S 2>/dev/null
	return $r
}
ktap_test_result "attaching while attached switches targets" switch_ok

exec_followed() {
	# The shell execs churn after a pause; the mirror is attached before.
	sh -c 'sleep 1; exec churn -s 9 -n 500 -f 0 -z 600' >/dev/null &
	E=$!
	[ "$(write_target "$E\n")" = ok ] || return 1
	sleep 3
	cat "$VMATRACK_DEBUGFS/maps" >/tmp/e.shadow && cat /proc/$E/maps >/tmp/e.kernel &&
		diff /tmp/e.kernel /tmp/e.shadow >/dev/null && grep -q "comm=churn" "$T"
	r=$?
	kill $E
	wait $E 2>/dev/null
	return $r
}
ktap_test_result "the mirror follows its target through exec" exec_followed

exit_seen() {
	[ "$(write_target "$P\n")" = ok ] || return 1
	kill $P
	wait $P 2>/dev/null
	head -n 1 "$VMATRACK_DEBUGFS/maps" | grep -q '^# no live target' &&
		grep -q "^pid=$P comm=churn mode=single state=exited vmas=0 " "$T"
}
ktap_test_result "a target that exits reads as state=exited with an empty shadow" exit_seen

detach_ok() { [ "$(write_target 'none\n')" = ok ] && grep -q '^pid=0 .* state=detached ' "$T"; }
ktap_test_result "none detaches" detach_ok

zero_detaches() {
	sleep 600 &
	S=$!
	write_target "$S\n" >/dev/null
	[ "$(write_target '0\n')" = ok ] && grep -q 'state=detached' "$T"
	r=$?
	kill $S
	wait $S 2>/dev/null
	return $r
}
ktap_test_result "0 detaches too" zero_detaches

ktap_test_result "kernel log has no BUG/WARNING/Oops lines" kernel_log_clean

ktap_finished
