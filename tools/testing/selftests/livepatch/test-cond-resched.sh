#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A transition while a CPU-bound kthread spins in cond_resched() on every CPU.
# The transition finds the kthread of the other CPU running and cannot check
# its stack; fake signals do not move a running kthread. It completes only
# because the kthreads switch themselves in cond_resched(), the hook that the
# C core turns on when every transition starts and the Rust core when a retry
# still finds stragglers (Documentation/livepatch/rust-core.rst). Without the
# hook the transition never completes and load_lp dies after 60 s.

. $(dirname $0)/functions.sh

MOD_SPIN=test_klp_spinners
MOD_LIVEPATCH=test_klp_livepatch

setup_config

# since_start: the kernel log since start_test, without timestamps.
function since_start() {
	dmesg | awk -v last_dmesg="$LAST_DMESG" 'p; $0 == last_dmesg { p=1 }' |
		sed 's/^\[[ 0-9.]*\] //'
}

# expect_line LINE: the log since start_test has LINE.
function expect_line() {
	since_start | grep -qxF "$1" || die "no '$1' in the kernel log"
}

start_test "patching and unpatching with CPU-bound kthreads in cond_resched()"

load_mod $MOD_SPIN
spinners=$(grep -l '^test_klp_spin/' /proc/[0-9]*/comm 2>/dev/null | wc -l)
[[ "$spinners" -ge 1 ]] || die "no test_klp_spin kthread runs"
load_lp $MOD_LIVEPATCH
[[ "$(cat /proc/cmdline)" == "this has been live patched" ]] ||
	die "/proc/cmdline is not patched"
disable_lp $MOD_LIVEPATCH
unload_lp $MOD_LIVEPATCH
unload_mod $MOD_SPIN

expect_line "livepatch: '$MOD_LIVEPATCH': patching complete"
expect_line "livepatch: '$MOD_LIVEPATCH': unpatching complete"
# Whether the edge case happened: a transition found a spinner running.
running=$(since_start | grep -c 'test_klp_spin/[0-9]*:[0-9]* is running')
log "$spinners spinning kthreads; found running $running times"
echo "ok"

exit 0
