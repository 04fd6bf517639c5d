#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test: host tests, the kernel with the KLP_IMPL core, and the livepatch
# kselftests in a QEMU guest.  Prints TAP (one line per host test and per
# kselftest case) and a last line "N passed, N failed"; exits non-zero on
# any failure.  Expected kselftest cases are read from the pristine scripts
# (their start_test lines), so a case that never ran counts as failed,
# unless its script skipped (TAP "# SKIP", counted apart).
# KLP_DEBUG=1 (make test-debug): the same on the debug kernel, which also
# fails on lockdep, RCU, KASAN, debugobjects and kmemleak reports.

. "$(dirname "$0")/lib.sh"
need_host_cargo

GUEST=$KLP_BUILD/guest
n=0 pass=0 fail=0 skipped=0
tap() { # tap ok|not-ok|skip DESCRIPTION [DIAGNOSTIC-FILE | SKIP REASON]
	n=$((n + 1))
	if [ "$1" = skip ]; then
		skipped=$((skipped + 1))
		echo "ok $n - $2 # SKIP ${3:-}"
	elif [ "$1" = ok ]; then
		pass=$((pass + 1))
		echo "ok $n - $2"
	else
		fail=$((fail + 1))
		echo "not ok $n - $2"
		[ -z "${3:-}" ] || sed 's/^/# /' "$3"
	fi
}
finish() {
	step_done
	echo "1..$n"
	[ "$skipped" = 0 ] || echo "# $skipped skipped"
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}

echo "TAP version 13"

# 1. Host tests of the Cargo workspace (the pure model, the tools).
if [ -f "$REPO/Cargo.toml" ]; then
	step "host tests: cargo test --workspace"
	log=$KLP_WORK/cargo-test.log
	mkdir -p "$KLP_WORK"
	if (cd "$REPO" && cargo test --workspace --color never) >"$log" 2>&1; then rc=0; else rc=$?; fi
	while read -r line; do
		case "$line" in
		*" ... ok") tap ok "host: ${line% ... ok}" ;;
		*" ... FAILED") tap not-ok "host: ${line% ... FAILED}" ;;
		esac
	done < <(grep -E '^test .* \.\.\. (ok|FAILED)$' "$log" | sed 's/^test //')
	[ "$rc" = 0 ] || tap not-ok "host: cargo test exits 0 (exit $rc, log: $log)" <(tail -n 30 "$log")
fi

# 2. The kernel.
step_done
for s in toolchain tree build; do
	if ! "$REPO/scripts/$s.sh"; then
		tap not-ok "kernel: scripts/$s.sh ($KLP_IMPL core)"
		finish
	fi
done
tap ok "kernel: built with the $KLP_IMPL core"

