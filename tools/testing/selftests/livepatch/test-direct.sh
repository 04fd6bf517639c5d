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
#
# The jump redirector (klp_enable_patch_jump()) patches functions that have no
# ftrace location: the Rust functions of test_klp_jump_target and of the core
# itself, and a notrace C function of test_klp_jump_ctarget (test_modules/jump).

. $(dirname $0)/functions.sh
. $(dirname $0)/expect.sh

MOD_LIVEPATCH=test_klp_livepatch
MOD_TWO=test_klp_stress_1
MOD_CALLBACKS=test_klp_callbacks_demo
MOD_BUSY=test_klp_callbacks_busy
MOD_RTARGET=test_klp_jump_target
MOD_CTARGET=test_klp_jump_ctarget
MOD_JUMP_RUST=test_klp_jump_rust_mod
MOD_JUMP_RUST2=test_klp_jump_rust_mod2
MOD_REPLACE=test_klp_atomic_replace
MOD_JUMP_CORE=test_klp_jump_rust_core
MOD_JUMP_C=test_klp_jump_c
MOD_NOJUMP_C=test_klp_jump_c_nojump
MOD_KPROBE=test_klp_kprobe_holder
MOD_DIRECT_USER=test_klp_direct_user
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

# names_of FUNC: every name at FUNC's address in kallsyms (__x64_sys_getpid
# is __ia32_sys_getpid too), as remember_names kept them or read now.
declare -A NAMES
function names_of() {
	[[ -n "${NAMES[$1]:-}" ]] && { echo "${NAMES[$1]}"; return; }
	awk -v f="$1" '$3 !~ /^__pfx_/ { n[$1] = n[$1] $3 " " } $3 == f { a = $1 }
		END { print n[a] }' /proc/kallsyms
}

# remember_names FUNC...: read the names of each FUNC now, so that checks
# made while a transition waits are quick (a read of kallsyms takes seconds
# on a debug kernel under TCG, and the core signals the tasks after 15).
function remember_names() {
	local f
	for f in "$@"; do
		NAMES[$f]=$(names_of "$f")
	done
}

# redirect_of FUNC: "direct" if FUNC's ftrace location calls the trampoline,
# "other" if it calls another direct user's, "traced" if ftrace calls
# something else for it, "none" if nothing.
# enabled_functions names a function by any of its aliases: every name at
# FUNC's address matches.
function redirect_of() {
	local names
	names=$(names_of "$1")
	awk -v names=" $names" '
		found {
			print (index($0, "direct-->klp_direct_tramp") ? "direct" : index($0, "direct-->") ? "other" : "traced")
			done = 1; exit
		}
		index(names, " " $1 " ") { found = 1 }
		END { if (!done) print (found ? "traced" : "none") }' $TRACING/enabled_functions
}

