#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Assemble the kernel tree: unpack the pristine Debian linux-source-6.12 once
# ($KLP_CACHE/src), keep a work copy ($KLP_CACHE/work/linux) and overlay the
# repo's kernel-tree files onto it.  Only files whose content changed are
# copied, and files the repo no longer has are restored from the pristine
# tree, so that Kbuild's incremental rebuilds stay incremental.

. "$(dirname "$0")/lib.sh"

# Top-level directories of the repo that mirror the kernel tree.  (The repo's
# own scripts/ and Makefile are the harness, not kernel files.)
OVERLAY_DIRS=(arch Documentation include init kernel lib rust samples tools)

tarball=$KLP_ROOT/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || die "no $tarball: run scripts/toolchain.sh"
version=$(in_root dpkg-query -W -f '${Version}' linux-source-6.12)
pristine=$KLP_SRC/linux-source-6.12
tree=$KLP_WORK/linux

if [ "$(cat "$pristine/.klp-version" 2>/dev/null)" != "$version" ]; then
	step "kernel source: unpack linux-source-6.12 $version"
	rm -rf "$KLP_SRC" "$tree" "$KLP_WORK/overlay.list"
	mkdir -p "$KLP_SRC"
	tar -C "$KLP_SRC" -xJf "$tarball" || die "could not unpack $tarball"
	echo "$version" >"$pristine/.klp-version"
fi
echo "==> kernel source: Debian linux-source-6.12 $version ($(make -s -C "$pristine" kernelversion))" >&2

if [ ! -f "$tree/.klp-version" ]; then
	step "kernel source: work copy"
	rm -rf "$tree.tmp"
	cp -a "$pristine" "$tree.tmp"
	mv "$tree.tmp" "$tree"
fi

step "kernel source: overlay the repo"
cd "$REPO"
new=$(mktemp)
trap 'rm -f "$new"' EXIT
git ls-files --cached --others --exclude-standard -- "${OVERLAY_DIRS[@]}" | sort >"$new"
old=$KLP_WORK/overlay.list
touch "$old"
# Files overlaid last time and gone from the repo: back to pristine.
comm -23 "$old" "$new" | while read -r f; do
	if [ -e "$pristine/$f" ]; then
		cp -a "$pristine/$f" "$tree/$f"
	else
		rm -f "$tree/$f"
	fi
	echo "    restored $f" >&2
done
copied=0
while read -r f; do
	[ -f "$f" ] || continue
	if ! cmp -s "$f" "$tree/$f"; then
		mkdir -p "$(dirname "$tree/$f")"
		cp "$f" "$tree/$f"
		copied=$((copied + 1))
	fi
done <"$new"
cp "$new" "$old"
echo "    $(wc -l <"$new") files overlaid, $copied changed" >&2
step_done
