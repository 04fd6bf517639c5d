#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the guest: the livepatch sample, applied and removed.
# demo.sh BUILD_DIR OUT: the demo's output goes to OUT.
set -e
exec >"$2" 2>&1
ko=$1/samples/livepatch/livepatch-sample.ko
sys=/sys/kernel/livepatch/livepatch_sample

wait_transition() {
	while [ "$(cat "$sys/transition")" = 1 ]; do sleep 0.1; done
}

say() { echo; echo "### $*"; }

say "kernel $(uname -r); /proc/cmdline before patching:"
cat /proc/cmdline
say "insmod livepatch-sample.ko"
insmod "$ko"
wait_transition
say "enabled=$(cat $sys/enabled), vmlinux patched=$(cat $sys/vmlinux/patched); /proc/cmdline now:"
cat /proc/cmdline
say "echo 0 > $sys/enabled"
echo 0 >"$sys/enabled"
while [ -d "$sys" ]; do sleep 0.1; done
say "rmmod livepatch_sample"
rmmod livepatch_sample
say "/proc/cmdline restored:"
cat /proc/cmdline
say "livepatch lines of dmesg:"
dmesg | grep livepatch
