# SPDX-License-Identifier: GPL-2.0
# Common helpers of the rust-klp scripts: cache layout, step timing, errors,
# and running a command inside the toolchain root.  Sourced, never run.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KLP_CACHE=${KLP_CACHE:-$HOME/.cache/rust-klp}
KLP_ROOT=$KLP_CACHE/root            # Debian trixie toolchain root (mmdebstrap)
KLP_SRC=$KLP_CACHE/src              # pristine kernel source, unpacked once
KLP_WORK=$KLP_CACHE/work            # overlaid tree and build dirs, seen as /klp in the root
KLP_IMPL=${KLP_IMPL:-rust}
# KLP_DEBUG=1 (make test-debug): the debug kernel, in its own build dir.
KLP_DEBUG=${KLP_DEBUG:-0}
case "$KLP_DEBUG" in
0) KLP_VARIANT=$KLP_IMPL ;;
1) KLP_VARIANT=$KLP_IMPL-debug ;;
*) echo "error: KLP_DEBUG='$KLP_DEBUG' (use KLP_DEBUG=0 or KLP_DEBUG=1)" >&2; exit 2 ;;
esac

case "$KLP_IMPL" in
c | rust) ;;
*) echo "error: unknown KLP_IMPL='$KLP_IMPL' (use KLP_IMPL=c or KLP_IMPL=rust)" >&2; exit 2 ;;
esac

# Inside the root, the repo is /repo and $KLP_WORK is /klp.
KLP_TREE_IN=/klp/linux            # overlaid source tree
KLP_BUILD_IN=/klp/build-$KLP_VARIANT  # O= build dir for the selected core
KLP_BUILD=$KLP_WORK/build-$KLP_VARIANT

STEP=
STEP_T0=0

# step NAME: announce a phase; the previous one prints its duration.
step() {
	step_done
	STEP=$1
	STEP_T0=$(date +%s)
	echo "==> $STEP" >&2
}

step_done() {
	if [ -n "$STEP" ]; then
		echo "==> $STEP: done in $(($(date +%s) - STEP_T0)) s" >&2
	fi
	STEP=
}

# die MESSAGE: fail naming the current step and what to do.
die() {
	echo "error${STEP:+ in step '$STEP'}: $*" >&2
	exit 1
}

# need_host_cargo: the host crates (crates/klp, crates/klp-model) build with
# the host's cargo, Rust >= the workspace's rust-version; checked before the
# long toolchain and kernel steps, so a missing one fails in seconds.
need_host_cargo() {
	local want v
	want=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n 1)
	command -v cargo >/dev/null ||
		die "no host cargo: install Rust >= $want with rustup (https://rustup.rs), then rerun"
	v=$(rustc --version | awk '{print $2}')
	[ "$(printf '%s\n%s\n' "$want" "$v" | sort -V | head -n 1)" = "$want" ] ||
		die "host rustc $v is older than the workspace's rust-version $want (Debian bookworm ships 1.63): install a newer one with rustup (https://rustup.rs)"
}

# in_root CMD...: run CMD in the toolchain root, with the repo at /repo and
# the work dir at /klp.  Mounts live in a private mount namespace, so they
# vanish with the command, whatever way it ends.
in_root() {
	[ -f "$KLP_ROOT/.klp-ready" ] || die "no toolchain root at $KLP_ROOT: run scripts/toolchain.sh"
	mkdir -p "$KLP_WORK" "$KLP_ROOT/repo" "$KLP_ROOT/klp"
	unshare --mount --propagation private -- /bin/sh -eu -c '
		r=$1; shift
		mount --rbind /dev "$r/dev"
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount -t tmpfs tmpfs "$r/tmp"
		mount --bind "$KLP_REPO_DIR" "$r/repo"
		mount --bind "$KLP_WORK_DIR" "$r/klp"
		exec chroot "$r" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			LANG=C.UTF-8 "$@"
	' in_root "$KLP_ROOT" "$@"
}
export KLP_REPO_DIR=$REPO KLP_WORK_DIR=$KLP_WORK
