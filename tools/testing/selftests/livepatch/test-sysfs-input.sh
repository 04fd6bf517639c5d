#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input to the livepatch sysfs interface: every refused write returns the
# core's error and changes nothing; the attributes have upstream's modes.

. $(dirname $0)/functions.sh

MOD_LIVEPATCH=test_klp_livepatch
SYSFS=/sys/kernel/livepatch/$MOD_LIVEPATCH

setup_config

# refuse_write FILE VALUE ERROR: writing VALUE to FILE fails with ERROR.
function refuse_write() {
	local out
	out=$( (echo -n "$2" > "$1") 2>&1 ) &&
		die "writing '${2:0:20}' to $1 succeeded"
	[[ "$out" == *"$3"* ]] || die "writing '${2:0:20}' to $1: '$out', expected '$3'"
}

# expect_attr FILE VALUE: FILE reads VALUE.
function expect_attr() {
	[[ "$(cat "$1")" == "$2" ]] || die "$1 reads '$(cat "$1")', expected '$2'"
}


# - load a livepatch, then write garbage, empty, huge and meaningless values
#   to its writable attributes and to the read-only ones
# - check the errors, that the patch is still enabled and effective, and the
#   attributes' modes

start_test "sysfs: bad writes are refused and change nothing"

load_lp $MOD_LIVEPATCH
# Longer than a page: sysfs passes the store the first page.
long=$(head -c 4000 /dev/zero | tr '\0' x)
huge=$(head -c 8192 /dev/zero | tr '\0' x)
for value in garbage $'\n' "$long" "$huge" 2 -1 ' 1'; do
	refuse_write $SYSFS/enabled "$value" "Invalid argument"
	refuse_write $SYSFS/force "$value" "Invalid argument"
done
# Enabling an enabled patch, forcing a patch not in transition.
refuse_write $SYSFS/enabled 1 "Invalid argument"
refuse_write $SYSFS/force 1 "Invalid argument"
for attr in transition replace vmlinux/patched; do
	refuse_write $SYSFS/$attr 0 "Permission denied"
done
expect_attr $SYSFS/enabled 1
expect_attr $SYSFS/transition 0
expect_attr $SYSFS/vmlinux/patched 1
[[ "$(cat /proc/cmdline)" == "$MOD_LIVEPATCH: this has been live patched" ]] ||
	die "the patch is no longer effective"
for mode in enabled:644 force:200 transition:444 replace:444 vmlinux/patched:444; do
	expect_attr <(stat -c %a "$SYSFS/${mode%:*}") "${mode#*:}"
done
# stack_order (Linux 6.14, which the Rust core has and 6.12's C core has not): the only
# patch is the first on the stack; read-only.
if [[ -e $SYSFS/stack_order ]]; then
	expect_attr $SYSFS/stack_order 1
	expect_attr <(stat -c %a "$SYSFS/stack_order") 444
	refuse_write $SYSFS/stack_order 2 "Permission denied"
fi
disable_lp $MOD_LIVEPATCH
refuse_write $SYSFS/enabled 0 "No such file or directory"
unload_lp $MOD_LIVEPATCH

check_result "% insmod test_modules/$MOD_LIVEPATCH.ko
livepatch: enabling patch '$MOD_LIVEPATCH'
livepatch: '$MOD_LIVEPATCH': initializing patching transition
livepatch: '$MOD_LIVEPATCH': starting patching transition
livepatch: '$MOD_LIVEPATCH': completing patching transition
livepatch: '$MOD_LIVEPATCH': patching complete
% echo 0 > $SYSFS/enabled
livepatch: '$MOD_LIVEPATCH': initializing unpatching transition
livepatch: '$MOD_LIVEPATCH': starting unpatching transition
livepatch: '$MOD_LIVEPATCH': completing unpatching transition
livepatch: '$MOD_LIVEPATCH': unpatching complete
% rmmod $MOD_LIVEPATCH"


# - load a livepatch, then 8 processes write 0 to its enabled at once
# - exactly one write disables it; the others are refused, with EINVAL (the
#   patch is already disabled) or, once it is gone, ENOENT/ENODEV, or EACCES:
#   the shell opens with O_CREAT, and once "enabled" is removed from a
#   directory that still exists, the open tries to create it, which
#   lookup_open() refuses with -EACCES (kernfs directories have no ->create);
#   the patch is disabled once, cleanly

start_test "sysfs: racing writes to enabled"

load_lp $MOD_LIVEPATCH
errors=$(mktemp)
log "% 8 processes: echo 0 > $SYSFS/enabled"
for i in $(seq 1 8); do
	(echo 0 > $SYSFS/enabled) 2>>"$errors" &
done
wait
refused=$(grep -cE "Invalid argument|No such file or directory|No such device|Permission denied" "$errors")
[[ $refused == 7 && $(wc -l < "$errors") == 7 ]] ||
	die "racing writes: $((8 - refused)) succeeded, errors: $(cat "$errors")"
rm -f "$errors"
loop_until '[[ ! -e $SYSFS ]]' || die "the patch was not disabled"
[[ "$(cat /proc/cmdline)" != "$MOD_LIVEPATCH: this has been live patched" ]] ||
	die "the patch is still effective"
unload_lp $MOD_LIVEPATCH

check_result "% insmod test_modules/$MOD_LIVEPATCH.ko
livepatch: enabling patch '$MOD_LIVEPATCH'
livepatch: '$MOD_LIVEPATCH': initializing patching transition
livepatch: '$MOD_LIVEPATCH': starting patching transition
livepatch: '$MOD_LIVEPATCH': completing patching transition
livepatch: '$MOD_LIVEPATCH': patching complete
% 8 processes: echo 0 > $SYSFS/enabled
livepatch: '$MOD_LIVEPATCH': initializing unpatching transition
livepatch: '$MOD_LIVEPATCH': starting unpatching transition
livepatch: '$MOD_LIVEPATCH': completing unpatching transition
livepatch: '$MOD_LIVEPATCH': unpatching complete
% rmmod $MOD_LIVEPATCH"

exit 0
