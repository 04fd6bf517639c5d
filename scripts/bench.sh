#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the Rust livepatch core against the upstream C core, side by
# side.  Builds the kernel with each core (KLP_IMPL=c, then rust; the same
# config otherwise), boots each in the same QEMU setup, runs the same
# in-guest benchmarks (scripts/guest/bench.sh, with the modules of
# tools/testing/selftests/livepatch/test_modules/bench/) and prints one
# markdown table; the raw samples, bench.json, bench.md and bench.svg go to
# $KLP_CACHE/work/bench/.  The figures report; they never fail the run.
#
# Settings (environment):
#   KLP_BENCH_REPS    repetitions of every figure (5)
#   KLP_BENCH_CALLS   calls per timed loop of the patched-call figure (2000000)
#   KLP_BENCH_NTASKS  tasks calling getpid during the loaded transition (128)
#   KLP_BENCH_ICOUNT  1 (default): QEMU -icount shift=0, guest time counts
#                     instructions (1 ns each), so the figures repeat; 0: the
#                     accelerator's wall-clock time (TCG time is noisy)
#   KLP_BENCH_BUILD   1 (default); 0: no toolchain, tree or build step, the
#                     guests boot the last builds (to re-run the figures)
#   KLP_BENCH_MODDIR  the guest's directory of test_modules/ and
#                     test_klp-call_getpid, %s standing for the core
#                     (default: /klp/build-%s/kselftest/livepatch, as
#                     scripts/build.sh installs them)

. "$(dirname "$0")/lib.sh"

reps=${KLP_BENCH_REPS:-5}
calls=${KLP_BENCH_CALLS:-2000000}
ntasks=${KLP_BENCH_NTASKS:-128}
icount=${KLP_BENCH_ICOUNT:-1}
build=${KLP_BENCH_BUILD:-1}
moddir=${KLP_BENCH_MODDIR:-/klp/build-%s/kselftest/livepatch}
for v in "$reps" "$calls" "$ntasks"; do
	[[ "$v" =~ ^[1-9][0-9]*$ ]] || die "KLP_BENCH_REPS, KLP_BENCH_CALLS and KLP_BENCH_NTASKS must be positive integers"
done
case "$icount" in
0) unset KLP_QEMU_OPTS ;;
1) export KLP_QEMU_OPTS="-icount shift=0" ;;
*) die "KLP_BENCH_ICOUNT must be 0 or 1" ;;
esac
OUT=$KLP_WORK/bench

if [ "$build" != 0 ]; then
	"$REPO/scripts/toolchain.sh" || die "scripts/toolchain.sh failed"
	"$REPO/scripts/tree.sh" || die "scripts/tree.sh failed"
fi
mkdir -p "$OUT"
for impl in c rust; do
	if [ "$build" != 0 ]; then
		KLP_IMPL=$impl "$REPO/scripts/build.sh" ||
			die "KLP_IMPL=$impl scripts/build.sh failed (log: $KLP_WORK/build-$impl/build.log)"
	fi
	# shellcheck disable=SC2059
	dir=$(printf "$moddir" "$impl")
	step "guest: benchmarks, $impl core (reps $reps, icount $icount; ~30 min under TCG)"
	guest=$KLP_WORK/build-$impl/guest
	rm -f "$guest/bench.raw" "$OUT/$impl.tsv"
	KLP_IMPL=$impl "$REPO/scripts/guest.sh" bench 5400 /repo/scripts/guest/bench.sh \
		"/klp/build-$impl/guest/bench.raw" "$dir" \
		"$reps" "$calls" "$ntasks" ||
		echo "warning: the $impl guest run failed (console: $guest/bench.console); its figures are partial" >&2
	if [ -s "$guest/bench.raw" ]; then
		cp "$guest/bench.raw" "$OUT/$impl.tsv"
	else
		echo "warning: no samples from the $impl core (console: $guest/bench.console)" >&2
		echo "# no samples (console: $guest/bench.console)" >"$OUT/$impl.tsv"
	fi
done

step "report: $OUT/bench.{md,json,svg}"
in_root python3 /repo/scripts/bench-report.py /klp/bench /klp/bench/c.tsv /klp/bench/rust.tsv \
	"reps=$reps" "calls=$calls" "ntasks=$ntasks" "icount=$icount" \
	"accel=$(cat "$KLP_CACHE/kvm-probe" 2>/dev/null || echo unknown)" \
	"kernel=$(make -s -C "$KLP_SRC/linux-source-6.12" kernelversion)" \
	"commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	>"$OUT/report.log" 2>&1 || { cat "$OUT/report.log" >&2; die "bench-report.py failed (log: $OUT/report.log)"; }
step_done
echo
cat "$OUT/bench.md"
echo
echo "Raw samples: $OUT/c.tsv, $OUT/rust.tsv; JSON: $OUT/bench.json; plot: $OUT/bench.svg"