# file_is FILE TEXT: FILE reads TEXT.
function file_is() {
	[[ "$(cat "$1")" == "$2" ]] || die "$1 reads '$(cat "$1")', not '$2'"
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
remember_names cmdline_proc_show busymod_work_func
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


# read_counted TEXT: /proc/cmdline reads TEXT, and the direct user's trampoline
# counted that call (insmod reads /proc/cmdline too, so only the difference
# says something).
function read_counted() {
	local calls=/sys/module/$MOD_DIRECT_USER/parameters/calls before
	before=$(cat $calls)
	cmdline_is "$1"
	file_is $calls $((before + 1))
}

# - with another direct ftrace user on cmdline_proc_show (test_klp_direct_user,
#   whose trampoline counts the calls, as a BPF trampoline shares a function
#   with an IPMODIFY ops), load a patch of it: the patch applies, the function
#   stays on the handler, and the log says so once
# - each read of /proc/cmdline goes through both: the user counts it and the
#   new function answers
# - a second transition (stacking a patch of getpid) leaves it on the handler
#   without a second log line; getpid, which nobody else has, goes direct
# - disable both: the function is the kernel's again, still counted
start_test "direct redirector: BPF or another direct user on the function falls back to the handler"

load_mod $MOD_DIRECT_USER
redirect_is cmdline_proc_show other
read_counted "$CMDLINE"
load_lp $MOD_LIVEPATCH
redirect_is cmdline_proc_show other
read_counted "$MOD_LIVEPATCH: this has been live patched"
load_lp $MOD_TWO
redirect_is cmdline_proc_show other
redirect_is $GETPID direct
read_counted "$MOD_TWO"
disable_lp $MOD_TWO
unload_lp $MOD_TWO
disable_lp $MOD_LIVEPATCH
unload_lp $MOD_LIVEPATCH
read_counted "$CMDLINE"
unload_mod $MOD_DIRECT_USER
redirect_is cmdline_proc_show none

check_result "% insmod test_modules/$MOD_DIRECT_USER.ko
$(enabled $MOD_LIVEPATCH)
livepatch: function 'cmdline_proc_show' has another direct ftrace user: it stays on the handler
$(enabled $MOD_TWO)
$(disabled $MOD_TWO)
$(disabled $MOD_LIVEPATCH)
% rmmod $MOD_DIRECT_USER"


# refused MOD ERR LINE: the log of load_failing_mod MOD, a patch of
# test_klp_jump_ctarget that klp_patch_object() refuses with LINE, and the
# insmod error ERR.
function refused() {
	printf '%s\n' "% insmod test_modules/$1.ko" \
		"livepatch: enabling patch '$1'" \
		"livepatch: '$1': initializing patching transition" \
		"$3" \
		"livepatch: failed to patch object '$MOD_CTARGET'" \
		"livepatch: failed to enable patch '$1'" \
		"livepatch: '$1': canceling patching transition, going to unpatch" \
		"livepatch: '$1': completing unpatching transition" \
		"livepatch: '$1': unpatching complete" \
		"insmod: ERROR: could not insert module test_modules/$1.ko: $2"
}

# not_traceable REGEX: ftrace has no location in a function whose symbol
# matches REGEX (a Rust function's by the end of its mangled name).
function not_traceable() {
	! awk '{ print $1 }' $TRACING/available_filter_functions | grep -qE "$1" ||
		die "a function matching $1 has an ftrace location"
}


# - a Rust patch of a Rust function of vmlinux, the core's own
#   klp::sysfs::stack_order_show(), which has no ftrace location: enabled with
#   jumps, every patch's stack_order reads 42
# - disable it: another patch's stack_order reads its position again
start_test "direct redirector: patch a Rust function"

not_traceable '5sysfs16stack_order_show$'
load_lp $MOD_JUMP_CORE
file_is /sys/kernel/livepatch/$MOD_JUMP_CORE/stack_order 42
disable_lp $MOD_JUMP_CORE
unload_lp $MOD_JUMP_CORE
load_lp $MOD_LIVEPATCH
file_is /sys/kernel/livepatch/$MOD_LIVEPATCH/stack_order 1
disable_lp $MOD_LIVEPATCH
unload_lp $MOD_LIVEPATCH

check_result "$(enabled $MOD_JUMP_CORE)
$(disabled $MOD_JUMP_CORE)
$(enabled $MOD_LIVEPATCH)
$(disabled $MOD_LIVEPATCH)"


# - a Rust patch (Rust ABI, the function named by its path) of the Rust
#   function target_show() of the Rust module test_klp_jump_target: loaded
#   after the module, /proc/test_klp_jump_target shows the patch, and the
#   module's own text again once the patch is disabled
# - loaded before the module: the module is patched as it loads, and may go
#   and come back while the patch stays enabled
start_test "direct redirector: patch a function of a Rust module"

load_mod $MOD_RTARGET
not_traceable '20test_klp_jump_target11target_show$'
file_is /proc/$MOD_RTARGET "$MOD_RTARGET: original"
load_lp $MOD_JUMP_RUST
file_is /proc/$MOD_RTARGET "$MOD_JUMP_RUST: this has been live patched"
disable_lp $MOD_JUMP_RUST
file_is /proc/$MOD_RTARGET "$MOD_RTARGET: original"
unload_lp $MOD_JUMP_RUST
unload_mod $MOD_RTARGET
load_lp $MOD_JUMP_RUST
load_mod $MOD_RTARGET
file_is /proc/$MOD_RTARGET "$MOD_JUMP_RUST: this has been live patched"
unload_mod $MOD_RTARGET
load_mod $MOD_RTARGET
file_is /proc/$MOD_RTARGET "$MOD_JUMP_RUST: this has been live patched"
disable_lp $MOD_JUMP_RUST
file_is /proc/$MOD_RTARGET "$MOD_RTARGET: original"
unload_lp $MOD_JUMP_RUST
unload_mod $MOD_RTARGET

check_result "% insmod test_modules/$MOD_RTARGET.ko
$(enabled $MOD_JUMP_RUST)
$(disabled $MOD_JUMP_RUST)
% rmmod $MOD_RTARGET
$(enabled $MOD_JUMP_RUST)
% insmod test_modules/$MOD_RTARGET.ko
livepatch: applying patch '$MOD_JUMP_RUST' to loading module '$MOD_RTARGET'
% rmmod $MOD_RTARGET
livepatch: reverting patch '$MOD_JUMP_RUST' on unloading module '$MOD_RTARGET'
% insmod test_modules/$MOD_RTARGET.ko
livepatch: applying patch '$MOD_JUMP_RUST' to loading module '$MOD_RTARGET'
$(disabled $MOD_JUMP_RUST)
% rmmod $MOD_RTARGET"


# - a task reads /proc/test_klp_jump_target_slow, which sleeps 2 s in
#   target_show(): the patch cannot switch while the function is on its stack,
#   says so once and retries; the task finishes with the module's text, and
#   once it is out, the patch switches
start_test "direct redirector: a function on a task's stack delays the patch"

load_mod $MOD_RTARGET
SLOW=$(mktemp)
cat /proc/${MOD_RTARGET}_slow > "$SLOW" &
pid=$!
loop_until "grep -q target_show /proc/$pid/stack" || die "no task sleeps in target_show"
load_lp $MOD_JUMP_RUST
wait $pid
file_is "$SLOW" "$MOD_RTARGET: original"
rm -f "$SLOW"
file_is /proc/$MOD_RTARGET "$MOD_JUMP_RUST: this has been live patched"
disable_lp $MOD_JUMP_RUST
unload_lp $MOD_JUMP_RUST
unload_mod $MOD_RTARGET

check_result "% insmod test_modules/$MOD_RTARGET.ko
% insmod test_modules/$MOD_JUMP_RUST.ko
livepatch: enabling patch '$MOD_JUMP_RUST'
livepatch: '$MOD_JUMP_RUST': initializing patching transition
livepatch: function '$MOD_RTARGET::target_show' is on the stack of task $pid: retrying
livepatch: '$MOD_JUMP_RUST': starting patching transition
livepatch: '$MOD_JUMP_RUST': completing patching transition
livepatch: '$MOD_JUMP_RUST': patching complete
$(disabled $MOD_JUMP_RUST)
% rmmod $MOD_RTARGET"


# - without jumps (klp_enable_patch()), a patch of the notrace C function
#   ctarget_show() is refused as on the C core
# - with jumps, but with a kprobe in the function's first bytes: refused,
#   naming the function
# - once the kprobe is gone, the same C patch of the C function applies
start_test "direct redirector: refuses a function it cannot patch"

load_mod $MOD_CTARGET
not_traceable '^ctarget_show$'
load_failing_mod $MOD_NOJUMP_C
load_mod $MOD_KPROBE symbol=ctarget_show
load_failing_mod $MOD_JUMP_C
file_is /proc/$MOD_CTARGET "$MOD_CTARGET: original"
unload_mod $MOD_KPROBE
load_lp $MOD_JUMP_C
file_is /proc/$MOD_CTARGET "$MOD_JUMP_C: this has been live patched"
disable_lp $MOD_JUMP_C
file_is /proc/$MOD_CTARGET "$MOD_CTARGET: original"
unload_lp $MOD_JUMP_C
unload_mod $MOD_CTARGET

check_result "% insmod test_modules/$MOD_CTARGET.ko
$(refused $MOD_NOJUMP_C "Invalid parameters" \
	"livepatch: failed to find location for function 'ctarget_show'")
% insmod test_modules/$MOD_KPROBE.ko symbol=ctarget_show
$(refused $MOD_JUMP_C "Device or resource busy" \
	"livepatch: cannot patch function 'ctarget_show' with a jump: a kprobe is in its first bytes (-16)")
% rmmod $MOD_KPROBE
$(enabled $MOD_JUMP_C)
$(disabled $MOD_JUMP_C)
% rmmod $MOD_CTARGET"


# - stack two jump patches of target_show(): the newest shows; disable it:
#   the older shows again
# - an atomic-replace patch that does not patch target_show (it patches
#   meminfo_proc_show through ftrace) replaces the older: its nop puts the
#   function's own code back, at the start of its transition
# - disable it: nothing is patched
start_test "direct redirector: stacked jump patches, newest wins, atomic replace restores"

load_mod $MOD_RTARGET
load_lp $MOD_JUMP_RUST
load_lp $MOD_JUMP_RUST2
file_is /proc/$MOD_RTARGET "$MOD_JUMP_RUST2: this has been live patched"
disable_lp $MOD_JUMP_RUST2
file_is /proc/$MOD_RTARGET "$MOD_JUMP_RUST: this has been live patched"
unload_lp $MOD_JUMP_RUST2
load_lp $MOD_REPLACE replace=1
file_is /proc/$MOD_RTARGET "$MOD_RTARGET: original"
grep -q "^$MOD_REPLACE: this has been live patched$" /proc/meminfo ||
	die "$MOD_REPLACE does not patch /proc/meminfo"
loop_until '[[ ! -e /sys/kernel/livepatch/$MOD_JUMP_RUST ]]' ||
	die "$MOD_JUMP_RUST was not replaced"
unload_lp $MOD_JUMP_RUST
disable_lp $MOD_REPLACE
! grep -q "live patched" /proc/meminfo || die "/proc/meminfo is still patched"
file_is /proc/$MOD_RTARGET "$MOD_RTARGET: original"
unload_lp $MOD_REPLACE
unload_mod $MOD_RTARGET

check_result "% insmod test_modules/$MOD_RTARGET.ko
$(enabled $MOD_JUMP_RUST)
$(enabled $MOD_JUMP_RUST2)
$(disabled $MOD_JUMP_RUST2)
$(enabled $MOD_REPLACE replace=1)
% rmmod $MOD_JUMP_RUST
$(disabled $MOD_REPLACE)
% rmmod $MOD_RTARGET"

exit 0
