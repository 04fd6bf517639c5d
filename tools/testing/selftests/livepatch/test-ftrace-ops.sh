#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The ftrace_ops of patched functions.  The Rust core registers the functions
# that an object patches for the first time with one ftrace_ops (the C core,
# one each), falls back to one each when that fails, and gives a function back
# to ftrace when its last patch goes while other functions of its ftrace_ops
# stay patched.  What a user sees must be what the C core shows: the same log
# lines, the same function named when registration fails; the cases pass on
# both cores.  test_klp_stress_1 patches cmdline_proc_show() and getpid, in
# that order.

. $(dirname $0)/functions.sh
. $(dirname $0)/expect.sh

MOD_TWO=test_klp_stress_1
MOD_LIVEPATCH=test_klp_livepatch
MOD_HOLDER=test_klp_kprobe_holder
# The getpid that test_klp_stress.h patches (its FN_PREFIX).
case $(uname -m) in
x86_64) GETPID=__x64_sys_getpid ;;
s390x) GETPID=__s390x_sys_getpid ;;
aarch64) GETPID=__arm64_sys_getpid ;;
*) GETPID=sys_getpid ;;
esac

setup_config

CMDLINE=$(cat /proc/cmdline)

# refused MOD FUNC: the log of load_failing_mod MOD when FUNC cannot be traced.
function refused() {
	printf '%s\n' "% insmod test_modules/$1.ko" \
		"livepatch: enabling patch '$1'" \
		"livepatch: '$1': initializing patching transition" \
		"livepatch: failed to register ftrace handler for function '$2' (-16)" \
		"livepatch: failed to patch object 'vmlinux'" \
		"livepatch: failed to enable patch '$1'" \
		"livepatch: '$1': canceling patching transition, going to unpatch" \
		"livepatch: '$1': completing unpatching transition" \
		"livepatch: '$1': unpatching complete" \
		"insmod: ERROR: could not insert module test_modules/$1.ko: Device or resource busy"
}


# - with ftrace_enabled off, no ftrace_ops registers: a patch of two functions
#   is refused, and the log names its first function, as the C core's does
start_test "ftrace ops: a patch of two functions while ftrace is off names its first"

set_ftrace_enabled 0
load_failing_mod $MOD_TWO
set_ftrace_enabled 1
cmdline_is "$CMDLINE"

check_result "livepatch: kernel.ftrace_enabled = 0
$(refused $MOD_TWO cmdline_proc_show)
livepatch: kernel.ftrace_enabled = 1"


# - a kprobe with a post handler holds getpid (an IPMODIFY ftrace_ops): a
#   patch of cmdline_proc_show and getpid is refused, naming getpid, and
#   cmdline_proc_show, registered before, is given back
# - once the kprobe is gone, the same patch loads and patches both
start_test "ftrace ops: a patch of two functions, one of them held by a kprobe"

load_mod $MOD_HOLDER symbol=$GETPID
load_failing_mod $MOD_TWO
cmdline_is "$CMDLINE"
unload_mod $MOD_HOLDER
load_lp $MOD_TWO
cmdline_is "$MOD_TWO"
disable_lp $MOD_TWO
unload_lp $MOD_TWO
cmdline_is "$CMDLINE"

check_result "% insmod test_modules/$MOD_HOLDER.ko symbol=$GETPID
$(refused $MOD_TWO $GETPID)
% rmmod $MOD_HOLDER
$(enabled $MOD_TWO)
$(disabled $MOD_TWO)"


# - load the patch of two functions, then test_klp_livepatch, which patches
#   cmdline_proc_show only
# - disable the first: its getpid goes, its cmdline_proc_show goes from below
#   test_klp_livepatch's, which still shows
# - load the first again: it patches getpid anew, which works only if
#   disabling it gave getpid back to ftrace while cmdline_proc_show stayed
#   patched
# - disable both: /proc/cmdline is the kernel's again
start_test "ftrace ops: a patch disabled below a newer patch of one of its functions"

load_lp $MOD_TWO
load_lp $MOD_LIVEPATCH
disable_lp $MOD_TWO
cmdline_is "$MOD_LIVEPATCH: this has been live patched"
unload_lp $MOD_TWO
load_lp $MOD_TWO
cmdline_is "$MOD_TWO"
disable_lp $MOD_TWO
unload_lp $MOD_TWO
disable_lp $MOD_LIVEPATCH
unload_lp $MOD_LIVEPATCH
cmdline_is "$CMDLINE"

check_result "$(enabled $MOD_TWO)
$(enabled $MOD_LIVEPATCH)
$(disabled $MOD_TWO)
$(enabled $MOD_TWO)
$(disabled $MOD_TWO)
$(disabled $MOD_LIVEPATCH)"

exit 0
