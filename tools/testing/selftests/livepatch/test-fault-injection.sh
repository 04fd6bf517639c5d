#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fault injection in klp_enable_patch(): test_klp_fault fails the 1st, 2nd,
# ... memory allocation of its own enable, in the slab (failslab) and then in
# the page allocator (fail_page_alloc), until the enable makes fewer
# allocations than that.  Every failure must refuse the patch and leave the
# system exactly as before; the patch loaded after it must work.  Needs a
# kernel with fault injection (make test-debug's); skipped without one.

. $(dirname $0)/functions.sh

MOD=test_klp_fault
FAULTS=/sys/kernel/debug

[[ -d $FAULTS/failslab && -d $FAULTS/fail_page_alloc ]] ||
	skip "no failslab and fail_page_alloc in this kernel (make test-debug has them)"

setup_config
. $(dirname $0)/snapshot.sh

# arm KIND: allocations that may sleep can fail in KIND only; report each
# injected failure with one line, no stack dump.
function arm() {
	local kind
	for kind in failslab fail_page_alloc; do
		if [[ $kind == "$1" ]]; then
			echo N > $FAULTS/$kind/ignore-gfp-wait
		else
			echo Y > $FAULTS/$kind/ignore-gfp-wait
		fi
		echo 1 > $FAULTS/$kind/verbose
	done
	# Every order, and vmalloc's pages too (__GFP_HIGHMEM).
	echo 0 > $FAULTS/fail_page_alloc/min-order
	echo N > $FAULTS/fail_page_alloc/ignore-gfp-highmem
}

# inject KIND [FILE [PARAMS]]: load the patch (with PARAMS) with its n-th
# allocation failing in KIND, for n = 1, 2, ... until an enable has no n-th
# allocation; FILE (default /proc/cmdline) shows whether it patches.
function inject() {
	local kind=$1 file=${2:-/proc/cmdline} params=${3:-} n=0 before out last
	arm $kind
	while true; do
		n=$((n + 1))
		[[ $n -le 1000 ]] || die "$kind: klp_enable_patch() made more than 1000 allocations?"
		before=$(snapshot)
		if ! out=$(insmod test_modules/$MOD.ko fail_nth=$n $params 2>&1); then
			same_snapshot "$kind: the failed allocation $n ($out)" "$before"
			continue
		fi
		# Loaded: allocation n did not come, or its failure was coped with.
		loop_until 'grep -q "^0$" /sys/kernel/livepatch/$MOD/transition' ||
			die "$kind, allocation $n: the transition did not complete"
		[[ "$(cat $file)" == "$MOD: this has been live patched" ]] ||
			die "$kind, allocation $n: the patch is loaded and not effective"
		echo 0 > /sys/kernel/livepatch/$MOD/enabled
		loop_until '[[ ! -e /sys/kernel/livepatch/$MOD ]]' ||
			die "$kind, allocation $n: the patch was not disabled"
		rmmod $MOD || die "$kind, allocation $n: rmmod $MOD failed"
		same_snapshot "$kind: loading and unloading $MOD" "$before"
		last=$(dmesg | grep "$MOD: " | tail -n 1)
		[[ "$last" == *"made fewer than $n allocations" ]] && break
	done
	SUMMARY+="# $kind${params:+ ($params)}: each of the $((n - 1)) allocations of klp_enable_patch() failed in turn"$'\n'
	log "$MOD: $kind${params:+ ($params)}: each of the $((n - 1)) allocations of klp_enable_patch() failed in turn"
}


# - load the patch with each allocation of its klp_enable_patch() failing in
#   turn, first in the slab, then in the page allocator
# - after each failure: no module, no sysfs entry, no ftrace callback, the
#   function unpatched; the last load (no failure) patches and unpatches

start_test "fault injection: every allocation of klp_enable_patch() fails in turn"

SUMMARY=
inject failslab
inject fail_page_alloc
echo "ok"
echo -n "$SUMMARY"


# - the same with jumps (the Rust core): the patch of the notrace
#   ctarget_show() of test_klp_jump_ctarget, enabled with
#   klp_enable_patch_jump(); after each failure the function's own code runs
if grep -q ' klp_enable_patch_jump$' /proc/kallsyms; then
start_test "fault injection: every allocation of klp_enable_patch_jump() fails in turn"

load_mod test_klp_jump_ctarget
SUMMARY=
inject failslab /proc/test_klp_jump_ctarget jump=1
inject fail_page_alloc /proc/test_klp_jump_ctarget jump=1
[[ "$(cat /proc/test_klp_jump_ctarget)" == "test_klp_jump_ctarget: original" ]] ||
	die "ctarget_show() does not run its own code"
unload_mod test_klp_jump_ctarget
echo "ok"
echo -n "$SUMMARY"
fi

exit 0
