# shellcheck shell=bash
# Shared by every vmatrack script: where the cache lives, which versions we
# were written for, and a timed "step" helper. Source it: it defines
# variables and functions, and makes sure /dev/null is the null device
# (ensure_dev_null, at the end), which every script and tool here relies on.

VMATRACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VMATRACK_CACHE=${VMATRACK_CACHE:-$HOME/.cache/vmatrack}
# What one checkout builds and logs (module objects, test binaries, guest
# logs). A second checkout (a git worktree) sets its own VMATRACK_OUT and
# still shares the cached kernels and sources.
VMATRACK_OUT=${VMATRACK_OUT:-$VMATRACK_CACHE}
export VMATRACK_OUT

# Versions this project was written for. setup takes these
# when the registry still serves them, else the nearest fit, and says so.
KERNEL_SERIES=7.3
KERNEL_WANTED=7.3.4
BINDGEN_VERSION=0.73.2
LLVM_SUFFIX=-19

# The kernel source and Rust library source are extracted here by setup.
KSRC_LINK=$VMATRACK_CACHE/linux-src          # -> src/linux-source-7.3
RUST_LIB_SRC_DIR=$VMATRACK_CACHE/rust-src/usr/lib/rustlib/src/rust/library
BINDGEN_ROOT=$VMATRACK_CACHE/bindgen

export PATH="$BINDGEN_ROOT/bin:$PATH"
export RUST_LIB_SRC=$RUST_LIB_SRC_DIR

# The x86_64-debian guest: Debian's own Rust-enabled kernel from
# trixie-backports, booted as Debian ships it (scripts/debian-kernel).
# A module for it must be built by the compiler Debian's was, as the
# kernel sees it: Rust symbol names carry a hash of the crate name and the
# compiler's version string, and Debian's rustc calls itself "... (built
# from a source tarball)"; rustup's 1.85.1 is the same compiler, told to
# use that string. bindgen's version changes the bindings' generic names.
DEBIAN_KPKG_VERSION=7.3.4-1~bpo13+1
DEBIAN_KRELEASE=7.3.4+deb13-amd64
DEBIAN_RUSTC=1.85.1
DEBIAN_RUSTC_VERSION="1.85.1 (4eb161250 2025-03-15) (built from a source tarball)"
DEBIAN_BINDGEN=0.71.1
DEBIAN_BINDGEN_ROOT=$VMATRACK_CACHE/bindgen-$DEBIAN_BINDGEN

# debian_toolchain: exports what building against Debian's kernel needs
# and sets DEBIAN_MAKE, the make variables for it. Call it directly (not
# in $(...)): it sets the caller's environment.
debian_toolchain() {
	local rustc
	rustc=$(rustup which --toolchain "$DEBIAN_RUSTC" rustc 2>/dev/null) ||
		die "no rustc $DEBIAN_RUSTC: run scripts/setup x86_64-debian"
	export RUSTC_FORCE_RUSTC_VERSION=$DEBIAN_RUSTC_VERSION
	export RUSTC_OVERRIDE_VERSION_STRING=$DEBIAN_RUSTC_VERSION
	RUST_LIB_SRC=$("$rustc" --print sysroot)/lib/rustlib/src/rust/library
	export RUST_LIB_SRC
	DEBIAN_MAKE=("RUSTC=$rustc" "BINDGEN=$DEBIAN_BINDGEN_ROOT/bin/bindgen"
		"KERNELRELEASE=$DEBIAN_KRELEASE")
}

log() { printf '[vmatrack] %s\n' "$*" >&2; }
die() { printf '[vmatrack] error: %s\n' "$*" >&2; exit 1; }

# step NAME CMD...: run CMD, print what it does and how long it took.
step() {
	local name=$1 t0 rc
	shift
	log "$name ..."
	t0=$(date +%s)
	"$@"
	rc=$?
	log "$name: $([ $rc -eq 0 ] && echo done || echo "FAILED ($rc)") in $(($(date +%s) - t0)) s"
	return $rc
}

# The kernel source: with KDIR (a user's kernel build), the source it was
# built from (an O= build has a `source` link; an in-tree build is its own
# source); else the one setup extracted.
ksrc() {
	if [ -n "${KDIR:-}" ]; then
		if [ -e "$KDIR/source/Makefile" ]; then readlink -f "$KDIR/source"; else readlink -f "$KDIR"; fi
	else
		readlink -f "$KSRC_LINK"
	fi
}

# Guest names (the suffix of make check-GUEST) and the kernel build
# directory of each.
guest_kobj() { echo "$VMATRACK_CACHE/kbuild/$1"; }
guest_arch() {
	case $1 in
	x86_64 | x86_64-debug | x86_64-debian) echo x86_64 ;;
	riscv64-nommu) echo riscv ;;
	m68k-nommu) echo m68k ;;
	*) die "unknown GUEST '$1' (x86_64, x86_64-debug, x86_64-debian, riscv64-nommu, m68k-nommu)" ;;
	esac
}

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

# ensure_dev_null: make /dev/null the null device again if it is not one.
# Seen on a fresh CI machine: /dev/null was a regular file. Everything that
# "discards" output then appends to it, and everything that reads it as empty
# input reads that output back: cargo gives rustc /dev/null as the source of
# its target probe (`rustc - --print=cfg`), so once rustix's build script had
# sent a compile error there, every later cargo clippy and cargo fuzz build
# failed with "unknown start of token". The new node is made aside and renamed
# over the file, so no process ever opens a missing /dev/null and recreates
# the file; the aside name is per process, because scripts start each other
# and two may find the file at once.
ensure_dev_null() {
	[ -c /dev/null ] && return 0
	log "warning: /dev/null is not a character device ($(stat -c %F /dev/null 2>&1)); recreating it as the null device (char 1:3)"
	$SUDO mknod -m 666 "/dev/.null.vmatrack.$$" c 1 3 && $SUDO mv -f "/dev/.null.vmatrack.$$" /dev/null ||
		die "cannot recreate /dev/null; as root: rm /dev/null && mknod -m 666 /dev/null c 1 3"
	[ -c /dev/null ] || die "/dev/null is still not the null device"
}

# missing_pkgs PKG...: the ones dpkg does not have installed, one a line.
missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
	done
}

# install SPEC...: SPEC is "pkg" (from bookworm) or "pkg/suite".
# Simulate first; refuse when apt would remove or upgrade anything.
install_pkgs() {
	local out
	out=$($SUDO apt-get install --simulate --no-install-recommends -t bookworm "$@" 2>&1) ||
		die "apt-get cannot install: $*
$out"
	if grep -E '^Remv |^Inst [^ ]+ \[' <<<"$out" >/dev/null; then
		grep -E '^Remv |^Inst [^ ]+ \[' <<<"$out" >&2
		die "installing '$*' would remove or upgrade the system packages above; not doing it. Install them by hand if you accept that."
	fi
	$SUDO apt-get install -y -qq --no-install-recommends -t bookworm "$@" >/dev/null
}

# Before any script runs cargo, the kernel build or QEMU: all read /dev/null.
ensure_dev_null
