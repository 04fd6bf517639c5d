#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# guest.sh NAME TIMEOUT [CMD]: boot the built kernel of KLP_IMPL in QEMU
# (virtme-ng, the toolchain root shared read-only over 9p) and run CMD, a
# shell command, in it; without CMD, an interactive shell.  The guest writes
# into /klp/build-$KLP_IMPL/guest; its console goes to guest/NAME.console.
# KVM is used when a real boot with it works (probed once), TCG otherwise.
# KLP_QEMU_OPTS adds QEMU options (e.g. "-icount shift=0", make bench's).

. "$(dirname "$0")/lib.sh"

name=$1 limit=$2
shift 2
bz=$KLP_BUILD_IN/arch/x86/boot/bzImage
[ -f "$KLP_BUILD/arch/x86/boot/bzImage" ] || die "no kernel image: run scripts/build.sh"
mkdir -p "$KLP_BUILD/guest"

# virtme-ng's shell init waits for udev's coldplug with "udevadm settle" and its
# default 120 s timeout, then goes on; a debug kernel under TCG takes longer, and
# the script then starts before its virtio ports exist, so its output and exit
# code are lost.  The guest uses a copy of the init that waits longer, bind-mounted
# over the original in in_root's private mount namespace (the root stays as
# Debian installed it).
init=usr/lib/python3/dist-packages/virtme/guest/virtme-init
[ "$KLP_DEBUG" = 1 ] && settle=1800 || settle=600
sed "s/^\([[:space:]]*udevadm settle\)\$/\1 --timeout=$settle/" "$KLP_ROOT/$init" >"$KLP_BUILD/guest/virtme-init"
grep -q "udevadm settle --timeout=$settle\$" "$KLP_BUILD/guest/virtme-init" ||
	die "virtme-ng's init ($KLP_ROOT/$init) has no 'udevadm settle' line to lengthen"
chmod 755 "$KLP_BUILD/guest/virtme-init"

vng_cmd() {
	# virtme-ng's --rwdir needs it started from /.
	echo "mount --bind $KLP_BUILD_IN/guest/virtme-init /$init && cd / && exec vng --verbose --run $bz $1 -m 2G -p 2 --rwdir $KLP_BUILD_IN/guest" \
		"${KLP_QEMU_OPTS:+--qemu-opts='$KLP_QEMU_OPTS'} ${2:+-e \"$2\"}"
}

# The accelerator: KVM only if a short real boot with it succeeds.
probe=$KLP_CACHE/kvm-probe
if [ ! -f "$probe" ]; then
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
		in_root timeout -k 5 60 sh -c "$(vng_cmd "" true)" </dev/null >"$KLP_CACHE/kvm-probe.log" 2>&1; then
		echo kvm >"$probe"
	else
		echo tcg >"$probe"
	fi
fi
if [ "$(cat "$probe")" = kvm ]; then
	accel=
else
	echo "warning: /dev/kvm is missing or boots no guest (probe: $KLP_CACHE/kvm-probe.log): using TCG, slower" >&2
	accel=--disable-kvm
fi

if [ $# -eq 0 ]; then
	in_root sh -c "$(vng_cmd "$accel" "")"
	exit
fi

console=$KLP_BUILD/guest/$name.console
rc=0
in_root timeout -k 10 "$limit" sh -c "$(vng_cmd "$accel" "$*")" </dev/null >"$console" 2>&1 || rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	tail -n 40 "$console" >&2
	die "the guest did not finish within $limit s (console: $console)"
fi
if grep -qE 'Kernel panic|BUG:|Oops' "$console"; then
	tail -n 40 "$console" >&2
	die "the guest kernel crashed (console: $console)"
fi
[ "$rc" = 0 ] || { tail -n 20 "$console" >&2; die "the guest run failed with $rc (console: $console)"; }
