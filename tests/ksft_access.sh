#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Who may touch the debugfs files, and what they show: every file is root
# only (an unprivileged user gets EACCES opening it for read and for
# write), and no file's output holds a kernel address.
. ./lib.sh

D=$VMATRACK_DEBUGFS
T=$D/target
# Every file the module makes: the README's debugfs table, which qemu/run
# copies here (and a host test holds to the code).
FILES=$(cat debugfs_files)
NFILES=$(echo "$FILES" | grep -c .)

ktap_print_header
ktap_set_plan $((8 + 2 * NFILES))

# print_file FILE [N]: FILE's first N (default 20) lines as diagnostics.
print_file() { head -n "${2:-20}" "$1" | while IFS= read -r l; do ktap_print_msg "  $l"; done; }

files_listed() {
	got=$(ls "$D" | sort | tr '\n' ' ')
	want=$(echo $FILES | tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || { ktap_print_msg "files: $got (expected $want)"; return 1; }
}
ktap_test_result "the directory holds exactly the $NFILES files the README lists" files_listed

modes_ok() {
	r=0
	for f in $FILES; do
		case $f in target | stats) want="600 0 0" ;; *) want="400 0 0" ;; esac
		got=$(stat -c '%a %u %g' "$D/$f")
		[ "$got" = "$want" ] || { ktap_print_msg "$f: mode uid gid $got, expected $want"; r=1; }
	done
	return $r
}
ktap_test_result "files are root's: 0400, target and stats 0600" modes_ok

# debugfs's top directory is 0700, so nobody is refused at the path before
# any of our files is reached. To test the files' own modes, the helper
# starts in our directory (as root) and opens names relative to it: then
# only our directory (0755) and the file itself are checked.
nobody_reaches_dir() {
	u=$(as_nobody id -u) && [ "$u" = 65534 ] || { ktap_print_msg "as_nobody id -u: $u"; return 1; }
	# The control: what nobody may open, it opens (the helper is not
	# refusing everything); the top directory is what refuses a full path.
	(cd "$D" && [ "$(as_nobody fileop open r .)" = ok ]) &&
		[ "$(as_nobody fileop open r /proc/self/status)" = ok ] &&
		[ "$(as_nobody fileop open r "$D/version")" = EACCES ]
}
ktap_test_result "as_nobody runs as uid 65534 and can open the vmatrack directory itself" nobody_reaches_dir

# nobody_refused FILE: nobody gets EACCES for read, write and read-write.
nobody_refused() {
	got=$(cd "$D" && for m in r w rw; do printf '%s:%s ' "$m" "$(as_nobody fileop open $m "$1")"; done)
	[ "$got" = "r:EACCES w:EACCES rw:EACCES " ] || { ktap_print_msg "$1: $got"; return 1; }
}
for f in $FILES; do
	ktap_test_result "nobody gets EACCES opening $f for read, write and read-write" nobody_refused "$f"
done

# A target that changes its VMAs after the attach, so events, stats and
# unmerged have content; it lingers, so everything can be read.
churn -s 1 -n 500 -f 0 -d 1 -z 600 >/tmp/access.churn &
P=$!
sleep 1 # let the forked shell exec churn first
echo "$P" >"$T"
while ! grep -q vmas= /tmp/access.churn; do sleep 1; done
ktap_print_msg "$(cat "$T")"

# Mirroring needs what reading /proc/PID/maps needs; vmatrack asks for
# CAP_SYS_PTRACE. Root without it (dropped from the bounding set by
# drop_cap; 19 is CAP_SYS_PTRACE) can open the file but not write it, and
# nothing changes. The same write with it is the control.
sleep 600 &
S=$!
sleep 1 # the forked shell has exec'd sleep
no_ptrace_refused() {
	before=$(cat "$T")
	got=$(cd "$D" && drop_cap 19 fileop write target "$S\n" "none\n")
	ktap_print_msg "without CAP_SYS_PTRACE: $got"
	[ "$got" = "EPERM EPERM" ] && [ "$(cat "$T")" = "$before" ]
}
ktap_test_result "root without CAP_SYS_PTRACE gets EPERM writing target; the target stays" no_ptrace_refused
with_ptrace_ok() {
	# Two opens: each write must start at offset 0.
	got=$(cd "$D" && fileop write target "$S\n")
	grep -q "^pid=$S " "$T" && got="$got $(cd "$D" && fileop write target "$P\n")"
	ktap_print_msg "with CAP_SYS_PTRACE: $got"
	[ "$got" = "ok ok" ] && grep -q "^pid=$P " "$T"
}
ktap_test_result "root with CAP_SYS_PTRACE may write target (control)" with_ptrace_ok
kill $S
wait $S 2>/dev/null

