#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stress: cycles of enabling two stacked patches, replacing both with a third
# (atomic replace) and disabling it, while 128 tasks call the patched getpid
# syscall in a loop.  After each step the transition completes, every task
# runs the code of the patch on top, and /proc/cmdline (patched by each)
# shows that patch.  KLP_STRESS_CYCLES cycles (default 10).  On the Rust core,
# the same for the jump redirector: two jump patches of a Rust function,
# stacked and disabled while 16 tasks read the file that runs it.

. $(dirname $0)/functions.sh
. $(dirname $0)/expect.sh

MOD1=test_klp_stress_1
MOD2=test_klp_stress_2
MOD3=test_klp_stress_3
NTASKS=128
CYCLES=${KLP_STRESS_CYCLES:-10}

setup_config

CMDLINE=$(cat /proc/cmdline)

# on_top MOD: MOD is enabled, its transition complete, every task calls its
# getpid and /proc/cmdline shows it.
# (loop_until evaluates its command in its own frame: no $1 in it.)
function on_top() {
	local mod=$1
	loop_until 'grep -q "^0$" /sys/kernel/livepatch/$mod/transition' ||
		die "cycle $cycle: the transition to $mod did not complete"
	loop_until 'grep -q "^0$" /sys/module/$mod/parameters/pending' ||
		die "cycle $cycle: $(cat /sys/module/$mod/parameters/pending) tasks never called $mod's getpid"
	[[ "$(cat /proc/cmdline)" == "$mod" ]] ||
		die "cycle $cycle: /proc/cmdline reads '$(cat /proc/cmdline)' with $mod on top"
}

# gone MOD: MOD was disabled (by a replace or by hand): unload it.
function gone() {
	local mod=$1
	loop_until '[[ ! -e /sys/kernel/livepatch/$mod ]]' ||
		die "cycle $cycle: $mod is still in /sys/kernel/livepatch"
	unload_lp $mod
}

# cycle: one round.
function cycle() {
	load_lp $MOD1 pids=$pid_list
	on_top $MOD1
	load_lp $MOD2 pids=$pid_list
	on_top $MOD2
	load_lp $MOD3 pids=$pid_list
	on_top $MOD3
	gone $MOD1
	gone $MOD2
	disable_lp $MOD3
	[[ "$(cat /proc/cmdline)" == "$CMDLINE" ]] ||
		die "cycle $cycle: /proc/cmdline reads '$(cat /proc/cmdline)' with no patch"
	unload_lp $MOD3
}


# - start 128 tasks calling getpid in a loop, at the lowest priority: under
#   QEMU's emulation, at the same priority as this script and the
#   transition's kworker, they starve both for minutes
# - load two patches of getpid and cmdline_proc_show, then a third that
#   replaces them, then disable it; after each step, check the function's
#   behaviour and that every task calls the getpid of the patch on top
# - check the first cycle's log line by line, then run the other cycles

start_test "stress: stacked patches and atomic replace while 128 tasks call getpid"

for i in $(seq 1 $NTASKS); do
	nice -n 19 ./test_klp-call_getpid &
	pids[$i]="$!"
done
pid_list=$(echo ${pids[@]} | tr ' ' ',')

cycle=1
cycle
check_result "$(enabled $MOD1 pids=$pid_list)
$(enabled $MOD2 pids=$pid_list)
$(enabled $MOD3 pids=$pid_list)
% rmmod $MOD1
% rmmod $MOD2
% echo 0 > /sys/kernel/livepatch/$MOD3/enabled
livepatch: '$MOD3': initializing unpatching transition
livepatch: '$MOD3': starting unpatching transition
livepatch: '$MOD3': completing unpatching transition
livepatch: '$MOD3': unpatching complete
% rmmod $MOD3"

# The other cycles log too much to compare: every step is checked as it
# runs, and the test dies at the first that goes wrong.
start_test "stress: the same, KLP_STRESS_CYCLES times in all"

for cycle in $(seq 2 $CYCLES); do
	cycle
done
for pid in ${pids[@]}; do
	kill -0 $pid || die "task $pid died"
	kill $pid
done
wait
log "test_klp_stress: $CYCLES cycles with $NTASKS tasks"
echo "ok"


# - the jump redirector (the Rust core only): 16 tasks read
#   /proc/test_klp_jump_target in a loop, each read running the Rust function
#   target_show(), while two jump patches of it are stacked and disabled
#   KLP_STRESS_CYCLES times; each switch stops the machine and waits for a
#   moment when no reader is in the function, and after each step every read
#   shows the patch on top
if grep -q ' klp_enable_patch_jump$' /proc/kallsyms; then
start_test "stress: stacked jump patches of a Rust function while 16 tasks read it"

RTARGET=test_klp_jump_target
JUMP1=test_klp_jump_rust_mod
JUMP2=test_klp_jump_rust_mod2

# shows TEXT: /proc/test_klp_jump_target reads TEXT.
function shows() {
	[[ "$(cat /proc/$RTARGET)" == "$1" ]] ||
		die "cycle $cycle: /proc/$RTARGET reads '$(cat /proc/$RTARGET)', not '$1'"
}

load_mod $RTARGET
readers=()
for i in $(seq 1 16); do
	# With a trap, bash runs it only once its cat has finished, so that
	# after the wait below no read is still open when the module goes.
	nice -n 19 bash -c "trap exit TERM; while :; do cat /proc/$RTARGET > /dev/null; done" &
	readers[$i]="$!"
done
for cycle in $(seq 1 $CYCLES); do
	load_lp $JUMP1
	shows "$JUMP1: this has been live patched"
	load_lp $JUMP2
	shows "$JUMP2: this has been live patched"
	disable_lp $JUMP2
	shows "$JUMP1: this has been live patched"
	unload_lp $JUMP2
	disable_lp $JUMP1
	shows "$RTARGET: original"
	unload_lp $JUMP1
done
kill ${readers[@]}
wait 2>/dev/null
unload_mod $RTARGET
log "test_klp_stress: $CYCLES cycles of jump patches with 16 readers"
echo "ok"
fi

exit 0
