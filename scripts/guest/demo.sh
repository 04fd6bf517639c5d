#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the guest: the livepatch sample, then its Rust twin
# (samples/livepatch/rust_livepatch_sample.rs), applied and removed with the
# klp manager.
# demo.sh BUILD_DIR OUT KLP: the demo's output goes to OUT.
set -e
exec >"$2" 2>&1
ko=$1/samples/livepatch/livepatch-sample.ko
klp=$3

say() { echo; echo "### $*"; }

say "kernel $(uname -r); /proc/cmdline before patching:"
cat /proc/cmdline
say "klp load livepatch-sample.ko (waits for the transition)"
"$klp" load "$ko"
say "klp list"
"$klp" list
say "/proc/cmdline now:"
cat /proc/cmdline
say "klp disable livepatch_sample"
"$klp" disable livepatch_sample
say "klp unload livepatch_sample"
"$klp" unload livepatch_sample
say "/proc/cmdline restored:"
cat /proc/cmdline
say "the same in safe Rust: klp load rust_livepatch_sample.ko"
"$klp" load "$1/samples/livepatch/rust_livepatch_sample.ko"
say "klp list"
"$klp" list
say "/proc/cmdline now:"
cat /proc/cmdline
say "klp unload rust_livepatch_sample (disables it first)"
"$klp" unload rust_livepatch_sample
say "/proc/cmdline restored:"
cat /proc/cmdline
say "livepatch lines of dmesg:"
dmesg | grep livepatch
