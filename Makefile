# SPDX-License-Identifier: GPL-2.0
# rust-klp: the Linux 6.12 livepatch core in Rust.
#
#   make run     build, boot, apply and remove the livepatch sample (the demo)
#   make test    host tests + kernel build + livepatch kselftests in QEMU (TAP)
#   make test-debug  the same on a debug kernel (KASAN, lockdep, kmemleak, ...)
#   make shell   boot the built kernel to an interactive guest shell
#   make build   toolchain, kernel tree and kernel build only
#   make bench   the Rust core against the C core: one table, JSON and a plot
#
# KLP_IMPL=c|rust picks the livepatch core; KLP_CACHE (default
# ~/.cache/rust-klp) holds the toolchain root, the kernel source and builds.

KLP_IMPL ?= rust
export KLP_IMPL
ifdef KLP_CACHE
export KLP_CACHE
endif
# The host's Rust toolchain (rustup) for the Cargo workspace.
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: run test test-debug shell build bench

run:
	@scripts/run.sh

test:
	@scripts/test.sh

test-debug:
	@KLP_DEBUG=1 scripts/test.sh

build:
	@scripts/toolchain.sh && scripts/tree.sh && scripts/build.sh

bench:
	@scripts/bench.sh

shell: build
	@cargo build -q -p klp
	@echo "guest: klp is /repo/target/debug/klp, the test modules are in" \
		"/klp/build-$(KLP_IMPL)/kselftest/livepatch/test_modules/, the kselftests one directory up"
	@scripts/guest.sh shell 0
