# SPDX-License-Identifier: GPL-2.0
# Sourced by the guest tests: KTAP helpers from the kernel source, plus the
# few things every vmatrack test needs.
. /selftests/kselftest/ktap_helpers.sh

VMATRACK_DEBUGFS=/sys/kernel/debug/vmatrack
VMATRACK_KO=/lib/modules/vmatrack.ko

# Lines in the kernel log that mean trouble (toolchain.md).
KERNEL_TROUBLE='BUG:|Oops|WARNING:|KASAN:|UBSAN:|detected stalls|self-detected stall|blocked for more than|Kernel panic|suspected memory leaks|general protection fault'

# kernel_log_clean: true when dmesg has none of the trouble lines.
kernel_log_clean() {
	! dmesg | grep -Eq "$KERNEL_TROUBLE"
}

# vmatrack_loaded: true when the module is in the kernel.
vmatrack_loaded() {
	[ -d /sys/module/vmatrack ]
}
