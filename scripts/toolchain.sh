#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the toolchain: a Debian trixie root, made by mmdebstrap, in the
# cache ($KLP_CACHE/root), holding the kernel build tools, Rust for Linux,
# QEMU, virtme-ng and linux-source-6.12.  Idempotent: a stamp records the
# package set, so a second run does nothing; packages added to the set are
# installed into the existing root; an interrupted run starts over.

. "$(dirname "$0")/lib.sh"

PACKAGES=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod python3
	rsync xz-utils
	# LLVM and Rust for Linux
	clang lld llvm libclang-dev rustc rust-src rustfmt bindgen
	# guest (virtme-ng's init needs mount, ip and udev for its I/O ports)
	qemu-system-x86 virtme-ng busybox-static procps mount iproute2 udev
	# the kernel source
	linux-source-6.12
)
want="${PACKAGES[*]}"

# Extras the guest needs from the root; cheap, so always (re)applied.
finish_root() {
	# The root has no init system: virtme-ng's final poweroff must force it.
	printf '#!/bin/sh\nexec /bin/busybox poweroff -f\n' >"$1/usr/sbin/poweroff"
	chmod +x "$1/usr/sbin/poweroff"
	mkdir -p "$1/repo" "$1/klp"
}

if [ -f "$KLP_ROOT/.klp-ready" ] && [ "$(cat "$KLP_ROOT/.klp-ready")" = "$want" ]; then
	finish_root "$KLP_ROOT"
	echo "==> toolchain root: up to date ($KLP_ROOT)" >&2
	exit 0
fi

if [ -f "$KLP_ROOT/.klp-ready" ]; then
	step "toolchain root: install added packages"
	in_root sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want" \
		>"$KLP_CACHE/apt.log" 2>&1 ||
		die "apt-get install in the root failed (log: $KLP_CACHE/apt.log): check access to Debian's archive"
	finish_root "$KLP_ROOT"
	echo "$want" >"$KLP_ROOT/.klp-ready"
	step_done
	exit 0
fi

step "host: mmdebstrap"
if ! command -v mmdebstrap >/dev/null; then
	[ "$(id -u)" = 0 ] || die "mmdebstrap is missing and we are not root: install it (apt-get install mmdebstrap)"
	{ apt-get update -qq && apt-get install -y -qq mmdebstrap; } >&2 ||
		die "could not apt-get install mmdebstrap: check apt access to Debian's archive"
fi

step "toolchain root: mmdebstrap trixie (about 2 min, 2.3 GiB)"
rm -rf "$KLP_ROOT.tmp"
mkdir -p "$KLP_CACHE"
# No mirror given: mmdebstrap uses Debian's default and adds trixie-updates
# and trixie-security, where the newest linux-source-6.12 lives.
mmdebstrap --variant=apt --include="$(echo "$want" | tr ' ' ',')" \
	trixie "$KLP_ROOT.tmp" >"$KLP_CACHE/mmdebstrap.log" 2>&1 ||
	die "mmdebstrap failed (log: $KLP_CACHE/mmdebstrap.log): check access to Debian's archive"

finish_root "$KLP_ROOT.tmp"
echo "$want" >"$KLP_ROOT.tmp/.klp-ready"
rm -rf "$KLP_ROOT"
mv "$KLP_ROOT.tmp" "$KLP_ROOT"
step_done