# 3. The Rust livepatch API refuses, at compile time, patch descriptions the
# kernel would refuse for their shape: each test_modules/rust-compile-fail/
# module must fail to build with the message its "// expect:" line gives.
st=tools/testing/selftests/livepatch
step "rust api: patch descriptions that must not compile"
for f in "$REPO/$st"/test_modules/rust-compile-fail/*.rs; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .rs)
	expect=$(sed -n 's|^// expect: ||p' "$f")
	dir=$KLP_WORK/compile-fail/$name
	rm -rf "$dir" && mkdir -p "$dir" && cp "$f" "$dir/" && echo "obj-m := $name.o" >"$dir/Makefile"
	if in_root make -C "$KLP_BUILD_IN" M="/klp/compile-fail/$name" LLVM=1 modules >"$dir/build.log" 2>&1; then
		tap not-ok "rust api: $name does not compile" <(echo "it compiled")
	elif [ -n "$expect" ] && grep -qF -- "$expect" "$dir/build.log"; then
		tap ok "rust api: $name does not compile: $expect"
	else
		tap not-ok "rust api: $name does not compile: $expect" <(grep -E '^error' -A6 "$dir/build.log" | head -n 20)
	fi
done

# 3b. klp build --dry-run against this kernel's build directory: each diff of
# tools/testing/selftests/livepatch/klp-build/ has a NAME.expect beside it:
# the exit code, then a line that the report or the refusal must contain.
step "klp build: dry runs against the kernel build"
for d in "$REPO/$st"/klp-build/*.diff; do
	[ -e "$d" ] || continue
	name=$(basename "$d" .diff)
	code=$(sed -n 1p "${d%.diff}.expect")
	expect=$(sed -n 2p "${d%.diff}.expect")
	out=$KLP_WORK/klp-build-$name.log
	rc=0
	"$REPO/target/debug/klp" build --dry-run --src "$KLP_WORK/linux" --build "$KLP_BUILD" \
		--root "$KLP_ROOT" "$d" >"$out" 2>&1 || rc=$?
	if [ "$rc" = "$code" ] && grep -qF -- "$expect" "$out"; then
		tap ok "klp build: $name: $expect"
	else
		tap not-ok "klp build: $name: exit $code, $expect" <(echo "exit $rc"; cat "$out")
	fi
done

# 3c. klp build generates a patch module from each diff of
# tools/testing/selftests/livepatch/klp-build/modules/, against this kernel's
# build directory, installed beside the test modules as test_klp_build_<name>.ko
# (with - as _), where test-klp-build.sh loads them in the guest. A diff with
# a NAME.expect must be refused: the exit code, then a line of the refusal; a
# NAME.flags holds more options of klp build (--replace).
step "klp build: patch modules from the corpus"
mods=$KLP_BUILD/kselftest/livepatch/test_modules
for d in "$REPO/$st"/klp-build/modules/*.diff; do
	[ -e "$d" ] || continue
	name=$(basename "$d" .diff)
	ko=$mods/test_klp_build_${name//-/_}.ko
	out=$KLP_WORK/klp-build-module-$name.log
	rm -f "$ko"
	flags=()
	[ ! -e "${d%.diff}.flags" ] || read -ra flags <"${d%.diff}.flags"
	rc=0
	"$REPO/target/debug/klp" build "${flags[@]}" --src "$KLP_WORK/linux" --build "$KLP_BUILD" \
		--root "$KLP_ROOT" -o "$ko" "$d" >"$out" 2>&1 || rc=$?
	if [ -e "${d%.diff}.expect" ]; then
		code=$(sed -n 1p "${d%.diff}.expect")
		expect=$(sed -n 2p "${d%.diff}.expect")
		if [ "$rc" = "$code" ] && grep -qF -- "$expect" "$out" && [ ! -e "$ko" ]; then
			tap ok "klp build: $name: refused: $expect"
		else
			tap not-ok "klp build: $name: refused: exit $code, $expect" <(echo "exit $rc"; cat "$out")
		fi
	elif [ "$rc" = 0 ] && [ -s "$ko" ]; then
		tap ok "klp build: $name: builds ${ko##*/}"
	else
		tap not-ok "klp build: $name: builds ${ko##*/}" "$out"
	fi
done

# 4. The livepatch kselftests in the guest: the upstream scripts, then the
# project's own (the repo's test-*.sh that the pristine tree does not have).
pristine=$KLP_SRC/linux-source-6.12/$st
installed=$KLP_BUILD/kselftest/livepatch
project=()
for f in "$REPO/$st"/*.sh; do
	[ -e "$pristine/${f##*/}" ] && continue
	cp "$f" "$installed/"
	case "${f##*/}" in test-*) project+=("${f##*/}") ;; esac
done
printf '%s\n' "${project[@]}" >"$installed/project-tests.txt"

# The debug kernel is several times slower; test-stress.sh runs more cycles
# there (KLP_STRESS_CYCLES overrides).
if [ "$KLP_DEBUG" = 1 ]; then
	limit=10800 cycles=${KLP_STRESS_CYCLES:-20}
else
	limit=3600 cycles=${KLP_STRESS_CYCLES:-10}