# Kernel addresses on x86_64 start at 0xffff800000000000 (4-level paging)
# or 0xff11000000000000 (5-level): 16 hex digits ff ff... or ff 1x...,
# with or without 0x; in decimal, 20 digits from 18...
# Exempt, with their reason:
#  - ffffffffffffffff: ULONG_MAX, the end of the key space (tree spans);
#  - the [vsyscall] page in maps: a fixed user ABI address that
#    /proc/PID/maps shows too (when the kernel has vsyscall emulation).
scan_addresses() {
	awk -v name="$2" '
	{
		line = $0
		rest = tolower(line)
		while (match(rest, /(0x)?(ffff|ff1[0-9a-f])[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]|18[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]/)) {
			tok = substr(rest, RSTART, RLENGTH)
			before = RSTART > 1 ? substr(rest, RSTART - 1, 1) : ""
			after = substr(rest, RSTART + RLENGTH, 1)
			rest = substr(rest, RSTART + RLENGTH)
			# Only whole words: not the middle of a longer number.
			if (before ~ /[0-9a-fx]/ || after ~ /[0-9a-f]/)
				continue
			hex = tok
			sub(/^0x/, "", hex)
			if (hex == "ffffffffffffffff") { exempt++; continue }
			if (name == "maps" && line ~ / \[vsyscall\]$/ &&
			    (hex == "ffffffffff600000" || hex == "ffffffffff601000")) { exempt++; continue }
			print name ": " line
			bad++
			break
		}
	}
	END { print "# " name ": " NR " lines, " exempt + 0 " exempt tokens" > "/dev/stderr"; exit (bad > 0) }
	' "$1"
}

# no_address FILE: read FILE as root, then scan it.
no_address() {
	out=/tmp/access.$1
	t0=$(cut -d' ' -f1 /proc/uptime)
	cat "$D/$1" >"$out" || { ktap_print_msg "reading $1 failed"; return 1; }
	t1=$(cut -d' ' -f1 /proc/uptime)
	[ -s "$out" ] || { ktap_print_msg "$1 is empty"; return 1; }
	scan_addresses "$out" "$1" >/tmp/access.bad 2>/tmp/access.note
	r=$?
	ktap_print_msg "$(cat /tmp/access.note), read in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	[ $r -eq 0 ] || print_file /tmp/access.bad
	return $r
}
for f in $FILES; do
	[ "$f" = bench ] && continue
	ktap_test_result "$f shows no kernel address (attached to a live target)" no_address "$f"
done

# Last: what is left over there must be there (the control for the scan).
scan_sees_addresses() {
	printf 'a ffff888003a4b000 b\n0xffffffff81000000\nx 18446612682339221504\nff11000012345678-1\n' >/tmp/access.fake
	[ "$(scan_addresses /tmp/access.fake fake 2>/dev/null | wc -l)" = 4 ]
}
ktap_test_result "the scan finds kernel addresses where there are some (control)" scan_sees_addresses

kill $P
wait $P 2>/dev/null
echo none >"$T"

# bench at its default sizes takes minutes under TCG: reload with small
# sizes for the scan, then reload with the defaults.
bench_small() {
	rmmod vmatrack && insmod "$VMATRACK_KO" bench_n1=$VMATRACK_BENCH_N bench_n2=0 && no_address bench
}
ktap_test_result "bench shows no kernel address (reloaded with bench_n1=$VMATRACK_BENCH_N)" bench_small

restore() { rmmod vmatrack && insmod "$VMATRACK_KO" && grep -q 'state=detached' "$T"; }
ktap_test_result "module reloads with default parameters, detached" restore

ktap_test_result "kernel log has no BUG/WARNING/Oops lines" kernel_log_clean

ktap_finished
