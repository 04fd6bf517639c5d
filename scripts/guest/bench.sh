#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the guest: the livepatch benchmarks of make bench, on whichever core the
# kernel has.  Writes one raw sample per line to OUT ("FIGURE<TAB>VALUE";
# lines starting with # are notes); scripts/bench-report.py turns the samples
# of both cores into the table, the JSON and the plot.  A benchmark reports,
# it never fails: a step that does not finish is noted in OUT and skipped.
#
# bench.sh OUT DIR REPS CALLS NTASKS
#   DIR     the installed kselftest livepatch directory (test_modules/*.ko,
#           test_klp-call_getpid)
#   REPS    repetitions of every figure
#   CALLS   calls per timed loop (figure 1)
#   NTASKS  tasks hammering getpid during the transition (figure 3)
out=$1 dir=$2 reps=$3 calls=$4 ntasks=$5
mods=$dir/test_modules
TARGET=test_klp_bench_target
PATCH=test_klp_bench_patch
SYSCALL=test_klp_bench_syscall
SYSFS=/sys/kernel/livepatch
# A step that takes longer than this (seconds) is given up.
LIMIT=${BENCH_LIMIT:-600}

: >"$out"
note() { echo "# $*" >>"$out"; echo "bench: $*" >&2; }
sample() { printf '%s\t%s\n' "$1" "$2" >>"$out"; }

# until_ok CMD...: poll CMD every 20 ms, at most LIMIT seconds.
until_ok() {
	local end=$((SECONDS + LIMIT))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.02
	done
}
param() { cat "/sys/module/$1/parameters/$2"; }
param_set() { [ "$(param "$1" "$2")" != 0 ]; }
gone() { [ ! -e "$1" ]; }
transition_done() { [ "$(cat "$SYSFS/$1/transition" 2>/dev/null)" = 0 ]; }

# enable MOD [ARGS]: load a patch module, wait for the end of its transition.
enable() {
	local mod=$1
	shift
	insmod "$mods/$mod.ko" "$@" || { note "error: insmod $mod $* failed"; return 1; }
	until_ok transition_done "$mod" && until_ok param_set "$mod" enable_ns ||
		{ note "error: $mod $*: the patching transition did not end within $LIMIT s"; return 1; }
}

# disable MOD: disable a patch, wait for the kernel to free it, unload it.
disable() {
	local mod=$1
	echo 0 >"$SYSFS/$mod/enabled" 2>/dev/null
	until_ok gone "$SYSFS/$mod" && until_ok param_set "$mod" disable_ns ||
		{ note "error: $mod: the unpatching transition did not end within $LIMIT s"; return 1; }
}

unload() {
	[ -e "/sys/module/$1" ] || return 0
	until_ok eval "[ \"\$(cat /sys/module/$1/refcnt)\" = 0 ]"
	rmmod "$1" || note "error: rmmod $1 failed"
}

# ms NS: nanoseconds to milliseconds.
ms() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e6 }'; }

# meminfo: "SUnreclaim MemFree VmallocUsed" in kB, with the page cache and
# reclaimable slab dropped and the per-CPU counters folded first.  MemFree
# counts the pages on the per-CPU free lists (/proc/zoneinfo "count:") as
# free: those lists grow and shrink by megabytes between two samples, which
# MemFree alone reports as memory taken or given back.
meminfo() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk -v page_kb=$(($(getconf PAGESIZE) / 1024)) '
		FILENAME == "/proc/zoneinfo" { if ($1 == "count:") pcp += $2; next }
		/^SUnreclaim:/ { s = $2 } /^MemFree:/ { f = $2 } /^VmallocUsed:/ { v = $2 }
		END { print s, f + pcp * page_kb, v }' /proc/zoneinfo /proc/meminfo
}

# Stops of the machine sampled per figure and repetition (jumps()).
PAUSES=${BENCH_PAUSES:-5}

# Kernel messages on the console slow every printk under TCG: off meanwhile.
printk=$(cat /proc/sys/kernel/printk)
echo 1 >/proc/sys/kernel/printk
trap 'echo "$printk" >/proc/sys/kernel/printk' EXIT
sysctl -q kernel.ftrace_enabled=1

note "kernel $(uname -r) $(uname -v)"
note "reps $reps, calls $calls, ntasks $ntasks, $(nproc) CPUs"

