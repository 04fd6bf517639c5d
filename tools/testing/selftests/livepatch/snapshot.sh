#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# snapshot: what livepatching shows of the system, for the project's scripts
# to check that a refused or failed patch left it as it found it: the
# patched /proc/cmdline, the livepatch sysfs entries, the loaded modules and
# the functions ftrace has callbacks on.  Sourced after functions.sh.

SNAPSHOT_TRACING=/sys/kernel/tracing
[[ -e $SNAPSHOT_TRACING/enabled_functions ]] ||
	mount -t tracefs nodev $SNAPSHOT_TRACING || die "no tracefs at $SNAPSHOT_TRACING"

function snapshot() {
	cat /proc/cmdline
	ls /sys/kernel/livepatch
	cut -d' ' -f1 /proc/modules | sort
	cat $SNAPSHOT_TRACING/enabled_functions
}

# same_snapshot WHAT BEFORE: the system is as BEFORE (a snapshot) after WHAT.
function same_snapshot() {
	local now
	now=$(snapshot)
	[[ "$now" == "$2" ]] ||
		die "$1 left something behind: $(diff <(echo "$2") <(echo "$now"))"
}
