#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The upstream scenarios with patch modules written in safe Rust
# (test_modules/rust/, rust/kernel/livepatch.rs), mixed with the C ones:
# the dmesg lines must be those of the C core for the same scenario.

. $(dirname $0)/functions.sh

MOD_LIVEPATCH=test_klp_rust_livepatch
MOD_REPLACE=test_klp_rust_atomic_replace
MOD_CALLBACKS=test_klp_rust_callbacks_demo
MOD_SHADOW=test_klp_rust_shadow_vars
MOD_STATE=test_klp_rust_state
MOD_STATE2=test_klp_rust_state2
MOD_MISSING=test_klp_rust_missing_symbol
MOD_SHADOW_FIX=rust_livepatch_shadow_fix1
MOD_SHADOW_TARGET=livepatch_shadow_mod
MOD_C_LIVEPATCH=test_klp_livepatch
MOD_C_REPLACE=test_klp_atomic_replace
MOD_TARGET=test_klp_callbacks_mod

setup_config

# expect_file FILE TEXT: FILE (a /proc file) shows exactly TEXT.
function expect_file() {
	if [[ "$(cat "$1")" != "$2" ]]; then
		echo -e "FAIL: $1 shows $(head -c 200 "$1")\n\n"
		die "livepatch kselftest(s) failed"
	fi
}

# patched_lines: log the livepatched lines of /proc/cmdline and
# /proc/meminfo, as the upstream tests do.
function patched_lines() {
	grep 'live patched' /proc/cmdline > /dev/kmsg
	grep 'live patched' /proc/meminfo > /dev/kmsg
}


# A Rust patch of vmlinux: /proc/cmdline changes while it is enabled, and
# comes back when it is disabled and removed.

start_test "rust: basic function patching"

cmdline=$(cat /proc/cmdline)
load_lp $MOD_LIVEPATCH
expect_file /proc/cmdline "$MOD_LIVEPATCH: this has been live patched"
disable_lp $MOD_LIVEPATCH
unload_lp $MOD_LIVEPATCH
expect_file /proc/cmdline "$cmdline"

check_result "% insmod test_modules/$MOD_LIVEPATCH.ko
livepatch: enabling patch '$MOD_LIVEPATCH'
livepatch: '$MOD_LIVEPATCH': initializing patching transition
livepatch: '$MOD_LIVEPATCH': starting patching transition
livepatch: '$MOD_LIVEPATCH': completing patching transition
livepatch: '$MOD_LIVEPATCH': patching complete
% echo 0 > /sys/kernel/livepatch/$MOD_LIVEPATCH/enabled
livepatch: '$MOD_LIVEPATCH': initializing unpatching transition
livepatch: '$MOD_LIVEPATCH': starting unpatching transition
livepatch: '$MOD_LIVEPATCH': completing unpatching transition
livepatch: '$MOD_LIVEPATCH': unpatching complete
% rmmod $MOD_LIVEPATCH"


# A Rust patch and a C patch of other functions, enabled together, then
# removed one after the other.

start_test "rust: multiple livepatches, Rust and C"

load_lp $MOD_LIVEPATCH
patched_lines
load_lp $MOD_C_REPLACE replace=0
patched_lines
disable_lp $MOD_C_REPLACE
unload_lp $MOD_C_REPLACE
patched_lines
disable_lp $MOD_LIVEPATCH
unload_lp $MOD_LIVEPATCH
patched_lines