insmod "$mods/$TARGET.ko" || { note "error: insmod $TARGET failed"; exit 0; }

# 1. Patched-call overhead: ns per call of test_klp_bench_fn_000(), unpatched
#    and patched to an identical function.
loop() { # loop FIGURE
	echo "$calls" >"/sys/module/$TARGET/parameters/run_loop" || { note "error: $1: run_loop failed"; return; }
	sample "$1" "$(awk -v n="$(param $TARGET loop_ns)" -v c="$(param $TARGET loop_calls)" \
		'BEGIN { printf "%.3f", n / c }')"
}
for i in $(seq "$reps"); do loop call_unpatched_ns; done
if enable $PATCH nfuncs=1; then
	for i in $(seq "$reps"); do loop call_patched_ns; done
	disable $PATCH
fi
unload $PATCH

# 1b. The jump redirector (klp_enable_patch_jump(), the Rust core only; the C
#     core refuses the patch): ns per call of the notrace
#     test_klp_bench_nt_000(), unpatched and patched with a jump.
echo 1 >"/sys/module/$TARGET/parameters/loop_fn"
for i in $(seq "$reps"); do loop call_jump_unpatched_ns; done
if enable $PATCH nfuncs=1 jump=1; then
	for i in $(seq "$reps"); do loop call_jump_patched_ns; done
	disable $PATCH
fi
unload $PATCH
echo 0 >"/sys/module/$TARGET/parameters/loop_fn"

# jumps PREFIX N: enable and disable a patch of N functions with jumps PAUSES
# times, each stop of the machine one sample of PREFIXjump_pause_ms.N (its
# median and maximum are the figure), each enable and disable one of
# PREFIXjump_enable_ms.N and PREFIXjump_disable_ms.N.
jumps() {
	local prefix=$1 n=$2 k
	for k in $(seq "$PAUSES"); do
		if enable $PATCH nfuncs=$n jump=1; then
			sample "${prefix}jump_enable_ms.$n" "$(ms "$(param $PATCH enable_ns)")"
			sample "${prefix}jump_pause_ms.$n" "$(ms "$(param livepatch jump_pause_ns)")"
			disable $PATCH && sample "${prefix}jump_disable_ms.$n" "$(ms "$(param $PATCH disable_ns)")"
		fi
		unload $PATCH
	done
}

# 2. Enable and disable latency of patches of 1, 100 and 1000 functions, and
# 4. the kernel memory they take (SUnreclaim and MemFree deltas, in kB).
for i in $(seq "$reps"); do
	for n in 1 100 1000; do
		sleep 0.5
		read -r su0 mf0 vm0 < <(meminfo)
		if enable $PATCH nfuncs=$n; then
			read -r su1 mf1 vm1 < <(meminfo)
			sample "enable_ms.$n" "$(ms "$(param $PATCH enable_ns)")"
			sample "enable_call_ms.$n" "$(ms "$(param $PATCH enable_call_ns)")"
			sample "mem_sunreclaim_kb.$n" $((su1 - su0))
			sample "mem_memfree_kb.$n" $((mf0 - mf1))
			sample "mem_vmalloc_kb.$n" $((vm1 - vm0))
			disable $PATCH && sample "disable_ms.$n" "$(ms "$(param $PATCH disable_ns)")"
		fi
		unload $PATCH
	done
	# With jumps: one stop of the machine per switch, whatever the number.
	for n in 1 100; do
		sleep 0.5
		jumps "" "$n"
	done
done

# 3. Transition under load: NTASKS tasks call getpid in a loop while it is
#    patched and unpatched (upstream's test-syscall.sh, with more tasks).
pids=()
for i in $(seq "$ntasks"); do
	"$dir/test_klp-call_getpid" &
	pids+=($!)
done
sleep 1
for i in $(seq "$reps"); do
	if enable $SYSCALL; then
		sample load_enable_ms "$(ms "$(param $SYSCALL enable_ns)")"
		disable $SYSCALL && sample load_disable_ms "$(ms "$(param $SYSCALL disable_ns)")"
	fi
	unload $SYSCALL
done
# With jumps, under the same load: every task's stack is checked in the stop.
for i in $(seq "$reps"); do
	for n in 1 100; do
		jumps load_ "$n"
	done
done
unload $TARGET
kill "${pids[@]}" 2>/dev/null
wait 2>/dev/null
note "done"
exit 0
