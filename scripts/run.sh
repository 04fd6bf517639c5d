#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make run: build, boot, apply the livepatch sample with the klp manager,
# show it working, disable and unload it.

. "$(dirname "$0")/lib.sh"
need_host_cargo

for s in toolchain tree build; do
	"$REPO/scripts/$s.sh"
done
step "host: cargo build -p klp (the livepatch manager the demo uses)"
(cd "$REPO" && cargo build -q -p klp) || die "cargo build -p klp failed"
step "guest: livepatch sample demo ($KLP_IMPL core)"
rm -f "$KLP_BUILD/guest/demo.out"
"$REPO/scripts/guest.sh" demo 600 /repo/scripts/guest/demo.sh "$KLP_BUILD_IN" "$KLP_BUILD_IN/guest/demo.out" \
	/repo/target/debug/klp
step_done
cat "$KLP_BUILD/guest/demo.out"
echo "(guest console: $KLP_BUILD/guest/demo.console)"