check_result "% insmod test_modules/$MOD_LIVEPATCH.ko
livepatch: enabling patch '$MOD_LIVEPATCH'
livepatch: '$MOD_LIVEPATCH': initializing patching transition
livepatch: '$MOD_LIVEPATCH': starting patching transition
livepatch: '$MOD_LIVEPATCH': completing patching transition
livepatch: '$MOD_LIVEPATCH': patching complete
$MOD_LIVEPATCH: this has been live patched
% insmod test_modules/$MOD_C_REPLACE.ko replace=0
livepatch: enabling patch '$MOD_C_REPLACE'
livepatch: '$MOD_C_REPLACE': initializing patching transition
livepatch: '$MOD_C_REPLACE': starting patching transition
livepatch: '$MOD_C_REPLACE': completing patching transition
livepatch: '$MOD_C_REPLACE': patching complete
$MOD_LIVEPATCH: this has been live patched
$MOD_C_REPLACE: this has been live patched
% echo 0 > /sys/kernel/livepatch/$MOD_C_REPLACE/enabled
livepatch: '$MOD_C_REPLACE': initializing unpatching transition
livepatch: '$MOD_C_REPLACE': starting unpatching transition
livepatch: '$MOD_C_REPLACE': completing unpatching transition
livepatch: '$MOD_C_REPLACE': unpatching complete
% rmmod $MOD_C_REPLACE
$MOD_LIVEPATCH: this has been live patched
% echo 0 > /sys/kernel/livepatch/$MOD_LIVEPATCH/enabled
livepatch: '$MOD_LIVEPATCH': initializing unpatching transition
livepatch: '$MOD_LIVEPATCH': starting unpatching transition
livepatch: '$MOD_LIVEPATCH': completing unpatching transition
livepatch: '$MOD_LIVEPATCH': unpatching complete
% rmmod $MOD_LIVEPATCH"


# A cumulative Rust patch replaces a Rust and a C patch of /proc/cmdline:
# only its own function (/proc/meminfo) stays patched.

start_test "rust: atomic replace of Rust and C livepatches"

load_lp $MOD_LIVEPATCH
load_lp $MOD_C_LIVEPATCH
patched_lines
load_lp $MOD_REPLACE
patched_lines
loop_until 'mods=(/sys/kernel/livepatch/*); [[ ${#mods[@]} -eq 1 ]]' ||
	die "expected only $MOD_REPLACE in /sys/kernel/livepatch"
unload_lp $MOD_C_LIVEPATCH
unload_lp $MOD_LIVEPATCH
disable_lp $MOD_REPLACE
unload_lp $MOD_REPLACE
patched_lines

check_result "% insmod test_modules/$MOD_LIVEPATCH.ko
livepatch: enabling patch '$MOD_LIVEPATCH'
livepatch: '$MOD_LIVEPATCH': initializing patching transition
livepatch: '$MOD_LIVEPATCH': starting patching transition
livepatch: '$MOD_LIVEPATCH': completing patching transition
livepatch: '$MOD_LIVEPATCH': patching complete
% insmod test_modules/$MOD_C_LIVEPATCH.ko
livepatch: enabling patch '$MOD_C_LIVEPATCH'
livepatch: '$MOD_C_LIVEPATCH': initializing patching transition
livepatch: '$MOD_C_LIVEPATCH': starting patching transition
livepatch: '$MOD_C_LIVEPATCH': completing patching transition
livepatch: '$MOD_C_LIVEPATCH': patching complete
$MOD_C_LIVEPATCH: this has been live patched
% insmod test_modules/$MOD_REPLACE.ko
livepatch: enabling patch '$MOD_REPLACE'
livepatch: '$MOD_REPLACE': initializing patching transition
livepatch: '$MOD_REPLACE': starting patching transition
livepatch: '$MOD_REPLACE': completing patching transition
livepatch: '$MOD_REPLACE': patching complete
$MOD_REPLACE: this has been live patched
% rmmod $MOD_C_LIVEPATCH
% rmmod $MOD_LIVEPATCH
% echo 0 > /sys/kernel/livepatch/$MOD_REPLACE/enabled
livepatch: '$MOD_REPLACE': initializing unpatching transition
livepatch: '$MOD_REPLACE': starting unpatching transition
livepatch: '$MOD_REPLACE': completing unpatching transition
livepatch: '$MOD_REPLACE': unpatching complete
% rmmod $MOD_REPLACE"


# Rust callbacks for vmlinux and a loaded target module
# (test-callbacks.sh: "target module before livepatch").

