#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One iteration of each livepatch benchmark of make bench (scripts/bench.sh,
# scripts/guest/bench.sh), with its modules (test_modules/bench/), so that
# they keep building and working: the timed call loop unpatched and patched,
# enabling and disabling a 100-function patch, and patching getpid while
# tasks call it.  Timings are read, checked to be there, never judged.
# (100 functions, not make bench's 1000: disabling 1000 takes about 2 minutes
# of guest time under TCG on either core, one ftrace handler unregistered
# after another, as long as functions.sh's waits allow.)

. $(dirname $0)/functions.sh

MOD_TARGET=test_klp_bench_target
MOD_PATCH=test_klp_bench_patch
MOD_SYSCALL=test_klp_bench_syscall
TARGET_PARAMS=/sys/module/$MOD_TARGET/parameters

setup_config

# check_positive(file) - the file holds an integer > 0
function check_positive() {
	local value
	value=$(cat "$1")
	[[ "$value" =~ ^[0-9]+$ && "$value" -gt 0 ]] ||
		die "$1: '$value' is not a positive integer"
}

# run_loop(calls) - time CALLS calls of test_klp_bench_fn_000()
function run_loop() {
	log "% echo $1 > $TARGET_PARAMS/run_loop"
	echo "$1" > "$TARGET_PARAMS/run_loop" || die "run_loop failed"
	[[ "$(cat "$TARGET_PARAMS/loop_calls")" == "$1" ]] ||
		die "loop_calls is not $1"
	check_positive "$TARGET_PARAMS/loop_ns"
}

# check_timing(patch module) - after a disable: both transitions were timed
function check_timing() {
	local p
	for p in enable_call_ns enable_ns disable_ns; do
		check_positive "/sys/module/$1/parameters/$p"
	done
}


start_test "bench: a timed call loop, unpatched and patched"

load_mod $MOD_TARGET
run_loop 1000
load_lp $MOD_PATCH nfuncs=1
run_loop 1000
disable_lp $MOD_PATCH
check_timing $MOD_PATCH
unload_lp $MOD_PATCH
unload_mod $MOD_TARGET

check_result "% insmod test_modules/$MOD_TARGET.ko
% echo 1000 > $TARGET_PARAMS/run_loop
% insmod test_modules/$MOD_PATCH.ko nfuncs=1
livepatch: enabling patch '$MOD_PATCH'
livepatch: '$MOD_PATCH': initializing patching transition
livepatch: '$MOD_PATCH': starting patching transition
livepatch: '$MOD_PATCH': completing patching transition
livepatch: '$MOD_PATCH': patching complete
% echo 1000 > $TARGET_PARAMS/run_loop
% echo 0 > /sys/kernel/livepatch/$MOD_PATCH/enabled
livepatch: '$MOD_PATCH': initializing unpatching transition
livepatch: '$MOD_PATCH': starting unpatching transition
livepatch: '$MOD_PATCH': completing unpatching transition
livepatch: '$MOD_PATCH': unpatching complete
% rmmod $MOD_PATCH
% rmmod $MOD_TARGET"


start_test "bench: enable and disable a patch of 100 functions"

load_mod $MOD_TARGET
load_lp $MOD_PATCH nfuncs=100
[[ $(ls "$KLP_SYSFS_DIR/$MOD_PATCH/$MOD_TARGET" | grep -c '^test_klp_bench_fn_') == 100 ]] ||
	die "$MOD_PATCH does not patch 100 functions"
disable_lp $MOD_PATCH
check_timing $MOD_PATCH
unload_lp $MOD_PATCH
unload_mod $MOD_TARGET

check_result "% insmod test_modules/$MOD_TARGET.ko
% insmod test_modules/$MOD_PATCH.ko nfuncs=100
livepatch: enabling patch '$MOD_PATCH'
livepatch: '$MOD_PATCH': initializing patching transition
livepatch: '$MOD_PATCH': starting patching transition
livepatch: '$MOD_PATCH': completing patching transition
livepatch: '$MOD_PATCH': patching complete
% echo 0 > /sys/kernel/livepatch/$MOD_PATCH/enabled
livepatch: '$MOD_PATCH': initializing unpatching transition
livepatch: '$MOD_PATCH': starting unpatching transition
livepatch: '$MOD_PATCH': completing unpatching transition
livepatch: '$MOD_PATCH': unpatching complete
% rmmod $MOD_PATCH
% rmmod $MOD_TARGET"


start_test "bench: patch getpid while tasks call it"

NPROC=$(getconf _NPROCESSORS_ONLN)
pids=()
for i in $(seq 1 "$NPROC"); do
	./test_klp-call_getpid &
	pids+=("$!")
done

load_lp $MOD_SYSCALL
disable_lp $MOD_SYSCALL
kill "${pids[@]}"
wait "${pids[@]}" 2>/dev/null
check_timing $MOD_SYSCALL
unload_lp $MOD_SYSCALL

check_result "% insmod test_modules/$MOD_SYSCALL.ko
livepatch: enabling patch '$MOD_SYSCALL'
livepatch: '$MOD_SYSCALL': initializing patching transition
livepatch: '$MOD_SYSCALL': starting patching transition
livepatch: '$MOD_SYSCALL': completing patching transition
livepatch: '$MOD_SYSCALL': patching complete
% echo 0 > /sys/kernel/livepatch/$MOD_SYSCALL/enabled
livepatch: '$MOD_SYSCALL': initializing unpatching transition
livepatch: '$MOD_SYSCALL': starting unpatching transition
livepatch: '$MOD_SYSCALL': completing unpatching transition
livepatch: '$MOD_SYSCALL': unpatching complete
% rmmod $MOD_SYSCALL"

exit 0
