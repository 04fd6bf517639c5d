#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Patch modules that `klp build` generated from the diffs of
# klp-build/modules/ (scripts/test.sh builds them against this kernel into
# test_modules/test_klp_build_<name>.ko, named test_klp_* so that
# check_result keeps their log lines): each is loaded, its effect checked
# from userspace, then it is disabled (the effect is gone) and unloaded.
#
# - exported: cmdline_proc_show() calls only exported functions
# - bug-table: cmdline_proc_show() warns (WARN_ON) on a read with O_NONBLOCK:
#   the report names the file and line from the bug table entry that the
#   module has for its copy, and the read goes on (without the entry the ud2
#   would be an invalid opcode); the report is the only one the case allows
# - new-function: cmdline_proc_show() calls a function that the diff adds,
#   and reads saved_command_line, which vmlinux does not export (a klp
#   relocation)
# - static-call: getpgid(-4343) calls do_sysinfo(), a static function of
#   kernel/sys.c (a klp relocation to a local symbol)
# - syscall: getpgid(-4242) returns 4242 (the __x64_sys_getpgid and
#   __ia32_sys_getpgid wrappers are replaced)
# - sympos: /proc/consoles' c_start() prints a first line; vmlinux has two
#   c_start (the other is /proc/cpuinfo's), so the patch names it by its
#   old_sympos
# - shadow: two files patched, whose functions share a shadow variable:
#   cmdline_proc_show() counts its calls in it, version_proc_show() prints
#   the count and frees it
# - callbacks: the diff defines klp_build_pre_patch() and the three others,
#   which klp build gives to the patch's klp_object; each logs when it runs
# - inline: get_task_state(), a static inline function of fs/proc/array.c,
#   reports a running task as 'r': both of its callers are patched
#   (/proc/PID/status and /proc/PID/stat)
# - static-local: drop_caches_sysctl_handler() prints another line, and
#   keeps using the kernel's static local 'stfu' (correlated, not copied):
#   silenced through the patch, the kernel's function stays silent
# - replace: made with --replace (replace.flags): loaded over the exported
#   patch, it patches /proc/loadavg and reverts what exported patched
# - static-const: bm_fill_super() of binfmt_misc makes 'status' 0600: its
#   static local table bm_files changed, so the patch has its own copy
# - module-target: bm_status_read() of binfmt_misc, a module of the kernel
#   (CONFIG_BINFMT_MISC=m), prints the module's bm_fs_type.name, a local
#   symbol of the module (a klp relocation that the core applies when the
#   module loads); the patch is loaded before the module, then after it

. $(dirname $0)/functions.sh
. $(dirname $0)/expect.sh

command -v python3 >/dev/null || skip "python3 is needed to call getpgid()"

setup_config

CMDLINE=$(cat /proc/cmdline)

# need_module NAME: the generated module is installed (a missing one fails).
function need_module() {
	[[ -e test_modules/$1.ko ]] ||
		die "test_modules/$1.ko is missing: klp build did not generate it (see scripts/test.sh)"
}

# patch_case MOD ON OFF: with the check OFF true, load the generated module
# MOD and run the check ON; disable and unload it and run OFF again.  The log
# is the core's usual one.
function patch_case() {
	local mod=$1 on=$2 off=$3
	need_module $mod
	eval "$off"
	load_lp $mod
	eval "$on"
	disable_lp $mod
	eval "$off"
	unload_lp $mod
	check_result "$(enabled $mod)
$(disabled $mod)"
}

