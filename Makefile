# SPDX-License-Identifier: GPL-2.0
# vmatrack: the user's entry points. Kbuild reads ./Kbuild, not this file.
#
#   make run                 the main job: setup, build, boot x86_64, mirror a demo
#   make check               every test: host, then each guest
#   make check-host | check-x86_64 | check-riscv64-nommu | check-m68k-nommu
#   make check-x86_64-debug
#   make check-x86_64-debian Debian's own kernel (not in `make check`; CI runs it)
#   make module GUEST=x86_64 / make kernel GUEST=x86_64
#   make bench               (make bench-x86_64-debian: its guest half on Debian's kernel)
#   make soak                10 million VMA changes under the mirror (~15 min)
#   make fmt                 rustfmt with the kernel's .rustfmt.toml
#
# GUEST, not ARCH: an ARCH on the make command line leaks into Kbuild.

GUEST ?= x86_64
export VMATRACK_CACHE ?= $(HOME)/.cache/vmatrack
export VMATRACK_OUT ?= $(VMATRACK_CACHE)
KDIR ?=
export KDIR

S := $(CURDIR)/scripts

.PHONY: all run check check-host check-x86_64 check-x86_64-debug check-x86_64-debian \
	check-riscv64-nommu check-m68k-nommu setup kernel module bench bench-x86_64-debian soak fmt clean help

all: module

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

setup:
	$(S)/setup $(GUEST)

kernel: setup
	@if [ -n "$(KDIR)" ]; then echo "KDIR=$(KDIR) given: not building a kernel"; \
	else $(S)/build-kernel $(GUEST); fi

module: kernel
	$(S)/build-module $(GUEST)

run:
	$(S)/run-demo

check:
	$(S)/setup host x86_64 riscv64-nommu m68k-nommu x86_64-debug
	$(S)/check host x86_64 riscv64-nommu m68k-nommu x86_64-debug

check-host:
	$(S)/setup host
	$(S)/check host

check-x86_64 check-x86_64-debug check-riscv64-nommu check-m68k-nommu:
	$(S)/check $(patsubst check-%,%,$@)

# Debian's own 7.3.4 kernel (trixie-backports), booted as Debian ships it.
check-x86_64-debian:
	$(S)/setup x86_64-debian
	$(S)/check x86_64-debian

bench:
	$(S)/setup
	$(S)/bench
	$(S)/bench-guest

# The guest half of the bench on Debian's own kernel.
bench-x86_64-debian:
	$(S)/bench-guest x86_64-debian

soak:
	$(S)/soak

fmt:
	$(S)/fmt

clean:
	rm -rf $(VMATRACK_OUT)/module $(VMATRACK_OUT)/tests
	cd rust/host 2>/dev/null && cargo clean || true
