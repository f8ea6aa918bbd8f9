#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Hostile writes to the two writable files, `target` and `stats`: each
# malformed write(2) fails with the errno the README gives, and what the
# files read back is byte for byte what it was before. One test per input.
#
# Writes go through the fileop helper (tests/workloads/fileop.c): one
# open, one write(2) per part, exactly the bytes given (zero-length writes,
# NUL bytes, a buffer that faults), and the errno by name.
. ./lib.sh

D=$VMATRACK_DEBUGFS
T=$D/target
S=$D/stats
PIDMAX=$(cat /proc/sys/kernel/pid_max)

ktap_print_header
ktap_set_plan 90

# A target whose VMA changes come after the attach (so stats counts
# something), then sleeps: nothing it has changes while the writes run.
churn -s 2 -n 400 -f 0 -d 3 -z 600 >/tmp/hostile.churn &
P=$!
sleep 1 # let the forked shell exec churn first

# A pid nobody has (checked just before use), one over pid_max, a zombie.
FREE=$((PIDMAX - 1))
while [ -e "/proc/$FREE" ]; do FREE=$((FREE - 1)); done
# (The child outlives the exec: ash would reap one that exited before.)
sh -c 'sleep 1 & echo $! >/tmp/hostile.zombie; exec sleep 600' &
ZP=$!
head -c 102400 /dev/zero | tr '\0' 9 >/tmp/hostile.digits
{ printf '%s' "$P"; head -c 102400 /dev/zero | tr '\0' '\n'; } >/tmp/hostile.pidnl

# state: what both files read back (the target line, then stats).
state() { cat "$T" && echo -- && cat "$S"; }

N_TRIED=0
# try LABEL WANT FILEOP-WRITE-ARGS...: one input; WANT is what fileop
# prints (one word per write(2)). Passes when it printed WANT and the
# state is byte for byte the one in /tmp/hostile.before.
try() {
	label=$1 want=$2
	shift 2
	N_TRIED=$((N_TRIED + 1))
	got=$(fileop write "$@" 2>&1)
	state >/tmp/hostile.after 2>&1
	if [ "$got" = "$want" ] && cmp -s /tmp/hostile.before /tmp/hostile.after; then
		ktap_test_pass "$label: $want, unchanged"
	else
		ktap_test_fail "$label: $want, unchanged"
		ktap_print_msg "got: $got"
		diff /tmp/hostile.before /tmp/hostile.after | head -n 10 | while IFS= read -r l; do ktap_print_msg "  $l"; done
	fi
}

setup_ok() {
	[ "$(fileop write "$T" "$P\n")" = ok ] || return 1
	while ! grep -q vmas= /tmp/hostile.churn; do sleep 1; done
	sleep 1
	ktap_print_msg "$(cat /tmp/hostile.churn)"
	# Quiescent: two reads a second apart are identical; and stats has
	# counted the churn (so a write that reset it would show).
	state >/tmp/hostile.before && sleep 1 && state >/tmp/hostile.again &&
		cmp -s /tmp/hostile.before /tmp/hostile.again &&
		grep -q "^pid=$P comm=churn mode=single state=live " "$T" &&
		[ "$(sed -n 's/^stores //p' "$S")" -gt 0 ] &&
		[ -n "$(sed -n 's/^State:[[:space:]]*\(Z\).*/\1/p' "/proc/$(cat /tmp/hostile.zombie)/status")" ] &&
		[ ! -e "/proc/$FREE" ]
}
ktap_test_result "attached to a quiescent target with counted stats: reads are stable" setup_ok
ktap_print_msg "$(cat "$T")"
ktap_print_msg "stats: $(grep -E '^(vmas|stores|clears|split|removed) ' "$S" | tr '\n' ' ')"
Z=$(cat /tmp/hostile.zombie)

