#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the guest: run the installed livepatch kselftests unmodified.
# kselftests.sh OUT KSELFTEST_DIR KDIR
out=$1 dir=$2
# functions.sh skips everything unless KDIR exists in the guest.
export KDIR=$3
# virtme makes /dev/stdout a virtio port, and the kselftest runner writes
# some lines to /dev/stdout directly: make it this process's stdout.
ln -sf /proc/self/fd/1 /dev/stdout
rm -f "$out/kselftest.log" "$out/dmesg.log"
cd "$dir" && ./run_kselftest.sh >>"$out/kselftest.log" 2>&1
echo "kselftest runner exit code: $?" >>"$out/kselftest.log"
dmesg >"$out/dmesg.log"
