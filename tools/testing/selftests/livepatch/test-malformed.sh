#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Malformed livepatch modules (test_modules/malformed/): each one is refused
# with the core's error code and log lines, and leaves nothing behind: no
# module, no sysfs entry, no ftrace location, the patched function unchanged.
# Where the C core refuses without a log line, so must the Rust core.

. $(dirname $0)/functions.sh
. $(dirname $0)/snapshot.sh
. $(dirname $0)/expect.sh

TARGET=test_klp_bad_target
BASE=test_klp_bad_state_base

setup_config

# refuse MOD ERROR [LINE...]: loading MOD fails with ERROR (insmod's text for
# the error code) and changes nothing; REFUSED is then the log of it, with
# the core's LINEs.
function refuse() {
	local mod=$1 err=$2 before
	shift 2
	before=$(snapshot)
	load_failing_mod "$mod"
	[[ "$ret" == *": $err" ]] || die "$mod: '$ret', expected '$err'"
	same_snapshot "$mod" "$before"
	REFUSED=$(printf '%s\n' "% insmod test_modules/$mod.ko" "$@" \
		"insmod: ERROR: could not insert module test_modules/$mod.ko: $err")
}

# cancelled MOD: the core's lines after a failure within __klp_enable_patch().
function cancelled() {
	printf '%s\n' "livepatch: failed to enable patch '$1'" \
		"livepatch: '$1': canceling patching transition, going to unpatch" \
		"livepatch: '$1': completing unpatching transition" \
		"livepatch: '$1': unpatching complete"
}


# Refused by klp_enable_patch() before anything is set up: no log line.

start_test "malformed: a patch without objects"
refuse test_klp_bad_no_objs "Invalid parameters"
check_result "$REFUSED"

start_test "malformed: an object without funcs"
refuse test_klp_bad_no_funcs "Invalid parameters"
check_result "$REFUSED"

start_test "malformed: a patch without its module"
refuse test_klp_bad_no_mod "Invalid parameters"
check_result "$REFUSED"

start_test "malformed: a module not marked as a livepatch"
refuse test_klp_bad_no_modinfo "Invalid parameters" \
	"livepatch: module test_klp_bad_no_modinfo is not marked as a livepatch module"
check_result "$REFUSED"


# Refused while the patch's kobjects are set up (klp_init_patch()).

start_test "malformed: a func without old_name"
refuse test_klp_bad_null_old_name "Invalid parameters"
check_result "$REFUSED"

start_test "malformed: a func without new_func"
refuse test_klp_bad_null_new_func "Invalid parameters"
check_result "$REFUSED"

start_test "malformed: an old_name longer than a symbol"
refuse test_klp_bad_long_old_name "Invalid parameters"
check_result "$REFUSED"

start_test "malformed: an object name longer than a module's"
refuse test_klp_bad_long_obj_name "Invalid parameters"
check_result "$REFUSED"

# sysfs reports a duplicate name with a stack dump, and the module's frames
# in it would be compared too: check_result reads dmesg without them.
function dmesg() {
	command dmesg "$@" | grep -v '^\[[ 0-9.]*\]  '
}

start_test "malformed: the same object twice"
refuse test_klp_bad_dup_object "File exists" \
	"sysfs: cannot create duplicate filename '/kernel/livepatch/test_klp_bad_dup_object/vmlinux'"
check_result "$REFUSED"

start_test "malformed: the same function twice"
refuse test_klp_bad_dup_func "File exists" \
	"sysfs: cannot create duplicate filename '/kernel/livepatch/test_klp_bad_dup_func/vmlinux/cmdline_proc_show,1'"
check_result "$REFUSED"

unset -f dmesg


# Refused by the symbol lookups (klp_init_object_loaded()).

start_test "malformed: a function vmlinux does not have"
refuse test_klp_bad_unknown_symbol "Invalid parameters" \
	"livepatch: symbol 'klp_bad_no_such_function' not found in symbol table"
check_result "$REFUSED"

start_test "malformed: an old_sympos past the symbol's last"
refuse test_klp_bad_sympos "Invalid parameters" \
	"livepatch: symbol position 2 for symbol 'cmdline_proc_show' in object 'vmlinux' not found"
check_result "$REFUSED"

start_test "malformed: a replacement that is no function"
refuse test_klp_bad_new_func "Unknown symbol in module" \
	"livepatch: kallsyms size lookup failed for 'cmdline_proc_show' replacement"
