#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the guest kernel for KLP_IMPL (c|rust) out of tree
# ($KLP_CACHE/work/build-$KLP_IMPL, or build-$KLP_IMPL-debug with KLP_DEBUG=1),
# then the livepatch kselftests against it.  Reconfigures only when the config fragment or KLP_IMPL changed, so a
# no-change rebuild takes seconds.

. "$(dirname "$0")/lib.sh"

FRAGMENTS=(kernel/configs/rust-klp.config)
[ "$KLP_DEBUG" = 0 ] || FRAGMENTS+=(kernel/configs/rust-klp-debug.config)
MAKE=(make -C "$KLP_TREE_IN" O="$KLP_BUILD_IN" LLVM=1 -j"$(nproc)")

# The core selection: a Kconfig option of kernel/livepatch/Kconfig.
case "$KLP_IMPL" in
c) impl_opt="# CONFIG_LIVEPATCH_RUST is not set" ;;
rust) impl_opt="CONFIG_LIVEPATCH_RUST=y" ;;
esac

# A first build of one core starts from the other core's build, if there is one:
# the two differ in kernel/livepatch only, so the build is incremental.
other=$KLP_WORK/build-${KLP_VARIANT/#$KLP_IMPL/$([ "$KLP_IMPL" = c ] && echo rust || echo c)}
if [ ! -e "$KLP_BUILD/vmlinux" ] && [ -e "$other/vmlinux" ]; then
	step "seed build-$KLP_VARIANT from ${other##*/}"
	rm -rf "$KLP_BUILD"
	cp -a "$other" "$KLP_BUILD"
	rm -rf "$KLP_BUILD/.klp-config" "$KLP_BUILD/guest" "$KLP_BUILD/kselftest"
fi
mkdir -p "$KLP_BUILD"
{ (cd "$REPO" && cat "${FRAGMENTS[@]}"); echo "$impl_opt"; } >"$KLP_BUILD/klp.config"
want=$(cat "$KLP_BUILD/klp.config" "$REPO/scripts/build.sh" | sha256sum)

if [ "$(cat "$KLP_BUILD/.klp-config" 2>/dev/null)" != "$want" ]; then
	step "kernel config ($KLP_IMPL core)"
	rm -f "$KLP_BUILD/.klp-config"
	in_root sh -c "cd $KLP_TREE_IN && virtme-configkernel --defconfig \
		--custom $KLP_BUILD_IN/klp.config O=$KLP_BUILD_IN LLVM=1" \
		>"$KLP_BUILD/config.log" 2>&1 ||
		die "virtme-configkernel failed (log: $KLP_BUILD/config.log)"
	# virtme-ng appends its own options after ours (debug info among them):
	# merge ours again so they win.
	in_root sh -c "cd $KLP_TREE_IN && scripts/kconfig/merge_config.sh -m \
		-O $KLP_BUILD_IN $KLP_BUILD_IN/.config $KLP_BUILD_IN/klp.config &&
		make O=$KLP_BUILD_IN LLVM=1 olddefconfig" >>"$KLP_BUILD/config.log" 2>&1 ||
		die "merging ${FRAGMENTS[*]} failed (log: $KLP_BUILD/config.log)"
	# Options that a dependency silently dropped (see the fragment's notes).
	lost=$(grep -E '^(CONFIG_[A-Z0-9_]+=[ym0-9]+|# CONFIG_[A-Z0-9_]+ is not set)$' \
		"$KLP_BUILD/klp.config" | grep -vxFf "$KLP_BUILD/.config" || true)
	[ -z "$lost" ] || die "olddefconfig dropped options of ${FRAGMENTS[*]}:"$'\n'"$lost"
	if [ "$KLP_IMPL" = rust ] && ! grep -qx "$impl_opt" "$KLP_BUILD/.config"; then
		die "KLP_IMPL=rust: no LIVEPATCH_RUST in this tree's kernel/livepatch/Kconfig (no Rust core yet)"
	fi
	echo "$want" >"$KLP_BUILD/.klp-config"
fi

step "kernel build ($KLP_VARIANT; fresh: ~14 min on 2 cores, longer with KLP_DEBUG=1)"
in_root "${MAKE[@]}" bzImage modules >"$KLP_BUILD/build.log" 2>&1 ||
	{ tail -n 30 "$KLP_BUILD/build.log" >&2; die "kernel build failed (log: $KLP_BUILD/build.log)"; }

step "livepatch kselftests: build against the kernel"
# The upstream kselftests run unmodified: check them against the pristine tree.
st=tools/testing/selftests/livepatch
for f in $(cd "$KLP_SRC/linux-source-6.12/$st" && find . -type f); do
	cmp -s "$KLP_SRC/linux-source-6.12/$st/$f" "$KLP_WORK/linux/$st/$f" ||
		die "$st/$f differs from the pristine tree: the upstream kselftests must run unmodified"
done
in_root sh -c "rm -rf $KLP_BUILD_IN/kselftest && make -C $KLP_TREE_IN/tools/testing/selftests \
	TARGETS=livepatch KDIR=$KLP_BUILD_IN LLVM=1 INSTALL_PATH=$KLP_BUILD_IN/kselftest install" \
	>"$KLP_BUILD/kselftest-build.log" 2>&1 ||
	{ tail -n 30 "$KLP_BUILD/kselftest-build.log" >&2; die "kselftest build failed (log: $KLP_BUILD/kselftest-build.log)"; }
# The project's own test modules: each subdirectory of test_modules/ with a
# Makefile (the Rust test modules, the benchmark modules), built against the
# kernel and installed beside the upstream ones, where functions.sh loads them.
# Each core builds them in a copy of its own (build-$KLP_VARIANT/project-modules),
# so the objects of one never pass for up to date with the other's kernel.
for dir in "$REPO/$st"/test_modules/*/Makefile; do
	[ -e "$dir" ] || continue
	sub=${dir%/Makefile}
	sub=${sub##*/}
	mods=$KLP_BUILD_IN/project-modules/$sub
	in_root sh -c "mkdir -p $mods && cd $KLP_TREE_IN/$st/test_modules/$sub &&
		cp -p Makefile \$(ls *.rs *.c *.h 2>/dev/null) $mods/ &&
		make -C $KLP_BUILD_IN M=$mods LLVM=1 -j$(nproc) modules &&
		cp $mods/*.ko $KLP_BUILD_IN/kselftest/livepatch/test_modules/" \
		>"$KLP_BUILD/kselftest-$sub-build.log" 2>&1 ||
		{ tail -n 30 "$KLP_BUILD/kselftest-$sub-build.log" >&2
		  die "test_modules/$sub build failed (log: $KLP_BUILD/kselftest-$sub-build.log)"; }
done
# The livepatch samples, C and Rust, beside them under their module names
# (test-rust-api.sh tests a Rust sample on a C one).
for ko in "$KLP_BUILD"/samples/livepatch/*.ko; do
	[ -e "$ko" ] || continue
	name=${ko##*/}
	cp "$ko" "$KLP_BUILD/kselftest/livepatch/test_modules/${name//-/_}"
done
n=$(find "$KLP_BUILD/kselftest/livepatch/test_modules" -name '*.ko' | wc -l)
[ "$n" -gt 0 ] || die "no livepatch test modules were built (log: $KLP_BUILD/kselftest-build.log)"
echo "    $n test modules" >&2
step_done