fi
step "guest: livepatch kselftests ($KLP_VARIANT; a few minutes under TCG, more with KLP_DEBUG=1)"
"$REPO/scripts/guest.sh" kselftests $limit /repo/scripts/guest/kselftests.sh \
	"$KLP_BUILD_IN/guest" "$KLP_BUILD_IN/kselftest" "$KLP_BUILD_IN" /repo/target/debug/klp "$cycles" || true
touch "$GUEST/kselftest.log" "$GUEST/dmesg.log" "$GUEST/kmemleak.log"
list=$KLP_BUILD/kselftest/kselftest-list.txt
[ -s "$list" ] || tap not-ok "kselftest: list of installed tests ($list)"
for script in $(sed -n 's/^livepatch://p' "$list") "${project[@]}"; do
	# The script's part of the log, from its runner header to the next one.
	section=$(awk -v h="# selftests: livepatch: $script" \
		'index($0, "# selftests: livepatch: ") { p = (substr($0, index($0, "# selftests")) == h) } p' \
		"$GUEST/kselftest.log")
	# A script may skip (functions.sh's skip(): "SKIP: REASON", exit 4).
	skip=$(sed -n 's/^SKIP: //p' <<<"$section" | head -n 1)
	# Its start_test "NAME" lines: the cases it must pass.
	while read -r name; do
		if [ -n "$skip" ] && ! grep -qF "TEST: $name ..." <<<"$section"; then
			tap skip "livepatch: $script: $name" "$skip"
		elif grep -qF "TEST: $name ... ok" <<<"$section"; then
			tap ok "livepatch: $script: $name"
		else
			tap not-ok "livepatch: $script: $name" \
				<(grep -F -A25 "TEST: $name ..." <<<"$section" || echo "case did not run")
		fi
	done < <(sed -n 's/^[[:space:]]*start_test "\(.*\)"$/\1/p' "$installed/$script")
done
# Kernel reports in the guest's dmesg, but for those a test provokes on
# purpose: the stack dump sysfs prints for a duplicate name in
# /sys/kernel/livepatch (test-malformed.sh), the warning of the WARN_ON in
# the klp build bug-table patch (test-klp-build.sh), and allocation failure
# reports while test-fault-injection.sh injects faults (from its start_test
# line to the next).
splat='WARNING:|BUG:|Oops|Call Trace:|UBSAN|KASAN|ODEBUG|INFO: |suspected memory leak'
unexpected=$GUEST/dmesg-unexpected.log
awk '
	/sysfs: cannot create duplicate filename .\/kernel\/livepatch\// { skip = 1 }
	/WARNING: .* \[test_klp_build_bug_table\]$/ { skip = 1 }
	/===== TEST: / { fault = index($0, "===== TEST: fault injection:") > 0 }
	fault && /page allocation failure|vmalloc error/ { skip = 1 }
	!skip { print }
	skip && /<\/TASK>/ { skip = 0 }
' "$GUEST/dmesg.log" >"$unexpected"
splats=$(grep -cE "$splat" "$unexpected" || true)
if [ "$splats" = 0 ] && [ -s "$GUEST/dmesg.log" ]; then
	tap ok "guest: dmesg has no warning, BUG, oops or checker report"
else
	tap not-ok "guest: dmesg has no warning, BUG, oops or checker report ($splats found, $GUEST/dmesg.log)" \
		<(grep -E -A10 "$splat" "$unexpected" | head -n 40)
fi
# kmemleak, on the debug kernel: scanned after the tests, leaks since boot.
if [ "$KLP_DEBUG" = 1 ]; then
	leaks=$(grep -c '^unreferenced object' "$GUEST/kmemleak.log" || true)
	if [ "$leaks" = 0 ] && grep -q '^kmemleak: scanned' "$GUEST/kmemleak.log"; then
		tap ok "guest: kmemleak finds no leak"
	else
		tap not-ok "guest: kmemleak finds no leak ($leaks found, $GUEST/kmemleak.log)" \
			<(head -n 40 "$GUEST/kmemleak.log")
	fi
fi
finish