# getpgid_is PID WANT: getpgid(PID) returns WANT, or fails if WANT is "error".
function getpgid_is() {
	local got
	got=$(python3 -c 'import os, sys
try:
	print(os.getpgid(int(sys.argv[1])))
except OSError:
	print("error")' "$1")
	[[ "$got" == "$2" ]] || die "getpgid($1) returns $got, not $2"
}


start_test "klp build: exported"
patch_case test_klp_build_exported 'cmdline_is "klp build: exported"' 'cmdline_is "$CMDLINE"'


start_test "klp build: bug-table"

# case_dmesg: the kernel log since the case started, as check_result reads it.
function case_dmesg() {
	dmesg | awk -v last="$LAST_DMESG" 'p; $0 == last { p = 1 }'
}
# warning_lines: the lines of the case's warning report that name a test
# module (check_result keeps them: the WARNING, RIP, modules, call trace).
function warning_lines() {
	case_dmesg | awk '/cut here/ { w = 1 } w; /end trace/ { w = 0 }' |
		grep test_klp | sed 's/^\[[ 0-9.]*\] //'
}
MOD=test_klp_build_bug_table
need_module $MOD
load_lp $MOD
cmdline_is "klp build: bug-table"
got=$(python3 -c 'import os
fd = os.open("/proc/cmdline", os.O_RDONLY | os.O_NONBLOCK)
print(os.read(fd, 4096).decode(), end="")')
[[ "$got" == "klp build: bug-table" ]] || die "a read with O_NONBLOCK returns '$got'"
at="at fs/proc/cmdline.c:11 __klp_new_cmdline_proc_show+0x[0-9a-f]*/0x[0-9a-f]* \[$MOD\]$"
[[ $(case_dmesg | grep -c "WARNING: CPU: [0-9]* PID: [0-9]* $at") == 1 ]] ||
	die "no report of the patch's WARN_ON $at: $(case_dmesg | grep -A3 'cut here')"
warning=$(warning_lines)
disable_lp $MOD
cmdline_is "$CMDLINE"
unload_lp $MOD

check_result "$(enabled $MOD)
$warning
$(disabled $MOD)"


start_test "klp build: new-function"
patch_case test_klp_build_new_function 'cmdline_is "$CMDLINE klp-build-new-function"' \
	'cmdline_is "$CMDLINE"'


start_test "klp build: static-call"
patch_case test_klp_build_static_call \
	'getpgid_is -4343 4343; getpgid_is 0 "$(python3 -c "import os; print(os.getpgrp())")"' \
	'getpgid_is -4343 error'


start_test "klp build: syscall"
patch_case test_klp_build_syscall \
	'getpgid_is -4242 4242; getpgid_is 0 "$(python3 -c "import os; print(os.getpgrp())")"' \
	'getpgid_is -4242 error'


start_test "klp build: sympos"

# consoles_patched / consoles_unpatched: c_start() of /proc/consoles (the
# second of the name in vmlinux) is the patch's, /proc/cpuinfo's (the first)
# is not; or /proc/consoles is the kernel's again.
function consoles_patched() {
	[[ "$(head -n 1 /proc/consoles)" == "klp build: sympos" ]] ||
		die "/proc/consoles starts with '$(head -n 1 /proc/consoles)'"
	[[ "$(head -n 1 /proc/cpuinfo)" == processor* ]] ||
		die "/proc/cpuinfo starts with '$(head -n 1 /proc/cpuinfo)'"
}
function consoles_unpatched() {
	[[ "$(head -n 1 /proc/consoles)" != "klp build: sympos" ]] ||
		die "/proc/consoles still starts with the patch's line"
}
patch_case test_klp_build_sympos consoles_patched consoles_unpatched


start_test "klp build: shadow"

MOD=test_klp_build_shadow
need_module $MOD
VERSION=$(cat /proc/version)
load_lp $MOD
cmdline_is "$CMDLINE"
cat /proc/cmdline >/dev/null
[[ "$(cat /proc/version)" == "klp build: /proc/cmdline read 2 times" ]] ||
	die "/proc/version reads '$(cat /proc/version)' after two reads of /proc/cmdline"
# version_proc_show() freed it: no shadow variable is left behind.
[[ "$(cat /proc/version)" == "klp build: /proc/cmdline read 0 times" ]] ||
	die "/proc/version reads '$(cat /proc/version)' once the shadow variable is freed"
disable_lp $MOD
[[ "$(cat /proc/version)" == "$VERSION" ]] ||
	die "/proc/version reads '$(cat /proc/version)', not '$VERSION'"
unload_lp $MOD

check_result "$(enabled $MOD)
$(disabled $MOD)"


start_test "klp build: callbacks"

MOD=test_klp_build_callbacks
need_module $MOD
load_lp $MOD
cmdline_is "klp build: callbacks"
disable_lp $MOD
cmdline_is "$CMDLINE"
unload_lp $MOD

check_result "% insmod test_modules/$MOD.ko
livepatch: enabling patch '$MOD'
livepatch: '$MOD': initializing patching transition
$MOD: pre_patch
livepatch: '$MOD': starting patching transition
livepatch: '$MOD': completing patching transition
$MOD: post_patch
livepatch: '$MOD': patching complete
% echo 0 > /sys/kernel/livepatch/$MOD/enabled
livepatch: '$MOD': initializing unpatching transition
$MOD: pre_unpatch
livepatch: '$MOD': starting unpatching transition
livepatch: '$MOD': completing unpatching transition
$MOD: post_unpatch
livepatch: '$MOD': unpatching complete
% rmmod $MOD"

start_test "klp build: inline"

# state_is S: a running task reads its state as S in /proc/self/status and
# /proc/self/stat.
function state_is() {
	local status stat
	status=$(sed -n 's/^State:\t//p' /proc/self/status)
	stat=$(cut -d' ' -f3 /proc/self/stat)
	[[ "$status" == "$1 ("* && "$stat" == "$1" ]] ||
		die "a running task's state reads '$status' and '$stat', not $1"
}
patch_case test_klp_build_inline 'state_is r' 'state_is R'


start_test "klp build: static-local"

# drops_logged: how many lines of drop_caches writes the kernel log has.
function drops_logged() {
	dmesg | grep -c 'drop_caches: ' || true
}
MOD=test_klp_build_static_local
need_module $MOD
before=$(drops_logged)
echo 1 >/proc/sys/vm/drop_caches
(( $(drops_logged) == before + 1 )) ||
	die "writing drop_caches logged nothing: its 'stfu' is set already (a second run in one boot?)"
load_lp $MOD
echo 1 >/proc/sys/vm/drop_caches
dmesg | grep -q 'drop_caches: 1 (klp build: static-local)$' ||
	die "the patched drop_caches_sysctl_handler() did not log its line"
# Bit 2 silences the log, in the kernel's 'stfu' if the patch shares it.
echo 4 >/proc/sys/vm/drop_caches
disable_lp $MOD
before=$(drops_logged)
echo 1 >/proc/sys/vm/drop_caches
(( $(drops_logged) == before )) ||
	die "the kernel's drop_caches_sysctl_handler() still logs: the patch had its own 'stfu'"
unload_lp $MOD

check_result "$(enabled $MOD)
$(disabled $MOD)"


start_test "klp build: replace"

MOD=test_klp_build_replace
need_module $MOD
need_module test_klp_build_exported
load_lp test_klp_build_exported
cmdline_is "klp build: exported"
load_lp $MOD
[[ "$(cat /proc/loadavg)" == "klp build: replace "* ]] ||
	die "/proc/loadavg reads '$(cat /proc/loadavg)'"
cmdline_is "$CMDLINE"
unload_lp test_klp_build_exported
disable_lp $MOD
[[ "$(cat /proc/loadavg)" != klp* ]] || die "/proc/loadavg still reads '$(cat /proc/loadavg)'"
unload_lp $MOD

check_result "$(enabled test_klp_build_exported)
$(enabled $MOD)
% rmmod test_klp_build_exported
$(disabled $MOD)"


# The binfmt_misc module of the kernel: status_is WANT mounts its file system
# and checks that its status file reads WANT.
BINFMT_KO=$KDIR/fs/binfmt_misc.ko
[[ -e $BINFMT_KO ]] || die "$BINFMT_KO is missing: the kernel is not built with CONFIG_BINFMT_MISC=m"
BINFMT_MNT=$(mktemp -d)
function status_is() {
	local got
	mount -t binfmt_misc binfmt_misc "$BINFMT_MNT" || die "cannot mount binfmt_misc"
	got=$(cat "$BINFMT_MNT/status")
	umount "$BINFMT_MNT"
	[[ "$got" == "$1" ]] || die "binfmt_misc's status reads '$got', not '$1'"
}
# status_mode_is MODE: a new mount's status file has the mode MODE (octal).
function status_mode_is() {
	local got
	mount -t binfmt_misc binfmt_misc "$BINFMT_MNT" || die "cannot mount binfmt_misc"
	got=$(stat -c %a "$BINFMT_MNT/status")
	umount "$BINFMT_MNT"
	[[ "$got" == "$1" ]] || die "binfmt_misc's status has the mode $got, not $1"
}
function load_binfmt() {
	log "% insmod $BINFMT_KO"
	insmod "$BINFMT_KO" || die "cannot load $BINFMT_KO"
}
function unload_binfmt() {
	log "% rmmod binfmt_misc"
	rmmod binfmt_misc || die "cannot unload binfmt_misc"
}
PATCHED="binfmt_misc enabled (klp build: module)"


start_test "klp build: module-target, the patch loaded before the module"

MOD=test_klp_build_module_target
need_module $MOD
load_lp $MOD
load_binfmt
status_is "$PATCHED"
unload_binfmt
disable_lp $MOD
unload_lp $MOD

check_result "$(enabled $MOD)
livepatch: applying patch '$MOD' to loading module 'binfmt_misc'
livepatch: reverting patch '$MOD' on unloading module 'binfmt_misc'
$(disabled $MOD)"


start_test "klp build: module-target, the patch loaded after the module"

load_binfmt
status_is enabled
load_lp $MOD
status_is "$PATCHED"
disable_lp $MOD
status_is enabled
unload_lp $MOD
unload_binfmt

check_result "$(enabled $MOD)
$(disabled $MOD)"



start_test "klp build: static-const"

MOD=test_klp_build_static_const
need_module $MOD
load_binfmt
status_mode_is 644
load_lp $MOD
status_mode_is 600
disable_lp $MOD
status_mode_is 644
unload_lp $MOD
unload_binfmt

check_result "$(enabled $MOD)
$(disabled $MOD)"

rmdir "$BINFMT_MNT"

exit 0
