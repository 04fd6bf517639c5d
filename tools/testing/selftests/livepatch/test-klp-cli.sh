#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# klp, the userspace livepatch manager (crates/klp), against the real kernel:
# load, list, status, wait, disable and unload a livepatch, and name the task
# that blocks a stalled transition (test_klp_callbacks_busy keeps a kworker
# inside busymod_work_func(), which test_klp_callbacks_demo patches), and
# the code that blocks in either direction (test_klp_blocker holds a reader of
# /proc/cmdline in its new code: it blocks a patch stacked on top of it, and
# its own unpatching).
#
# Run from the installed kselftest livepatch directory (next to functions.sh
# and test_modules/), with KLP set to the klp binary (default: klp on PATH).

KLP=${KLP:-klp}
# Resolve a relative KLP before changing to the test directory.
if [[ "$KLP" == */* ]]; then
	KLP=$(realpath "$KLP")
fi

cd "$(dirname "$0")" || exit 1
. ./functions.sh

MOD_LIVEPATCH=test_klp_livepatch
MOD_DEMO=test_klp_callbacks_demo
MOD_BUSY=test_klp_callbacks_busy
MOD_PLAIN=test_klp_callbacks_mod
MOD_BLOCKER=test_klp_blocker
BUSY_PARAM=/sys/module/$MOD_BUSY/parameters/block_transition
BLOCKER_PARAM=/sys/module/$MOD_BLOCKER/parameters/block

OUT=$(mktemp)
ERR=$(mktemp)

# pass() / fail(msg) - end the case started by start_test()
function pass() {
	echo "ok"
}

function fail() {
	echo "not ok"
	echo -e "\n$1\n--- stdout:\n$(cat "$OUT")\n--- stderr:\n$(cat "$ERR")\n" >&2
	die "klp kselftest(s) failed"
}

# run_klp(args...) - run klp, stdout in $OUT, stderr in $ERR, exit code in $RC
function run_klp() {
	log "% klp $*"
	"$KLP" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# expect_rc(code) - the last run_klp exited with code
function expect_rc() {
	[[ "$RC" == "$1" ]] || fail "klp exited $RC, expected $1"
}

# out_has(regex) / err_has(regex) - the last run_klp printed a matching line
function out_has() {
	grep -qE -- "$1" "$OUT" || fail "stdout has no line matching: $1"
}

function err_has() {
	grep -qE -- "$1" "$ERR" || fail "stderr has no line matching: $1"
}

# json_check(python expression on d) - check the JSON in $OUT when python3
# exists; the caller also greps, so the check holds without python3
function json_check() {
	command -v python3 >/dev/null || return 0
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$OUT" ||
		fail "JSON check failed: $1"
}

function klp_cleanup() {
	[[ -e "$BUSY_PARAM" ]] && echo N > "$BUSY_PARAM"
	[[ -e "$BLOCKER_PARAM" ]] && echo N > "$BLOCKER_PARAM"
	local mod
	for mod in $MOD_DEMO $MOD_LIVEPATCH $MOD_BLOCKER; do
		if [[ -e "$KLP_SYSFS_DIR/$mod" ]]; then
			"$KLP" unload "$mod" --timeout 30 >/dev/null 2>&1
		fi
		[[ -e "/sys/module/$mod" ]] && rmmod "$mod" 2>/dev/null
	done
	[[ -e "/sys/module/$MOD_BUSY" ]] && rmmod "$MOD_BUSY" 2>/dev/null
	rm -f "$OUT" "$ERR"
	pop_config
}

# setup_config without has_kdir (nothing is built here) and with our trap.
is_root
command -v "$KLP" >/dev/null || skip "klp binary not found (KLP=$KLP)"
push_config
set_dynamic_debug
set_ftrace_enabled 1
trap klp_cleanup EXIT INT TERM HUP


start_test "klp load rejects a module that is not a livepatch"

run_klp load test_modules/$MOD_PLAIN.ko
expect_rc 1
err_has "not a livepatch module"
[[ ! -e "/sys/module/$MOD_PLAIN" ]] || fail "$MOD_PLAIN was loaded"
pass


start_test "klp load quotes the kernel's livepatch lines of a refused load"

run_klp load test_modules/test_klp_bad_unknown_symbol.ko
expect_rc 1
err_has "^the kernel said:$"
err_has "^  livepatch: symbol 'klp_bad_no_such_function' not found in symbol table$"
[[ ! -e "/sys/module/test_klp_bad_unknown_symbol" ]] || fail "the module was loaded"
pass


start_test "klp load"

run_klp load test_modules/$MOD_LIVEPATCH.ko --timeout 60
expect_rc 0
out_has "^$MOD_LIVEPATCH: applied$"
[[ "$(cat "$KLP_SYSFS_DIR/$MOD_LIVEPATCH/enabled")" == 1 ]] || fail "enabled is not 1"
[[ "$(cat "$KLP_SYSFS_DIR/$MOD_LIVEPATCH/transition")" == 0 ]] || fail "transition is not 0"
[[ "$(cat /proc/cmdline)" == "$MOD_LIVEPATCH: this has been live patched" ]] ||
	fail "/proc/cmdline is not patched"
pass


start_test "klp load of a loaded, enabled patch is idempotent"

run_klp load test_modules/$MOD_LIVEPATCH.ko --timeout 60
expect_rc 0
out_has "^$MOD_LIVEPATCH: already loaded, applied$"
pass


start_test "klp list"

run_klp list
expect_rc 0
out_has "^$MOD_LIVEPATCH  enabled=1 transition=0 replace=0$"
out_has "^  vmlinux +loaded +patched=1$"
out_has "^    cmdline_proc_show,1$"
pass


start_test "klp list --json"

run_klp list --json
expect_rc 0
out_has "\"name\": \"$MOD_LIVEPATCH\""
out_has "\"name\": \"cmdline_proc_show\""
json_check "[p for p in d['patches'] if p['name'] == '$MOD_LIVEPATCH' and p['enabled'] and not p['transition'] and p['objects'][0]['name'] == 'vmlinux' and p['objects'][0]['patched'] and p['objects'][0]['functions'][0] == {'name': 'cmdline_proc_show', 'sympos': 1}]"
pass


start_test "klp status"

run_klp status $MOD_LIVEPATCH
expect_rc 0
out_has "^state: +applied"
out_has "^transition: +0$"
out_has "^module: +loaded"
run_klp status no_such_patch
expect_rc 4
err_has "unknown livepatch 'no_such_patch'"
pass


start_test "klp wait"

run_klp wait $MOD_LIVEPATCH --timeout 10
expect_rc 0
out_has "^$MOD_LIVEPATCH: no transition in progress \(applied\)$"
pass


start_test "klp disable"

run_klp disable $MOD_LIVEPATCH --timeout 60
expect_rc 0
out_has "^$MOD_LIVEPATCH: (disabled|disabled; the kernel freed the patch)"
# The kernel frees a disabled patch asynchronously.
loop_until '[[ ! -e "$KLP_SYSFS_DIR/$MOD_LIVEPATCH" ]]' ||
	fail "the patch is still in $KLP_SYSFS_DIR"
[[ "$(cat /proc/cmdline)" != "$MOD_LIVEPATCH: this has been live patched" ]] ||
	fail "/proc/cmdline is still patched"
pass


start_test "klp unload"

[[ -e "/sys/module/$MOD_LIVEPATCH" ]] || fail "the module went away before unload"
run_klp unload $MOD_LIVEPATCH --timeout 60
expect_rc 0
out_has "^$MOD_LIVEPATCH: unloaded$"
[[ ! -e "/sys/module/$MOD_LIVEPATCH" ]] || fail "$MOD_LIVEPATCH is still loaded"
pass


start_test "klp unload of an enabled patch"

run_klp load test_modules/$MOD_LIVEPATCH.ko --timeout 60
expect_rc 0
run_klp unload $MOD_LIVEPATCH --timeout 60
expect_rc 0
err_has "disabling '$MOD_LIVEPATCH'"
[[ ! -e "/sys/module/$MOD_LIVEPATCH" ]] || fail "$MOD_LIVEPATCH is still loaded"
[[ "$(cat /proc/cmdline)" != "$MOD_LIVEPATCH: this has been live patched" ]] ||
	fail "/proc/cmdline is still patched"
pass


# A kworker sits in busymod_work_func() (block_transition=Y) while
# test_klp_callbacks_demo patches that function: the transition stalls.

start_test "klp blockers"

load_mod $MOD_BUSY block_transition=Y
run_klp load test_modules/$MOD_DEMO.ko --no-wait
expect_rc 0
loop_until 'grep -q "^1$" "$KLP_SYSFS_DIR/$MOD_DEMO/transition"' ||
	fail "the transition did not stall"
run_klp blockers $MOD_DEMO
expect_rc 0
out_has "^$MOD_DEMO: patching transition, target patch_state 1: [0-9]+ of [0-9]+ tasks remaining$"
out_has "^  \* busymod_work_func\+0x[0-9a-f]+/0x[0-9a-f]+ \[$MOD_BUSY\]    <- patched function busymod_work_func \($MOD_BUSY\)$"
# The task named above the marked frame is really in busymod_work_func.
hdr=$(awk '/^pid /{h=$0} /^  \* busymod_work_func/{print h; exit}' "$OUT")
read -r _ pid _ tid _ comm _ state _ <<< "$hdr"
[[ "$comm" == kworker* ]] || fail "the blocking task is not a kworker: $hdr"
grep -q "busymod_work_func" "/proc/$pid/task/$tid/stack" ||
	fail "pid $pid tid $tid is not in busymod_work_func"
[[ "$state" == 0 && "$(cat "/proc/$pid/task/$tid/patch_state")" == 0 ]] ||
	fail "pid $pid tid $tid: patch_state is not 0"
pass


start_test "klp blockers --json"

run_klp blockers $MOD_DEMO --json
expect_rc 0
out_has "\"in_transition\": true"
out_has "\"function\": \"busymod_work_func\""
out_has "\"tid\": $tid,"
json_check "[f for b in d['blockers'] if b['pid'] == $pid and b['tid'] == $tid and b['in_patched_code'] for f in b['stack'] if f['patched'] and f['function'] == 'busymod_work_func' and f['module'] == '$MOD_BUSY']"
pass


start_test "klp status during a transition"

run_klp status $MOD_DEMO
expect_rc 0
out_has "^state: +patching \(in transition\)$"
out_has "^transition: +1, patching: [1-9][0-9]* of [0-9]+ tasks remaining"
pass


start_test "klp wait names the blocking task on timeout"

run_klp wait $MOD_DEMO --timeout 2
expect_rc 3
err_has "timed out after 2\.[0-9]s: the patching transition of '$MOD_DEMO' is still running"
err_has "pid $pid tid $tid kworker.*: in busymod_work_func\+.* \[$MOD_BUSY\]"
err_has "^klp: patching '$MOD_DEMO': [0-9]+ tasks? remaining"
pass


start_test "klp refuses a second transition"

run_klp load test_modules/$MOD_LIVEPATCH.ko
expect_rc 5
err_has "transition of '$MOD_DEMO' is still running"
[[ ! -e "/sys/module/$MOD_LIVEPATCH" ]] || fail "$MOD_LIVEPATCH was loaded"
pass


start_test "klp force without confirmation"

log "% echo no | klp force $MOD_DEMO"
echo no | "$KLP" force $MOD_DEMO >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1
err_has "consistency model"
grep -q "^1$" "$KLP_SYSFS_DIR/$MOD_DEMO/transition" || fail "the transition ended"
pass


start_test "klp wait after the block is released"

# klp wait must see the transition running, then its end: the block is
# released only once klp has reported the remaining tasks (its first poll),
# else a quick transition could end before klp starts.
log "% klp wait $MOD_DEMO --timeout 60"
"$KLP" wait $MOD_DEMO --timeout 60 >"$OUT" 2>"$ERR" &
klp_pid=$!
loop_until 'grep -q "^klp: patching" "$ERR"' || fail "klp wait did not report the running transition"
log "% echo N > $BUSY_PARAM"
echo N > "$BUSY_PARAM"
wait $klp_pid
RC=$?
expect_rc 0
out_has "^$MOD_DEMO: transition complete \(applied\)$"
pass


start_test "klp unload after a stalled transition"

run_klp unload $MOD_DEMO --timeout 60
expect_rc 0
[[ ! -e "/sys/module/$MOD_DEMO" ]] || fail "$MOD_DEMO is still loaded"
unload_mod $MOD_BUSY
pass

# test_klp_blocker replaces cmdline_proc_show() with a version that sleeps
# while its block parameter is Y: a reader of /proc/cmdline then sits in the
# patch module's new code, which is what blocks a patch stacked on top of it
# and its own unpatching (the original function is not on that stack).

# start_reader - a reader of /proc/cmdline held in test_klp_blocker's new
# code; its pid in $reader
function start_reader() {
	log "% echo Y > $BLOCKER_PARAM; cat /proc/cmdline &"
	echo Y > "$BLOCKER_PARAM"
	cat /proc/cmdline >/dev/null &
	reader=$!
	loop_until "grep -q klp_blocker_cmdline_proc_show /proc/$reader/stack" ||
		fail "the reader (pid $reader) is not in klp_blocker_cmdline_proc_show"
}

# release_reader - let the reader finish
function release_reader() {
	log "% echo N > $BLOCKER_PARAM"
	echo N > "$BLOCKER_PARAM"
	wait "$reader"
}


start_test "klp blockers of a patch on top of another: the older patch's new code blocks"

run_klp load test_modules/$MOD_BLOCKER.ko --timeout 60
expect_rc 0
start_reader
run_klp load test_modules/$MOD_LIVEPATCH.ko --no-wait
expect_rc 0
loop_until 'grep -q "^1$" "$KLP_SYSFS_DIR/$MOD_LIVEPATCH/transition"' ||
	fail "the transition did not stall"
run_klp blockers $MOD_LIVEPATCH
expect_rc 0
out_has "^$MOD_LIVEPATCH: patching transition, target patch_state 1: [0-9]+ of [0-9]+ tasks remaining$"
out_has "^pid $reader tid $reader comm [^ ]+ patch_state 0  <- in patched code$"
out_has "^  \* klp_blocker_cmdline_proc_show\+0x[0-9a-f]+/0x[0-9a-f]+ \[$MOD_BLOCKER\]    <- in the patch module $MOD_BLOCKER, whose version of cmdline_proc_show \(vmlinux\) this patch replaces$"
release_reader
run_klp wait $MOD_LIVEPATCH --timeout 60
expect_rc 0
[[ "$(cat /proc/cmdline)" == "$MOD_LIVEPATCH: this has been live patched" ]] ||
	fail "/proc/cmdline is not patched by $MOD_LIVEPATCH"
run_klp unload $MOD_LIVEPATCH --timeout 60
expect_rc 0
pass


start_test "klp blockers of an unpatching transition: the patch's own new code blocks"

start_reader
run_klp disable $MOD_BLOCKER --no-wait
expect_rc 0
loop_until 'grep -q "^1$" "$KLP_SYSFS_DIR/$MOD_BLOCKER/transition"' ||
	fail "the transition did not stall"
run_klp blockers $MOD_BLOCKER
expect_rc 0
out_has "^$MOD_BLOCKER: unpatching transition, target patch_state 0: [0-9]+ of [0-9]+ tasks remaining$"
out_has "^pid $reader tid $reader comm [^ ]+ patch_state 1  <- in patched code$"
out_has "^  \* klp_blocker_cmdline_proc_show\+0x[0-9a-f]+/0x[0-9a-f]+ \[$MOD_BLOCKER\]    <- in the patch module $MOD_BLOCKER \(its new code, which unpatching replaces\)$"
release_reader
run_klp wait $MOD_BLOCKER --timeout 60
expect_rc 0
run_klp unload $MOD_BLOCKER --timeout 60
expect_rc 0
[[ ! -e "/sys/module/$MOD_BLOCKER" ]] || fail "$MOD_BLOCKER is still loaded"
pass


start_test "klp info"

run_klp info test_modules/$MOD_LIVEPATCH.ko
expect_rc 0
out_has "cmdline_proc_show"
out_has "$(uname -r)"
pass


start_test "klp install, then the boot unit's command loads every installed patch"

STATE=$(mktemp -d)
UNIT=$(dirname "$KLP")/../../crates/klp/systemd/klp.service
run_klp --state-dir "$STATE" install test_modules/$MOD_LIVEPATCH.ko
expect_rc 0
[[ -f "$STATE/$(uname -r)/$MOD_LIVEPATCH.ko" ]] || fail "not installed under $STATE/$(uname -r)"
# klp.service's ExecStart, with this klp and this state directory.
exec_start=$(sed -n 's/^ExecStart=[^ ]* //p' "$UNIT")
[[ "$exec_start" == "load --all"* ]] || fail "klp.service runs '$exec_start'"
run_klp --state-dir "$STATE" $exec_start
expect_rc 0
out_has "^$MOD_LIVEPATCH: applied$"
[[ "$(cat /proc/cmdline)" == "$MOD_LIVEPATCH: this has been live patched" ]] ||
	fail "/proc/cmdline is not patched"
run_klp unload --all --timeout 60
expect_rc 0
out_has "^$MOD_LIVEPATCH: unloaded$"
[[ ! -e "/sys/module/$MOD_LIVEPATCH" ]] || fail "$MOD_LIVEPATCH is still loaded"
rm -rf "$STATE"
pass


exit 0