start_test "rust: callbacks, target module before livepatch"

load_mod $MOD_TARGET
load_lp $MOD_CALLBACKS
disable_lp $MOD_CALLBACKS
unload_lp $MOD_CALLBACKS
unload_mod $MOD_TARGET

check_result "% insmod test_modules/$MOD_TARGET.ko
$MOD_TARGET: ${MOD_TARGET}_init
% insmod test_modules/$MOD_CALLBACKS.ko
livepatch: enabling patch '$MOD_CALLBACKS'
livepatch: '$MOD_CALLBACKS': initializing patching transition
$MOD_CALLBACKS: pre_patch_callback: vmlinux
$MOD_CALLBACKS: pre_patch_callback: $MOD_TARGET -> [MODULE_STATE_LIVE] Normal state
livepatch: '$MOD_CALLBACKS': starting patching transition
livepatch: '$MOD_CALLBACKS': completing patching transition
$MOD_CALLBACKS: post_patch_callback: vmlinux
$MOD_CALLBACKS: post_patch_callback: $MOD_TARGET -> [MODULE_STATE_LIVE] Normal state
livepatch: '$MOD_CALLBACKS': patching complete
% echo 0 > /sys/kernel/livepatch/$MOD_CALLBACKS/enabled
livepatch: '$MOD_CALLBACKS': initializing unpatching transition
$MOD_CALLBACKS: pre_unpatch_callback: vmlinux
$MOD_CALLBACKS: pre_unpatch_callback: $MOD_TARGET -> [MODULE_STATE_LIVE] Normal state
livepatch: '$MOD_CALLBACKS': starting unpatching transition
livepatch: '$MOD_CALLBACKS': completing unpatching transition
$MOD_CALLBACKS: post_unpatch_callback: vmlinux
$MOD_CALLBACKS: post_unpatch_callback: $MOD_TARGET -> [MODULE_STATE_LIVE] Normal state
livepatch: '$MOD_CALLBACKS': unpatching complete
% rmmod $MOD_CALLBACKS
% rmmod $MOD_TARGET
$MOD_TARGET: ${MOD_TARGET}_exit"


# Rust callbacks for a target module that loads after the patch
# (test-callbacks.sh: "module_coming notifier").

start_test "rust: callbacks, module_coming notifier"

load_lp $MOD_CALLBACKS
load_mod $MOD_TARGET
disable_lp $MOD_CALLBACKS
unload_lp $MOD_CALLBACKS
unload_mod $MOD_TARGET

check_result "% insmod test_modules/$MOD_CALLBACKS.ko
livepatch: enabling patch '$MOD_CALLBACKS'
livepatch: '$MOD_CALLBACKS': initializing patching transition
$MOD_CALLBACKS: pre_patch_callback: vmlinux
livepatch: '$MOD_CALLBACKS': starting patching transition
livepatch: '$MOD_CALLBACKS': completing patching transition
$MOD_CALLBACKS: post_patch_callback: vmlinux
livepatch: '$MOD_CALLBACKS': patching complete
% insmod test_modules/$MOD_TARGET.ko
livepatch: applying patch '$MOD_CALLBACKS' to loading module '$MOD_TARGET'
$MOD_CALLBACKS: pre_patch_callback: $MOD_TARGET -> [MODULE_STATE_COMING] Full formed, running module_init
$MOD_CALLBACKS: post_patch_callback: $MOD_TARGET -> [MODULE_STATE_COMING] Full formed, running module_init
$MOD_TARGET: ${MOD_TARGET}_init
% echo 0 > /sys/kernel/livepatch/$MOD_CALLBACKS/enabled
livepatch: '$MOD_CALLBACKS': initializing unpatching transition
$MOD_CALLBACKS: pre_unpatch_callback: vmlinux
$MOD_CALLBACKS: pre_unpatch_callback: $MOD_TARGET -> [MODULE_STATE_LIVE] Normal state
livepatch: '$MOD_CALLBACKS': starting unpatching transition
livepatch: '$MOD_CALLBACKS': completing unpatching transition
$MOD_CALLBACKS: post_unpatch_callback: vmlinux
$MOD_CALLBACKS: post_unpatch_callback: $MOD_TARGET -> [MODULE_STATE_LIVE] Normal state
livepatch: '$MOD_CALLBACKS': unpatching complete
% rmmod $MOD_CALLBACKS
% rmmod $MOD_TARGET
$MOD_TARGET: ${MOD_TARGET}_exit"


