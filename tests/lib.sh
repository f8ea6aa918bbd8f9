# SPDX-License-Identifier: GPL-2.0
# Sourced by the guest tests: KTAP helpers from the kernel source, plus the
# few things every vmatrack test needs.
. /selftests/kselftest/ktap_helpers.sh

VMATRACK_DEBUGFS=/sys/kernel/debug/vmatrack
VMATRACK_KO=/lib/modules/vmatrack.ko

# Lines in the kernel log that mean trouble: any of the kernel's checkers
# reporting, a stall, a hung task, a panic.
KERNEL_TROUBLE='BUG:|Oops|WARNING:|KASAN:|UBSAN:|detected stalls|self-detected stall|blocked for more than|Kernel panic|suspected memory leaks|general protection fault'

# kernel_log_clean: true when dmesg has none of the trouble lines.
kernel_log_clean() {
	! dmesg | grep -Eq "$KERNEL_TROUBLE"
}

# vmatrack_loaded: true when the module is in the kernel.
vmatrack_loaded() {
	[ -d /sys/module/vmatrack ]
}

# The guest this runs in (qemu/run puts it on the kernel command line).
VMATRACK_GUEST=$(sed -n 's/.*vmatrack_guest=\([^ ]*\).*/\1/p' /proc/cmdline)

# VMATRACK_SCALE: how much smaller the big workloads are here. The debug
# kernel (KASAN, lockdep, kmemleak, DEBUG_VM_MAPLE_TREE) is about ten times
# slower under TCG, and its maple tree check after every VMA change makes
# big address spaces slower still; the same tests run there with a
# twentieth of the operations. Its checkers catch a bad access or lock on
# the first pass through a path, not by volume, and the volume is what the
# x86_64 guest runs.
case $VMATRACK_GUEST in
*-debug) VMATRACK_SCALE=${VMATRACK_SCALE:-20} ;;
*) VMATRACK_SCALE=${VMATRACK_SCALE:-1} ;;
esac

# VMATRACK_BENCH_N: the tree size the suite's bench reads use. They check
# that the file runs and what it prints, not the figures (make bench).
VMATRACK_BENCH_N=$((300 / VMATRACK_SCALE))

# field NAME [LINE]: the number after " NAME=" in LINE (default: what the
# `target` file reads now).
field() { echo "${2:-$(cat "$VMATRACK_DEBUGFS/target")}" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }

# write_file FILE VALUE: write VALUE (printf %b escapes) to FILE in one
# write(2) (dd, not the shell's printf, whose errors the shell prints
# itself); prints the errno name of a failure, or "ok".
write_file() {
	printf '%b' "$2" >/tmp/win
	if dd if=/tmp/win of="$1" bs=4096 conv=notrunc 2>/tmp/werr; then echo ok; return; fi
	case $(cat /tmp/werr) in
	*"Invalid argument"*) echo EINVAL ;;
	*"No such process"*) echo ESRCH ;;
	*"Cannot allocate memory"*) echo ENOMEM ;;
	*) cat /tmp/werr ;;
	esac
}