check_result "$REFUSED"

start_test "malformed: a function the target module does not have"
load_mod $TARGET
refuse test_klp_bad_unknown_mod_symbol "Invalid parameters" \
	"livepatch: symbol 'klp_bad_no_such_function' not found in symbol table"
unload_mod $TARGET
check_result "% insmod test_modules/$TARGET.ko
$REFUSED
% rmmod $TARGET"

start_test "malformed: an old_sympos past the module symbol's last"
load_mod $TARGET
refuse test_klp_bad_mod_sympos "Invalid parameters" \
	"livepatch: symbol position 3 for symbol 'klp_bad_dup' in object '$TARGET' not found"
unload_mod $TARGET
check_result "% insmod test_modules/$TARGET.ko
$REFUSED
% rmmod $TARGET"

start_test "malformed: an ambiguous symbol without old_sympos"
load_mod $TARGET
refuse test_klp_bad_ambiguous "Invalid parameters" \
	"livepatch: unresolvable ambiguity for symbol 'klp_bad_dup' in object '$TARGET'"
unload_mod $TARGET
check_result "% insmod test_modules/$TARGET.ko
$REFUSED
% rmmod $TARGET"


# Refused while enabling (__klp_enable_patch()): what was done is undone.

start_test "malformed: a function ftrace cannot patch"
refuse test_klp_bad_not_traceable "Invalid parameters" \
	"livepatch: enabling patch 'test_klp_bad_not_traceable'" \
	"livepatch: 'test_klp_bad_not_traceable': initializing patching transition" \
	"livepatch: failed to find location for function 'tracing_is_on'" \
	"livepatch: failed to patch object 'vmlinux'" \
	"$(cancelled test_klp_bad_not_traceable)"
check_result "$REFUSED"

start_test "malformed: a pre-patch callback that fails"
refuse test_klp_bad_pre_patch "Operation not permitted" \
	"livepatch: enabling patch 'test_klp_bad_pre_patch'" \
	"livepatch: 'test_klp_bad_pre_patch': initializing patching transition" \
	"livepatch: pre-patch callback failed for object 'vmlinux'" \
	"$(cancelled test_klp_bad_pre_patch)"
check_result "$REFUSED"


# Refused for the system states of the installed patches.

start_test "malformed: an older version of an installed system state"
load_lp $BASE
refuse test_klp_bad_state_older "Invalid parameters" \
	"livepatch: Livepatch patch (test_klp_bad_state_older) is not compatible with the already installed livepatches."
disable_lp $BASE
unload_lp $BASE
check_result "$(enabled $BASE)
$REFUSED
$(disabled $BASE)"

start_test "malformed: a replace patch with an older system state"
load_lp $BASE
refuse test_klp_bad_replace_older "Invalid parameters" \
	"livepatch: Livepatch patch (test_klp_bad_replace_older) is not compatible with the already installed livepatches."
disable_lp $BASE
unload_lp $BASE
check_result "$(enabled $BASE)
$REFUSED
$(disabled $BASE)"

start_test "malformed: a replace patch without an installed system state"
load_lp $BASE
refuse test_klp_bad_replace_drops_state "Invalid parameters" \
	"livepatch: Livepatch patch (test_klp_bad_replace_drops_state) is not compatible with the already installed livepatches."
disable_lp $BASE
unload_lp $BASE
check_result "$(enabled $BASE)
$REFUSED
$(disabled $BASE)"


# Refused later: the patch is enabled, its target module is refused when it
# comes (klp_module_coming()), and the patch stays as it was.

start_test "malformed: a function the coming module does not have"
load_lp test_klp_bad_deferred
refuse $TARGET "Invalid parameters" \
	"livepatch: symbol 'klp_bad_no_such_function' not found in symbol table" \
	"livepatch: failed to initialize patch 'test_klp_bad_deferred' for module '$TARGET' (-22)" \
	"livepatch: patch 'test_klp_bad_deferred' failed for module '$TARGET', refusing to load module '$TARGET'"
[[ "$(cat /sys/kernel/livepatch/test_klp_bad_deferred/enabled)" == 1 ]] ||
	die "the patch was disabled"
disable_lp test_klp_bad_deferred
unload_lp test_klp_bad_deferred
check_result "$(enabled test_klp_bad_deferred)
$REFUSED
$(disabled test_klp_bad_deferred)"

exit 0