# The typed shadow variable API: attach, find, share an id, free one, free
# all (test-shadow-vars.sh does the same with the C API).

start_test "rust: shadow variables"

load_mod $MOD_SHADOW
unload_mod $MOD_SHADOW

check_result "% insmod test_modules/$MOD_SHADOW.ko
$MOD_SHADOW: alloc(obj1, counter=10): Some(10)
$MOD_SHADOW: get_or_alloc(obj1, 99) keeps the first: Some(10)
$MOD_SHADOW: get_or_alloc(obj2, 30) makes one: Some(30)
$MOD_SHADOW: value(obj1) = Some(20), value(obj2) = None
$MOD_SHADOW: counter(obj1) + 5 = Some(15)
$MOD_SHADOW: free(obj1): counter None, value Some(20)
$MOD_SHADOW: free_all(counter): obj2 None, value(obj1) Some(20)
$MOD_SHADOW: free_all(value): value(obj1) None
% rmmod $MOD_SHADOW"


# The Rust sample samples/livepatch/rust_livepatch_shadow_fix1.rs fixes the
# memory leak of the C sample livepatch-shadow-mod.c with a shadow variable.
# Loaded first, the patch is applied when the module comes, so the fixed
# dummy_alloc() makes every dummy and its leak; when the module is removed,
# it frees its dummies with the fixed dummy_free(), which drops each leak
# once (the sample logs every drop): nothing leaks.

start_test "rust: shadow variable fix sample"

# since_start PATTERN: how many kernel messages since start_test match.
function since_start() {
	dmesg | awk -v last_dmesg="$LAST_DMESG" 'p; $0 == last_dmesg { p=1 }' | grep -c "$1"
}

load_lp $MOD_SHADOW_FIX
load_mod $MOD_SHADOW_TARGET
loop_until '[[ $(since_start "$MOD_SHADOW_FIX: livepatch_fix1_dummy_alloc:") -ge 2 ]]' ||
	die "the fixed dummy_alloc() did not run twice"
unload_mod $MOD_SHADOW_TARGET
disable_lp $MOD_SHADOW_FIX
unload_lp $MOD_SHADOW_FIX

allocs=$(since_start "$MOD_SHADOW_FIX: livepatch_fix1_dummy_alloc: dummy expires")
drops=$(since_start "$MOD_SHADOW_FIX: livepatch_fix1_dummy_leak_dtor: prevented leak")
frees=$(since_start "$MOD_SHADOW_FIX: livepatch_fix1_dummy_free: dummy expired")
unfixed=$(since_start "$MOD_SHADOW_TARGET: dummy_\\(alloc\\|free\\)\\|dummy leaked")
[[ $allocs -eq $frees && $allocs -eq $drops && $unfixed -eq 0 ]] ||
	die "$allocs dummies allocated, $frees freed, $drops leaks dropped, $unfixed unpatched calls or leaks"

check_result "livepatch: enabling patch '$MOD_SHADOW_FIX'
livepatch: '$MOD_SHADOW_FIX': initializing patching transition
livepatch: '$MOD_SHADOW_FIX': starting patching transition
livepatch: '$MOD_SHADOW_FIX': completing patching transition
livepatch: '$MOD_SHADOW_FIX': patching complete
livepatch: applying patch '$MOD_SHADOW_FIX' to loading module '$MOD_SHADOW_TARGET'
livepatch: reverting patch '$MOD_SHADOW_FIX' on unloading module '$MOD_SHADOW_TARGET'
livepatch: '$MOD_SHADOW_FIX': initializing unpatching transition
livepatch: '$MOD_SHADOW_FIX': starting unpatching transition
livepatch: '$MOD_SHADOW_FIX': completing unpatching transition
livepatch: '$MOD_SHADOW_FIX': unpatching complete"


