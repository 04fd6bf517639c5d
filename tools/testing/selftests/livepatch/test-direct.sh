#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Direct calls (CONFIG_LIVEPATCH_DIRECT of the Rust core): once a transition
# is complete, a patched function's ftrace location calls klp_direct_tramp,
# which jumps to the new function, and every transition gives the function
# back to the handler first.  ftrace's enabled_functions shows which: a
# direct function has the line "direct-->klp_direct_tramp" under its own.
# The log is the core's usual one; a kernel without the trampoline (the C
# core) skips the script.  test_klp_stress_1 patches cmdline_proc_show() and
# getpid; test_klp_callbacks_demo patches busymod_work_func() of
# test_klp_callbacks_busy, which with block_transition=Y stays on the stack
# of its worker, so that the patching transition cannot complete.

. $(dirname $0)/functions.sh
. $(dirname $0)/expect.sh

MOD_LIVEPATCH=test_klp_livepatch
MOD_TWO=test_klp_stress_1
MOD_CALLBACKS=test_klp_callbacks_demo
MOD_BUSY=test_klp_callbacks_busy
case $(uname -m) in
x86_64) GETPID=__x64_sys_getpid ;;
*) GETPID=sys_getpid ;;
esac

grep -q ' klp_direct_tramp$' /proc/kallsyms || skip "no direct calls in this kernel (klp_direct_tramp)"

TRACING=/sys/kernel/tracing
[[ -e $TRACING/enabled_functions ]] || mount -t tracefs nodev $TRACING ||
	skip "tracefs is not mounted at $TRACING"

setup_config

CMDLINE=$(cat /proc/cmdline)

# redirect_of FUNC: "direct" if FUNC's ftrace location calls the trampoline,
# "traced" if ftrace calls something else for it, "none" if nothing.
# enabled_functions names a function by any of its aliases (__x64_sys_getpid
# is __ia32_sys_getpid too): every name at FUNC's address matches.
function redirect_of() {
	local names
	names=$(awk -v f="$1" '$3 == f { a = $1 } END { print a }' /proc/kallsyms |
		xargs -I{} awk -v a={} '$1 == a && $3 !~ /^__pfx_/ { printf "%s ", $3 }' /proc/kallsyms)
	awk -v names=" $names" '
		found { print (index($0, "direct-->klp_direct_tramp") ? "direct" : "traced"); done = 1; exit }
		index(names, " " $1 " ") { found = 1 }
		END { if (!done) print (found ? "traced" : "none") }' $TRACING/enabled_functions
}

# redirect_is FUNC WHAT: redirect_of FUNC prints WHAT.
function redirect_is() {
	local got
	got=$(redirect_of "$1")
	[[ "$got" == "$2" ]] || die "$1 is $got, not $2 (enabled_functions: $(cat $TRACING/enabled_functions))"
}


# - load a patch: once its transition is complete, cmdline_proc_show is
#   patched and its ftrace location calls the trampoline
# - disable it: ftrace calls nothing for the function, which is the
#   kernel's again
start_test "direct redirector: patch a traceable function"

redirect_is cmdline_proc_show none
load_lp $MOD_LIVEPATCH
cmdline_is "$MOD_LIVEPATCH: this has been live patched"
redirect_is cmdline_proc_show direct
disable_lp $MOD_LIVEPATCH
redirect_is cmdline_proc_show none
cmdline_is "$CMDLINE"
unload_lp $MOD_LIVEPATCH

check_result "$(enabled $MOD_LIVEPATCH)
$(disabled $MOD_LIVEPATCH)"


# - stack a patch of cmdline_proc_show and getpid on a patch of
#   cmdline_proc_show: the newest shows, both functions are direct
# - disable the newest: the older shows again, still through the trampoline,
#   and getpid is the kernel's
# - disable the older: /proc/cmdline is the kernel's
start_test "direct redirector: stacked patches, newest wins, disable restores"

load_lp $MOD_LIVEPATCH
load_lp $MOD_TWO
cmdline_is "$MOD_TWO"
redirect_is cmdline_proc_show direct
redirect_is $GETPID direct
disable_lp $MOD_TWO
cmdline_is "$MOD_LIVEPATCH: this has been live patched"
redirect_is cmdline_proc_show direct
redirect_is $GETPID none
unload_lp $MOD_TWO
disable_lp $MOD_LIVEPATCH
cmdline_is "$CMDLINE"
redirect_is cmdline_proc_show none
unload_lp $MOD_LIVEPATCH

check_result "$(enabled $MOD_LIVEPATCH)
$(enabled $MOD_TWO)
$(disabled $MOD_TWO)
$(disabled $MOD_LIVEPATCH)"


# - with cmdline_proc_show direct, start a transition of another patch that
#   cannot complete (busymod_work_func stays on its worker's stack): while it
#   runs, cmdline_proc_show is back on the handler, and so is the function of
#   the transition
# - reverse it: once the unpatching is complete, cmdline_proc_show is direct
#   again and busymod_work_func is the module's own
start_test "direct redirector: a transition runs every patched function on the handler"

load_lp $MOD_LIVEPATCH
redirect_is cmdline_proc_show direct
load_mod $MOD_BUSY block_transition=Y
load_lp_nowait $MOD_CALLBACKS
loop_until 'grep -q '^1$' /sys/kernel/livepatch/$MOD_CALLBACKS/transition' ||
	die "failed to stall transition"
redirect_is cmdline_proc_show traced
redirect_is busymod_work_func traced
disable_lp $MOD_CALLBACKS
redirect_is cmdline_proc_show direct
redirect_is busymod_work_func none
cmdline_is "$MOD_LIVEPATCH: this has been live patched"
unload_lp $MOD_CALLBACKS
unload_mod $MOD_BUSY
disable_lp $MOD_LIVEPATCH
unload_lp $MOD_LIVEPATCH

check_result "$(enabled $MOD_LIVEPATCH)
% insmod test_modules/$MOD_BUSY.ko block_transition=Y
$MOD_BUSY: ${MOD_BUSY}_init
$MOD_BUSY: busymod_work_func enter
% insmod test_modules/$MOD_CALLBACKS.ko
livepatch: enabling patch '$MOD_CALLBACKS'
livepatch: '$MOD_CALLBACKS': initializing patching transition
$MOD_CALLBACKS: pre_patch_callback: vmlinux
$MOD_CALLBACKS: pre_patch_callback: $MOD_BUSY -> [MODULE_STATE_LIVE] Normal state
livepatch: '$MOD_CALLBACKS': starting patching transition
% echo 0 > /sys/kernel/livepatch/$MOD_CALLBACKS/enabled
livepatch: '$MOD_CALLBACKS': reversing transition from patching to unpatching
livepatch: '$MOD_CALLBACKS': starting unpatching transition
livepatch: '$MOD_CALLBACKS': completing unpatching transition
$MOD_CALLBACKS: post_unpatch_callback: vmlinux
$MOD_CALLBACKS: post_unpatch_callback: $MOD_BUSY -> [MODULE_STATE_LIVE] Normal state
livepatch: '$MOD_CALLBACKS': unpatching complete
% rmmod $MOD_CALLBACKS
% rmmod $MOD_BUSY
$MOD_BUSY: busymod_work_func exit
$MOD_BUSY: ${MOD_BUSY}_exit
$(disabled $MOD_LIVEPATCH)"

exit 0
