#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The core's log of the usual steps, as check_result expects it, and the
# checks the project's scripts share.  Sourced after functions.sh.

# enabled MOD [PARAMS]: the log of load_lp MOD PARAMS.
function enabled() {
	local insmod="% insmod test_modules/$1.ko ${2:-}"
	printf '%s\n' "${insmod%% }" \
		"livepatch: enabling patch '$1'" \
		"livepatch: '$1': initializing patching transition" \
		"livepatch: '$1': starting patching transition" \
		"livepatch: '$1': completing patching transition" \
		"livepatch: '$1': patching complete"
}

# disabled MOD: the log of disable_lp MOD then unload_lp MOD.
function disabled() {
	printf '%s\n' "% echo 0 > /sys/kernel/livepatch/$1/enabled" \
		"livepatch: '$1': initializing unpatching transition" \
		"livepatch: '$1': starting unpatching transition" \
		"livepatch: '$1': completing unpatching transition" \
		"livepatch: '$1': unpatching complete" \
		"% rmmod $1"
}

# cmdline_is TEXT: /proc/cmdline reads TEXT.
function cmdline_is() {
	[[ "$(cat /proc/cmdline)" == "$1" ]] ||
		die "/proc/cmdline reads '$(cat /proc/cmdline)', not '$1'"
}