# target, attached.
try "target: a zero-length write" EINVAL "$T" ''
try "target: an empty line" EINVAL "$T" '\n'
try "target: binary bytes" EINVAL "$T" '\377\000\001'
try "target: a NUL byte" EINVAL "$T" '\000'
try "target: the pid and a NUL" EINVAL "$T" "$P\\000"
try "target: 100 KB of digits" EINVAL "$T" @/tmp/hostile.digits
try "target: the pid and 100 KB of newlines" EINVAL "$T" @/tmp/hostile.pidnl
try "target: 19 bytes, one over the limit" EINVAL "$T" 'follow 12345678901\n'
try "target: -1" EINVAL "$T" '-1\n'
try "target: the pid negated" EINVAL "$T" "-$P\n"
try "target: a leading plus" EINVAL "$T" "+$P\n"
try "target: 20 digits (overflows 64 bits)" EINVAL "$T" '99999999999999999999\n'
try "target: 2^32 (overflows 32 bits)" EINVAL "$T" '4294967296\n'
try "target: 2^32-1" EINVAL "$T" '4294967295\n'
try "target: 2^31 (overflows a pid_t)" EINVAL "$T" '2147483648\n'
try "target: pid_max" EINVAL "$T" "$PIDMAX\n"
try "target: pid_max+1" EINVAL "$T" "$((PIDMAX + 1))\n"
try "target: the pid in hex" EINVAL "$T" "0x$(printf %x "$P")\n"
try "target: the pid with a leading zero" EINVAL "$T" "0$P\n"
try "target: 00" EINVAL "$T" '00\n'
try "target: trailing junk 1x" EINVAL "$T" '1x\n'
try "target: the pid and junk" EINVAL "$T" "${P}x\n"
try "target: 1 2" EINVAL "$T" '1 2\n'
try "target: the pid twice" EINVAL "$T" "$P $P\n"
try "target: two lines" EINVAL "$T" "$P\n$P\n"
try "target: the pid and an empty line" EINVAL "$T" "$P\n\n"
try "target: a leading space" EINVAL "$T" " $P\n"
try "target: a trailing space" EINVAL "$T" "$P \n"
try "target: a leading tab" EINVAL "$T" "\t$P\n"
try "target: CR LF" EINVAL "$T" "$P\r\n"
try "target: a space alone" EINVAL "$T" ' \n'
try "target: an unknown pid" ESRCH "$T" "$FREE\n"
try "target: follow an unknown pid" ESRCH "$T" "follow $FREE\n"
try "target: a kernel thread (kthreadd)" EINVAL "$T" '2\n'
try "target: follow a kernel thread" EINVAL "$T" 'follow 2\n'
try "target: a zombie" EINVAL "$T" "$Z\n"
try "target: follow without a pid" EINVAL "$T" 'follow\n'
try "target: follow and a space" EINVAL "$T" 'follow \n'
try "target: follow and two spaces" EINVAL "$T" "follow  $P\n"
try "target: follow -1" EINVAL "$T" 'follow -1\n'
try "target: follow 0" EINVAL "$T" 'follow 0\n'
try "target: Follow capitalised" EINVAL "$T" "Follow $P\n"
try "target: none and junk" EINVAL "$T" 'none x\n'
try "target: NONE" EINVAL "$T" 'NONE\n'
try "target: nonex" EINVAL "$T" 'nonex\n'
try "target: split write, junk then its newline" "EINVAL EINVAL" "$T" 'abc' '\n'
try "target: the pid at offset 1" EINVAL -o 1 "$T" "$P\n"
try "target: the pid at offset 64" EINVAL -o 64 "$T" "$P\n"
try "target: pwrite at offset 0" ESPIPE -p 0 "$T" "$P\n"
try "target: a buffer that faults" EFAULT "$T" '!fault:4'
try "target: the pid with its last byte faulting" EFAULT "$T" "!edge:$P"

