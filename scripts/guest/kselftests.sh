#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the guest: run the installed livepatch kselftests, the upstream ones
# unmodified through the kselftest runner, then the project's own scripts
# listed in livepatch/project-tests.txt, each under the runner's header line.
# On a kernel with kmemleak, leaks since the start are listed in kmemleak.log.
# kselftests.sh OUT KSELFTEST_DIR KDIR KLP STRESS_CYCLES
out=$1 dir=$2
# functions.sh skips everything unless KDIR exists in the guest.
export KDIR=$3
# The klp manager, for the project's test-klp-cli.sh.
export KLP=$4
# How many cycles test-stress.sh runs.
export KLP_STRESS_CYCLES=$5
# virtme makes /dev/stdout a virtio port, and the kselftest runner writes
# some lines to /dev/stdout directly: make it this process's stdout.
ln -sf /proc/self/fd/1 /dev/stdout
log=$out/kselftest.log
rm -f "$log" "$out/dmesg.log" "$out/kmemleak.log"
# kmemleak: forget what boot left unreferenced; only the tests' leaks count.
kmemleak=/sys/kernel/debug/kmemleak
[ -w $kmemleak ] && echo scan >$kmemleak && echo clear >$kmemleak
cd "$dir" && ./run_kselftest.sh >>"$log" 2>&1
echo "kselftest runner exit code: $?" >>"$log"
cd "$dir/livepatch" || exit 1
while read -r script; do
	echo "# selftests: livepatch: $script" >>"$log"
	./"$script" >>"$log" 2>&1
	echo "# exit code of $script: $?" >>"$log"
done <project-tests.txt
if [ -w $kmemleak ]; then
	# An object must be unreferenced for 5 s, and in two scans, to count.
	sleep 6
	if echo scan >$kmemleak && echo scan >$kmemleak; then
		cat $kmemleak >"$out/kmemleak.log"
		echo "kmemleak: scanned" >>"$out/kmemleak.log"
	fi
fi
dmesg >"$out/dmesg.log"