# A cumulative Rust patch takes a system state over from another at a
# higher version (test-state.sh: "taking over system state modification").

start_test "rust: taking over a system state"

load_lp $MOD_STATE
load_lp $MOD_STATE2
unload_lp $MOD_STATE
disable_lp $MOD_STATE2
unload_lp $MOD_STATE2

check_result "% insmod test_modules/$MOD_STATE.ko
livepatch: enabling patch '$MOD_STATE'
livepatch: '$MOD_STATE': initializing patching transition
$MOD_STATE: pre_patch_callback: setting up state version 1
livepatch: '$MOD_STATE': starting patching transition
livepatch: '$MOD_STATE': completing patching transition
livepatch: '$MOD_STATE': patching complete
% insmod test_modules/$MOD_STATE2.ko
livepatch: enabling patch '$MOD_STATE2'
livepatch: '$MOD_STATE2': initializing patching transition
$MOD_STATE2: pre_patch_callback: taking over state version 1
livepatch: '$MOD_STATE2': starting patching transition
livepatch: '$MOD_STATE2': completing patching transition
livepatch: '$MOD_STATE2': patching complete
% rmmod $MOD_STATE
% echo 0 > /sys/kernel/livepatch/$MOD_STATE2/enabled
livepatch: '$MOD_STATE2': initializing unpatching transition
livepatch: '$MOD_STATE2': starting unpatching transition
livepatch: '$MOD_STATE2': completing unpatching transition
$MOD_STATE2: post_unpatch_callback: state version 2 released
livepatch: '$MOD_STATE2': unpatching complete
% rmmod $MOD_STATE2"


# A cumulative Rust patch with a lower version of a state in use is refused
# (test-state.sh: "incompatible cumulative livepatches").

start_test "rust: incompatible system state refused"

load_lp $MOD_STATE2
load_failing_mod $MOD_STATE
disable_lp $MOD_STATE2
unload_lp $MOD_STATE2

check_result "% insmod test_modules/$MOD_STATE2.ko
livepatch: enabling patch '$MOD_STATE2'
livepatch: '$MOD_STATE2': initializing patching transition
$MOD_STATE2: pre_patch_callback: setting up state version 2
livepatch: '$MOD_STATE2': starting patching transition
livepatch: '$MOD_STATE2': completing patching transition
livepatch: '$MOD_STATE2': patching complete
% insmod test_modules/$MOD_STATE.ko
livepatch: Livepatch patch ($MOD_STATE) is not compatible with the already installed livepatches.
insmod: ERROR: could not insert module test_modules/$MOD_STATE.ko: Invalid parameters
% echo 0 > /sys/kernel/livepatch/$MOD_STATE2/enabled
livepatch: '$MOD_STATE2': initializing unpatching transition
livepatch: '$MOD_STATE2': starting unpatching transition
livepatch: '$MOD_STATE2': completing unpatching transition
$MOD_STATE2: post_unpatch_callback: state version 2 released
livepatch: '$MOD_STATE2': unpatching complete
% rmmod $MOD_STATE2"


# What only the kernel can check: a Rust patch of a function that does not
# exist is refused at load, with the core's error and log line, and leaves
# nothing behind.

start_test "rust: missing symbol refused at load"

load_failing_mod $MOD_MISSING
if [[ -e /sys/kernel/livepatch/$MOD_MISSING ]]; then
	die "$MOD_MISSING left /sys/kernel/livepatch/$MOD_MISSING behind"
fi

check_result "% insmod test_modules/$MOD_MISSING.ko
livepatch: symbol 'test_klp_rust_no_such_function' not found in symbol table
insmod: ERROR: could not insert module test_modules/$MOD_MISSING.ko: Invalid parameters"

exit 0