# stats, attached, with counters that a reset would zero.
try "stats: a zero-length write" EINVAL "$S" ''
try "stats: an empty line" EINVAL "$S" '\n'
try "stats: rese" EINVAL "$S" 'rese'
try "stats: resetx" EINVAL "$S" 'resetx'
try "stats: reset and two newlines" EINVAL "$S" 'reset\n\n'
try "stats: RESET" EINVAL "$S" 'RESET\n'
try "stats: a leading space" EINVAL "$S" ' reset\n'
try "stats: a trailing space" EINVAL "$S" 'reset \n'
try "stats: reset and a NUL" EINVAL "$S" 'reset\000'
try "stats: reset CR LF" EINVAL "$S" 'reset\r\n'
try "stats: reset twice" EINVAL "$S" 'reset\nreset\n'
try "stats: binary bytes" EINVAL "$S" '\377\000\001'
try "stats: 100 KB" EINVAL "$S" @/tmp/hostile.digits
try "stats: -1" EINVAL "$S" '-1\n'
try "stats: 20 digits" EINVAL "$S" '99999999999999999999\n'
try "stats: 0" EINVAL "$S" '0\n'
try "stats: none" EINVAL "$S" 'none\n'
try "stats: verdicts alone" EINVAL "$S" 'verdicts\n'
try "stats: verdicts maybe" EINVAL "$S" 'verdicts maybe\n'
try "stats: verdicts ON" EINVAL "$S" 'verdicts ON\n'
try "stats: verdicts on twice" EINVAL "$S" 'verdicts on\nverdicts on\n'
try "stats: split write, res then et" "EINVAL EINVAL" "$S" 'res' 'et'
try "stats: reset at offset 1" EINVAL -o 1 "$S" 'reset\n'
try "stats: pwrite at offset 0" ESPIPE -p 0 "$S" 'reset'
try "stats: a buffer that faults" EFAULT "$S" '!fault:5'
try "stats: reset with its last byte faulting" EFAULT "$S" '!edge:reset'

# Detached, stats zeroed: now the head of a split write is a command that
# changes nothing (none, reset), and only its tail, at a non-zero offset,
# is refused.
detached_zeroed() {
	[ "$(fileop write "$T" 'none\n')" = ok ] && [ "$(fileop write "$S" 'reset\n')" = ok ] &&
		grep -q '^pid=0 .* state=detached ' "$T" && [ "$(sed -n 's/^stores //p' "$S")" = 0 ] &&
		state >/tmp/hostile.before
}
ktap_test_result "none detaches and reset zeroes stats (the next inputs' state)" detached_zeroed
try "target: split write none, then its newline (at offset 4)" "ok EINVAL" "$T" 'none' '\n'
try "target: split write 0, then its newline (at offset 1)" "ok EINVAL" "$T" '0' '\n'
try "target: none at offset 1" EINVAL -o 1 "$T" 'none\n'
try "target: detached, an unknown pid" ESRCH "$T" "$FREE\n"
try "target: detached, a kernel thread" EINVAL "$T" '2\n'
try "target: detached, trailing junk" EINVAL "$T" "${P}x\n"
try "stats: split write reset, then its newline (at offset 5)" "ok EINVAL" "$S" 'reset' '\n'
try "stats: reset, then reset again on the same open file" "ok EINVAL" "$S" 'reset\n' 'reset'
try "stats: reset at offset 5" EINVAL -o 5 "$S" 'reset'

ktap_print_msg "hostile inputs tried: $N_TRIED"

# The control: good writes are taken, after all that.
good_writes() {
	[ "$(fileop write "$T" "$P\n")" = ok ] && grep -q "^pid=$P comm=churn mode=single state=live " "$T" &&
		[ "$(fileop write "$S" reset)" = ok ] && [ "$(sed -n 's/^stores //p' "$S")" = 0 ] &&
		[ "$(fileop write "$T" 'none\n')" = ok ] && grep -q 'state=detached' "$T"
}
ktap_test_result "good writes still work: attach, reset, detach" good_writes

kill $P $ZP
wait $P $ZP 2>/dev/null

ktap_test_result "kernel log has no BUG/WARNING/Oops lines" kernel_log_clean

ktap_finished
