// SPDX-License-Identifier: GPL-2.0
//! End to end: the built `klp` binary against fake sysfs/proc trees.

use klp::testkit::{livepatch_elf, FakeTree};
use std::io::Write;
use std::process::{Command, Stdio};
use std::thread::{self, sleep};
use std::time::{Duration, Instant};

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn klp_in(t: &FakeTree, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_klp"))
        .arg("--fake-kernel")
        .arg("--sysfs-root")
        .arg(t.sysfs())
        .arg("--proc-root")
        .arg(t.proc())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run klp");
    {
        let mut i = child.stdin.take().unwrap();
        let _ = i.write_all(stdin.as_bytes());
    }
    let o = child.wait_with_output().unwrap();
    Run {
        code: o
            .status
            .code()
            .expect("klp killed by a signal (a panic abort?)"),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn klp(t: &FakeTree, args: &[&str]) -> Run {
    klp_in(t, args, "")
}

fn tree() -> (tempfile::TempDir, FakeTree) {
    let d = tempfile::tempdir().unwrap();
    let t = FakeTree::at(d.path());
    (d, t)
}

/// test_klp_callbacks_demo stalled on test_klp_callbacks_busy, as in the
/// upstream "busy target module" kselftest.
fn busy_scene(t: &FakeTree) {
    t.patch("test_klp_callbacks_demo", true, true)
        .object("vmlinux", true, &[])
        .object("test_klp_callbacks_mod", false, &[])
        .object("test_klp_callbacks_busy", true, &["busymod_work_func,1"]);
    t.module("test_klp_callbacks_demo", 1, true);
    t.module("test_klp_callbacks_busy", 0, false);
    t.task(1, 1, "systemd", 1, &["[<0>] do_epoll_wait+0x4d6/0x520"]);
    t.task(2, 2, "kthreadd", 1, &[]);
    t.task(
        77,
        77,
        "kworker/1:2",
        0,
        &[
            "[<0>] msleep+0x2b/0x40",
            "[<0>] busymod_work_func+0x2e/0x60 [test_klp_callbacks_busy]",
            "[<0>] process_one_work+0x17b/0x330",
            "[<0>] worker_thread+0x2e1/0x400",
            "[<0>] kthread+0xd2/0x100",
        ],
    );
}

/// Asserts that `text` (a run's output) contains `part`, showing `text` if not.
#[track_caller]
fn has(text: &str, part: &str) {
    assert!(text.contains(part), "{text}");
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("bad JSON ({e}): {s}"))
}

/// Run `f` in a thread once `cond` holds (a stand-in for the kernel).
fn when(
    cond: impl Fn() -> bool + Send + 'static,
    f: impl FnOnce() + Send + 'static,
) -> thread::JoinHandle<bool> {
    thread::spawn(move || {
        let start = Instant::now();
        while !cond() {
            if start.elapsed() > Duration::from_secs(20) {
                return false;
            }
            sleep(Duration::from_millis(20));
        }
        f();
        true
    })
}

// ------------------------------------------------------------ usage, help

/// Every verb of the command line, from its definition.
fn verbs() -> Vec<String> {
    use clap::CommandFactory;
    klp::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

#[test]
fn help_documents_the_exit_codes() {
    let (_d, t) = tree();
    let r = klp(&t, &["--help"]);
    assert_eq!(r.code, 0);
    for line in [
        "0  success",
        "3  timeout",
        "4  not found",
        "5  busy",
        "2  usage",
    ] {
        assert!(r.out.contains(line), "missing {line:?} in:\n{}", r.out);
    }
    assert!(verbs().len() >= 10, "{:?}", verbs());
    for verb in verbs() {
        assert!(
            r.out.contains(&format!("  {verb} ")),
            "verb {verb} missing:\n{}",
            r.out
        );
    }
}

#[test]
fn bad_usage_exits_2() {
    let (_d, t) = tree();
    assert_eq!(klp(&t, &["frobnicate"]).code, 2);
    assert_eq!(klp(&t, &["wait"]).code, 2, "missing PATCH");
    for bad in ["--timeout=-3", "--timeout=soon"] {
        let r = klp(&t, &["wait", "p", bad]);
        assert_eq!(r.code, 2, "{bad}");
        assert!(
            r.err.contains("not a valid number of seconds") || r.err.contains("not a number"),
            "{}",
            r.err
        );
    }
}

// ------------------------------------------------------------ list

#[test]
fn list_shows_patches_objects_and_functions() {
    let (_d, t) = tree();
    t.patch("livepatch_sample", true, false)
        .object("vmlinux", true, &["cmdline_proc_show,1"]);
    busy_scene(&t);
    let r = klp(&t, &["list"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let expected = "\
livepatch_sample  enabled=1 transition=0 replace=0
  vmlinux  loaded      patched=1
    cmdline_proc_show,1
test_klp_callbacks_demo  enabled=1 transition=1 replace=0
  vmlinux                  loaded      patched=1
  test_klp_callbacks_busy  loaded      patched=1
    busymod_work_func,1
  test_klp_callbacks_mod   not loaded  patched=0
";
    assert_eq!(r.out, expected);
}

#[test]
fn list_json() {
    let (_d, t) = tree();
    busy_scene(&t);
    t.set(
        "kernel/livepatch/test_klp_callbacks_demo/test_klp_callbacks_mod/patched",
        "0",
    );
    let r = klp(&t, &["list", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v = json(&r.out);
    let p = &v["patches"][0];
    assert_eq!(p["name"], "test_klp_callbacks_demo");
    assert_eq!(p["enabled"], true);
    assert_eq!(p["transition"], true);
    assert_eq!(p["replace"], false);
    let objs = p["objects"].as_array().unwrap();
    assert_eq!(objs.len(), 3);
    assert_eq!(objs[1]["name"], "test_klp_callbacks_busy");
    assert_eq!(objs[1]["functions"][0]["name"], "busymod_work_func");
    assert_eq!(objs[1]["functions"][0]["sympos"], 1);
    assert_eq!(objs[2]["loaded"], false);
    assert_eq!(objs[2]["patched"], false);
}

#[test]
fn list_empty_and_without_livepatch_support() {
    let (_d, t) = tree();
    let r = klp(&t, &["list"]);
    assert_eq!((r.code, r.out.as_str()), (0, "no livepatches loaded\n"));
    assert_eq!(
        json(&klp(&t, &["list", "--json"]).out)["patches"],
        serde_json::json!([])
    );
    std::fs::remove_dir_all(t.path("kernel/livepatch")).unwrap();
    let r = klp(&t, &["list"]);
    assert_eq!(r.code, 1);
    has(&r.err, "no livepatch support");
    let r = klp(&t, &["list", "--json"]);
    assert_eq!(json(&r.out)["error"]["exit_code"], 1);
}

// ------------------------------------------------------------ status

#[test]
fn status_shows_direction_and_tasks_remaining() {
    let (_d, t) = tree();
    busy_scene(&t);
    let r = klp(&t, &["status", "test_klp_callbacks_demo"]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.out, "state:       patching (in transition)");
    has(
        &r.out,
        "transition:  1, patching: 1 of 3 tasks remaining (target patch_state 1)",
    );
    has(&r.out, "module:      loaded, refcnt 1");
    has(&r.out, "klp blockers test_klp_callbacks_demo");

    // Reverse it: now unpatching, and the two patched tasks block.
    t.set("kernel/livepatch/test_klp_callbacks_demo/enabled", "0");
    let v = json(&klp(&t, &["status", "test_klp_callbacks_demo", "--json"]).out);
    assert_eq!(v["state"], "unpatching");
    assert_eq!(v["progress"]["direction"], "unpatching");
    assert_eq!(v["progress"]["target_state"], 0);
    assert_eq!(v["progress"]["tasks_remaining"], 2);
    assert_eq!(v["progress"]["tasks_total"], 3);
    assert_eq!(v["module"]["refcnt"], 1);
}

#[test]
fn status_of_all_and_of_an_unknown_patch() {
    let (_d, t) = tree();
    t.patch("a", true, false).object("vmlinux", true, &["f,1"]);
    t.patch("b", true, false).object("vmlinux", true, &["g,1"]);
    let r = klp(&t, &["status"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.out.matches("state:       applied").count(),
        2,
        "{}",
        r.out
    );
    let v = json(&klp(&t, &["status", "--json"]).out);
    assert_eq!(v["patches"].as_array().unwrap().len(), 2);
    assert!(v["patches"][0]["progress"].is_null());

    let r = klp(&t, &["status", "nope"]);
    assert_eq!(r.code, 4);
    has(&r.err, "unknown livepatch 'nope' (loaded: a, b)");
    assert!(r.out.is_empty());
    let r = klp(&t, &["status", "nope", "--json"]);
    assert_eq!(r.code, 4);
    assert_eq!(json(&r.out)["error"]["kind"], "not_found");
}

// ------------------------------------------------------------ blockers

#[test]
fn blockers_name_the_task_and_mark_the_patched_frame() {
    let (_d, t) = tree();
    busy_scene(&t);
    let r = klp(&t, &["blockers", "test_klp_callbacks_demo"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let expected = "\
test_klp_callbacks_demo: patching transition, target patch_state 1: 1 of 3 tasks remaining

pid 77 tid 77 comm kworker/1:2 patch_state 0  <- in patched code
    msleep+0x2b/0x40
  * busymod_work_func+0x2e/0x60 [test_klp_callbacks_busy]    <- patched function busymod_work_func (test_klp_callbacks_busy)
    process_one_work+0x17b/0x330
    worker_thread+0x2e1/0x400
    kthread+0xd2/0x100
";
    assert_eq!(r.out, expected);
}

/// The patched frames `klp blockers` marks, as `* frame    <- reason` lines.
fn marked_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("  * ")).collect()
}

#[test]
fn blockers_when_unpatching_mark_the_new_code_not_the_old() {
    let (_d, t) = tree();
    t.patch("lp", false, true)
        .object("test_klp_callbacks_busy", true, &["busymod_work_func,1"]);
    t.module("lp", 1, true);
    t.task(
        9,
        9,
        "kworker/0:1",
        1,
        &[
            "[<0>] busymod_work_func+0x2e/0x60 [test_klp_callbacks_busy]",
            "[<0>] livepatch_busymod_work_func+0x1/0x2 [lp]",
        ],
    );
    let r = klp(&t, &["blockers", "lp"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        marked_lines(&r.out),
        [
            "  * livepatch_busymod_work_func+0x1/0x2 [lp]    <- in the patch module lp \
          (its new code, which unpatching replaces)"
        ]
    );
}

#[test]
fn blockers_when_patching_over_a_patch_mark_its_new_code() {
    let (_d, t) = tree();
    t.patch("lp1", true, false)
        .object("test_klp_callbacks_busy", true, &["busymod_work_func,1"]);
    t.patch("lp2", true, true)
        .object("test_klp_callbacks_busy", true, &["busymod_work_func,1"]);
    // /proc/modules lists the newest module first: lp2 goes on top of lp1.
    std::fs::write(
        t.proc().join("modules"),
        "lp2 16384 1 - Live 0x0 (K)\nlp1 16384 1 - Live 0x0 (K)\n",
    )
    .unwrap();
    t.task(
        9,
        9,
        "kworker/0:1",
        0,
        &[
            "[<0>] busymod_work_func+0x2e/0x60 [test_klp_callbacks_busy]",
            "[<0>] livepatch_busymod_work_func+0x1/0x2 [lp1]",
        ],
    );
    let r = klp(&t, &["blockers", "lp2"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        marked_lines(&r.out),
        [
            "  * livepatch_busymod_work_func+0x1/0x2 [lp1]    <- in the patch module lp1, \
          whose version of busymod_work_func (test_klp_callbacks_busy) this patch replaces"
        ]
    );
}

#[test]
fn blockers_json() {
    let (_d, t) = tree();
    busy_scene(&t);
    let r = klp(&t, &["blockers", "test_klp_callbacks_demo", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v = json(&r.out);
    assert_eq!(v["in_transition"], true);
    assert_eq!(v["progress"]["tasks_remaining"], 1);
    let b = &v["blockers"];
    assert_eq!(b.as_array().unwrap().len(), 1);
    assert_eq!(b[0]["pid"], 77);
    assert_eq!(b[0]["tid"], 77);
    assert_eq!(b[0]["comm"], "kworker/1:2");
    assert_eq!(b[0]["in_patched_code"], true);
    let frames = b[0]["stack"].as_array().unwrap();
    let marked: Vec<_> = frames.iter().filter(|f| f["patched"] == true).collect();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0]["function"], "busymod_work_func");
    assert_eq!(marked[0]["module"], "test_klp_callbacks_busy");
}

#[test]
fn blockers_of_a_patch_not_in_transition_or_unknown() {
    let (_d, t) = tree();
    busy_scene(&t);
    t.patch("idle", true, false);
    let r = klp(&t, &["blockers", "idle"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.out,
        "idle: not in transition (applied), no task blocks it; the transition in progress is 'test_klp_callbacks_demo'\n"
    );
    let v = json(&klp(&t, &["blockers", "idle", "--json"]).out);
    assert_eq!(v["in_transition"], false);
    assert_eq!(v["transition_patch"], "test_klp_callbacks_demo");
    assert_eq!(klp(&t, &["blockers", "ghost"]).code, 4);
}

// ------------------------------------------------------------ wait

#[test]
fn wait_times_out_and_names_the_blocking_task() {
    let (_d, t) = tree();
    busy_scene(&t);
    let start = Instant::now();
    let r = klp(&t, &["wait", "test_klp_callbacks_demo", "--timeout", "0.5"]);
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert_eq!(r.code, 3, "{}", r.err);
    has(
        &r.err,
        "klp: patching 'test_klp_callbacks_demo': 1 task remaining",
    );
    has(&r.err, "timed out after 0.5s");
    assert!(
        r.err.contains(
            "pid 77 tid 77 kworker/1:2: in busymod_work_func+0x2e/0x60 [test_klp_callbacks_busy]"
        ),
        "{}",
        r.err
    );
    assert!(!r.err.contains("systemd"), "{}", r.err);
    let r = klp(
        &t,
        &[
            "wait",
            "test_klp_callbacks_demo",
            "--timeout",
            "0.2",
            "--json",
        ],
    );
    assert_eq!(r.code, 3);
    let v = json(&r.out);
    assert_eq!(v["error"]["kind"], "timeout");
    // The blockers, structured as `klp blockers --json` gives them.
    let blockers = v["error"]["blockers"].as_array().expect("a blockers array");
    assert_eq!(blockers.len(), 1, "{blockers:?}");
    assert_eq!(blockers[0]["comm"], "kworker/1:2");
    assert_eq!(blockers[0]["pid"], 77);
    assert_eq!(blockers[0]["in_patched_code"], true);
}

#[test]
fn wait_returns_when_the_transition_ends() {
    let (_d, t) = tree();
    busy_scene(&t);
    let root = t.root().to_path_buf();
    let h = thread::spawn(move || {
        let t = FakeTree::at(&root);
        sleep(Duration::from_millis(400));
        t.set_task_state(77, 77, 1);
        // The tasks are scanned once a second: at 0 s and 1 s here.
        sleep(Duration::from_millis(1200));
        t.set("kernel/livepatch/test_klp_callbacks_demo/transition", "0");
    });
    let r = klp(&t, &["wait", "test_klp_callbacks_demo", "--timeout", "20"]);
    h.join().unwrap();
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        r.out,
        "test_klp_callbacks_demo: transition complete (applied)\n"
    );
    has(&r.err, "1 task remaining");
    has(&r.err, "0 tasks remaining");
}

#[test]
fn wait_without_a_transition_returns_at_once() {
    let (_d, t) = tree();
    t.patch("p", true, false);
    let r = klp(&t, &["wait", "p", "--json"]);
    assert_eq!(r.code, 0);
    let v = json(&r.out);
    assert_eq!(v["state"], "applied");
    assert_eq!(v["action"], "wait");
    assert_eq!(klp(&t, &["wait", "q"]).code, 4);
}

// ------------------------------------------------------------ enable / disable

#[test]
fn disable_writes_0_and_enable_explains_einval() {
    let (_d, t) = tree();
    t.patch("p", true, false).object("vmlinux", true, &["f,1"]);
    let r = klp(&t, &["disable", "p"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(t.get("kernel/livepatch/p/enabled"), "0");
    assert_eq!(r.out, "p: disabled\n");

    let r = klp(&t, &["disable", "p"]);
    assert_eq!(
        (r.code, r.out.as_str()),
        (0, "p: already disabled (disabled)\n")
    );

    // 6.12: enabled=1 on a disabled patch is EINVAL.
    t.fail("kernel/livepatch/p/enabled", "EINVAL");
    let r = klp(&t, &["enable", "p"]);
    assert_eq!(r.code, 1);
    has(&r.err, "Invalid argument (EINVAL)");
    has(&r.err, "a disabled patch cannot be re-enabled");
    assert_eq!(t.get("kernel/livepatch/p/enabled"), "0");
}

#[test]
fn enable_and_disable_report_ebusy_unknown_and_not_root() {
    let (_d, t) = tree();
    t.patch("p", true, false);
    t.fail("kernel/livepatch/p/enabled", "EBUSY");
    let r = klp(&t, &["disable", "p"]);
    assert_eq!(r.code, 5, "{}", r.err);
    has(&r.err, "Device or resource busy (EBUSY)");

    assert_eq!(klp(&t, &["enable", "nope"]).code, 4);
    assert_eq!(klp(&t, &["disable", "nope"]).code, 4);

    let r = klp(&t, &["enable", "p"]);
    assert_eq!(
        (r.code, r.out.as_str()),
        (0, "p: already enabled (applied)\n")
    );

    t.not_root();
    let r = klp(&t, &["disable", "p"]);
    assert_eq!(r.code, 6);
    has(&r.err, "requires root");
    // Reading needs no root.
    assert_eq!(klp(&t, &["list"]).code, 0);
}

#[test]
fn disable_refuses_while_another_transition_runs() {
    let (_d, t) = tree();
    busy_scene(&t);
    t.patch("p", true, false);
    let r = klp(&t, &["disable", "p"]);
    assert_eq!(r.code, 5);
    has(
        &r.err,
        "transition of 'test_klp_callbacks_demo' is still running",
    );
    assert_eq!(t.get("kernel/livepatch/p/enabled"), "1");
}

#[test]
fn disable_waits_for_the_transition_and_times_out() {
    let (_d, t) = tree();
    busy_scene(&t);
    // Reverse the stalled patching transition; unpatching stalls on the
    // tasks already patched until the fake kernel completes it.
    let r = klp(
        &t,
        &["disable", "test_klp_callbacks_demo", "--timeout", "0.3"],
    );
    assert_eq!(r.code, 3, "{}", r.err);
    has(&r.err, "reversing the patching transition");
    has(&r.err, "unpatching transition of 'test_klp_callbacks_demo'");
    has(&r.err, "pid 1 tid 1 systemd");
    assert_eq!(
        t.get("kernel/livepatch/test_klp_callbacks_demo/enabled"),
        "0"
    );

    let dir = t.path("kernel/livepatch/test_klp_callbacks_demo");
    let d2 = dir.clone();
    let h = when(
        move || d2.join("enabled").exists(),
        move || {
            sleep(Duration::from_millis(300));
            std::fs::remove_dir_all(dir).unwrap(); // freed after unpatching
        },
    );
    let r = klp(&t, &["disable", "test_klp_callbacks_demo", "--json"]);
    assert!(h.join().unwrap());
    assert_eq!(r.code, 0, "{}", r.err);
    let v = json(&r.out);
    assert_eq!(v["state"], "removed");
}

#[test]
fn enable_no_wait_returns_during_the_transition() {
    let (_d, t) = tree();
    busy_scene(&t);
    t.set("kernel/livepatch/test_klp_callbacks_demo/enabled", "0");
    let r = klp(&t, &["enable", "test_klp_callbacks_demo", "--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.out, "patching (not waiting");
}

// ------------------------------------------------------------ load

#[test]
fn load_loads_a_livepatch_module_and_waits() {
    let (_d, t) = tree();
    let ko = t.module_file(
        "test_klp_livepatch.ko",
        &["livepatch=Y", "name=test_klp_livepatch", "license=GPL"],
    );
    t.staged_patch("test_klp_livepatch", true, true).object(
        "vmlinux",
        true,
        &["cmdline_proc_show,1"],
    );
    t.task(1, 1, "init", 0, &[]);
    let tp = t.path("kernel/livepatch/test_klp_livepatch/transition");
    let tp2 = tp.clone();
    let root = t.root().to_path_buf();
    let h = when(
        move || tp2.exists(),
        move || {
            sleep(Duration::from_millis(500));
            FakeTree::at(&root).set_task_state(1, 1, 1);
            sleep(Duration::from_millis(200));
            std::fs::write(tp, "0\n").unwrap();
        },
    );
    let r = klp(&t, &["load", ko.to_str().unwrap(), "--timeout", "20"]);
    assert!(h.join().unwrap());
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, "test_klp_livepatch: applied\n");
    has(&r.err, "klp: loaded 'test_klp_livepatch'");
    has(&r.err, "patching 'test_klp_livepatch': 1 task remaining");
    assert!(
        t.calls().contains("finit_module test_klp_livepatch"),
        "{}",
        t.calls()
    );
    let v = json(&klp(&t, &["list", "--json"]).out);
    assert_eq!(v["patches"][0]["name"], "test_klp_livepatch");

    // A second load of the same patch is idempotent (kpatch's rule, for automation): exit 0,
    // no second finit_module.
    let calls = t.calls();
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, "test_klp_livepatch: already loaded, applied\n");
    assert_eq!(t.calls(), calls);
    // A loaded but disabled patch cannot be enabled again: an error that says what to do.
    t.set("kernel/livepatch/test_klp_livepatch/enabled", "0");
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    has(&r.err, "loaded but disabled");
    has(&r.err, "klp unload test_klp_livepatch");
}

#[test]
fn load_times_out_or_returns_early_with_no_wait() {
    let (_d, t) = tree();
    let ko = t.module_file("lp.ko", &["livepatch=Y", "name=lp"]);
    t.staged_patch("lp", true, true)
        .object("vmlinux", true, &["f,1"]);
    t.task(5, 6, "stuck", 0, &["[<0>] f+0x1/0x10"]);
    let r = klp(&t, &["load", ko.to_str().unwrap(), "--timeout", "0.3"]);
    assert_eq!(r.code, 3, "{}", r.err);
    has(&r.err, "module 'lp' loaded, but timed out");
    has(
        &r.err,
        "pid 5 tid 6 stuck: in f+0x1/0x10 (patched function f (vmlinux))",
    );

    let (_d2, t2) = tree();
    let ko = t2.module_file("lp.ko", &["livepatch=Y", "name=lp"]);
    t2.staged_patch("lp", true, true);
    let r = klp(&t2, &["load", ko.to_str().unwrap(), "--no-wait", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(json(&r.out)["state"], "patching");
}

#[test]
fn load_rejects_what_is_not_a_livepatch_module() {
    let (_d, t) = tree();
    let plain = t.module_file("plain.ko", &["name=plain", "license=GPL"]);
    let r = klp(&t, &["load", plain.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    has(&r.err, "not a livepatch module");

    let script = t.root().join("notelf.ko");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let r = klp(&t, &["load", script.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    has(&r.err, "not an ELF file");

    let r = klp(&t, &["load", t.root().join("missing.ko").to_str().unwrap()]);
    assert_eq!(r.code, 4);
    has(&r.err, "No such file or directory (ENOENT)");

    assert!(t.calls().is_empty(), "nothing may be loaded: {}", t.calls());
}

#[test]
fn load_reports_busy_and_permission() {
    let (_d, t) = tree();
    let ko = t.module_file("lp.ko", &["livepatch=Y", "name=lp"]);

    // The kernel says EBUSY (klp_enable_patch while a transition runs).
    t.fail(".klp-fake/finit_module", "EBUSY");
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 5, "{}", r.err);
    has(&r.err, "another livepatch transition is running");
    std::fs::remove_file(t.path(".klp-fake/finit_module.klp-fail")).unwrap();

    // klp sees the running transition itself and does not try.
    busy_scene(&t);
    let before = t.calls();
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert_eq!(t.calls(), before);

    t.not_root();
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 6, "{}", r.err);
}

// ------------------------------------------------------------ unload

#[test]
fn unload_disables_then_deletes_the_module() {
    let (_d, t) = tree();
    t.patch("lp", true, false).object("vmlinux", true, &["f,1"]);
    t.module("lp", 0, true);
    let r = klp(&t, &["unload", "lp"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, "lp: unloaded\n");
    let calls = t.calls();
    let write = calls.find("/lp/enabled 0").expect(&calls);
    let delete = calls.find("delete_module lp").expect(&calls);
    assert!(write < delete, "{calls}");
    assert!(!t.path("module/lp").exists());
    assert!(!t.path("kernel/livepatch/lp").exists());
}

#[test]
fn unload_of_a_freed_patch_whose_module_remains() {
    let (_d, t) = tree();
    t.module("lp", 0, true);
    t.module("ordinary", 0, false);
    let r = klp(&t, &["unload", "lp", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(json(&r.out)["state"], "unloaded");
    assert!(!t.calls().contains("write"), "{}", t.calls());

    let r = klp(&t, &["unload", "ordinary"]);
    assert_eq!(r.code, 1);
    has(&r.err, "not a livepatch module");
    assert!(t.path("module/ordinary").exists());

    let r = klp(&t, &["unload", "nothing"]);
    assert_eq!(r.code, 4);
}

#[test]
fn unload_times_out_while_the_module_stays_in_use() {
    let (_d, t) = tree();
    t.patch("lp", false, false);
    t.module("lp", 1, true); // a forced patch keeps its reference
    let r = klp(&t, &["unload", "lp", "--timeout", "0.3"]);
    assert_eq!(r.code, 3, "{}", r.err);
    has(&r.err, "still in use (refcnt 1)");
    has(&r.err, "forced");
    assert!(t.path("module/lp").exists());
}

// ------------------------------------------------------------ force

#[test]
fn force_asks_explains_and_writes_force() {
    let (_d, t) = tree();
    busy_scene(&t);
    let force = t.path("kernel/livepatch/test_klp_callbacks_demo/force");

    let r = klp_in(&t, &["force", "test_klp_callbacks_demo"], "n\n");
    assert_eq!(r.code, 1);
    has(&r.err, "consistency model");
    has(&r.err, "old and new code mixed");
    has(&r.err, "can never be removed");
    assert_eq!(std::fs::read_to_string(&force).unwrap(), "");

    // Confirmed on stdin; the fake kernel then completes the transition.
    let f2 = force.clone();
    let tr = t.path("kernel/livepatch/test_klp_callbacks_demo/transition");
    let h = when(
        move || {
            std::fs::read_to_string(&f2)
                .map(|s| s.trim() == "1")
                .unwrap_or(false)
        },
        move || std::fs::write(tr, "0\n").unwrap(),
    );
    let r = klp_in(
        &t,
        &["force", "test_klp_callbacks_demo", "--timeout", "20"],
        "yes\n",
    );
    assert!(h.join().unwrap());
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, "test_klp_callbacks_demo: applied\n");
}

#[test]
fn force_with_yes_and_when_nothing_to_force() {
    let (_d, t) = tree();
    busy_scene(&t);
    let r = klp(
        &t,
        &["force", "test_klp_callbacks_demo", "--yes", "--no-wait"],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.err, "WARNING");
    assert_eq!(t.get("kernel/livepatch/test_klp_callbacks_demo/force"), "1");

    t.patch("idle", true, false);
    let r = klp(&t, &["force", "idle", "--yes"]);
    assert_eq!(r.code, 1);
    has(&r.err, "nothing to force");
    assert_eq!(klp(&t, &["force", "ghost", "--yes"]).code, 4);
}

#[test]
fn the_fake_kernel_is_an_explicit_hidden_switch() {
    // The roots do not choose the fake kernel: a container's --sysfs-root is the real one.
    assert!(klp::model::Env::new("/host/sys", "/host/proc", true).live);
    let (_d, t) = tree();
    assert!(!t.env().live);
    let help = Command::new(env!("CARGO_BIN_EXE_klp"))
        .args(["unload", "--help"])
        .output()
        .expect("run klp");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Usage"), "{help}");
    for hook in ["--sysfs-root", "--proc-root", "--fake-kernel"] {
        assert!(!help.contains(hook), "{hook} in the user's help: {help}");
    }
}

#[test]
fn wait_scans_the_tasks_at_most_once_a_second() {
    let (_d, t) = tree();
    busy_scene(&t);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let sysfs = t.sysfs();
    let proc = t.proc();
    let args = [
        "klp".as_ref(),
        "--fake-kernel".as_ref(),
        "--sysfs-root".as_ref(),
        sysfs.as_os_str(),
        "--proc-root".as_ref(),
        proc.as_os_str(),
        "wait".as_ref(),
        "test_klp_callbacks_demo".as_ref(),
        "--timeout".as_ref(),
        "0.8".as_ref(),
    ];
    // tty: the progress line is redrawn after each scan of the tasks.
    let code = klp::main_with(args, &mut "".as_bytes(), &mut out, &mut err, true);
    assert_eq!(code, 3);
    let err = String::from_utf8_lossy(&err);
    // One scan at the start, one at the timeout; polling every 100 ms
    // reads only the transition attribute.
    assert_eq!(err.matches("\r\x1b[K").count(), 2, "{err:?}");
}

#[test]
fn load_names_errnos_outside_a_hand_written_table() {
    let (_d, t) = tree();
    let ko = t.module_file("lp.ko", &["livepatch=Y", "name=lp"]);
    t.fail(".klp-fake/finit_module", "ENOKEY");
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.err);
    has(&r.err, "(ENOKEY)");
    assert!(!r.err.contains("errno 126"), "{}", r.err);
}

// ------------------------------------------------------------ usage

#[test]
fn usage_errors_print_json_when_asked() {
    let (_d, t) = tree();
    for args in [
        &["--json", "unload"][..],
        &["load", "--json", "--timeout", "soon", "x.ko"],
        &["--json", "frobnicate"],
    ] {
        let r = klp(&t, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.err);
        let v = json(&r.out);
        assert_eq!(v["schema_version"], 1, "{args:?}");
        assert_eq!(v["error"]["kind"], "usage", "{args:?}");
        assert_eq!(v["error"]["exit_code"], 2, "{args:?}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && !message.starts_with("error:"),
            "{message}"
        );
        has(&r.err, message);
    }
    // Without --json, stdout stays empty.
    let r = klp(&t, &["unload"]);
    assert_eq!((r.code, r.out.as_str()), (2, ""));
}

#[test]
fn every_argument_has_a_description() {
    let (_d, t) = tree();
    for verb in verbs() {
        let r = klp(&t, &[&verb, "--help"]);
        assert_eq!(r.code, 0, "{verb}");
        let args = r.out.split("Arguments:").nth(1).unwrap_or("");
        let args = args.split("Options:").next().unwrap();
        // `<NAME>  help` on one line, or (long help) the help on the next line.
        let lines: Vec<&str> = args.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with('<') {
                continue;
            }
            let (name, help) = line.trim().split_once('>').unwrap();
            let next = lines.get(i + 1).map_or("", |l| l.trim());
            let described = !help.trim().is_empty() || !(next.is_empty() || next.starts_with('<'));
            assert!(described, "{verb}: {name}> has no description");
        }
    }
}

#[test]
fn one_malformed_patch_does_not_hide_the_others() {
    let (_d, t) = tree();
    t.patch("good", true, false)
        .object("vmlinux", true, &["cmdline_proc_show,1"]);
    t.patch("bad", true, false).object("vmlinux", true, &[]);
    t.set("kernel/livepatch/bad/enabled", "maybe");
    let r = klp(&t, &["list"]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.out, "good  enabled=1");
    has(&r.out, "bad  unreadable:");
    has(&r.err, "cannot read patch 'bad'");
    let v = json(&klp(&t, &["list", "--json"]).out);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["patches"][0]["name"], "good");
    assert_eq!(v["unreadable"][0]["name"], "bad");
    has(v["unreadable"][0]["message"].as_str().unwrap(), "maybe");
}

#[test]
fn every_json_document_has_the_schema_version() {
    let (_d, t) = tree();
    busy_scene(&t);
    for args in [
        &["list", "--json"][..],
        &["status", "--json"],
        &["status", "test_klp_callbacks_demo", "--json"],
        &["blockers", "test_klp_callbacks_demo", "--json"],
    ] {
        let v = json(&klp(&t, args).out);
        assert_eq!(v["schema_version"], 1, "{args:?}");
    }
}

#[test]
fn a_refused_load_quotes_what_the_kernel_said() {
    let (_d, t) = tree();
    let ko = t.module_file("lp.ko", &["livepatch=Y", "name=lp"]);
    std::fs::create_dir_all(t.path(".klp-fake")).unwrap();
    // An older message, logged before the load: not quoted.
    std::fs::write(t.path(".klp-fake/kmsg"), "livepatch: an old line\n").unwrap();
    std::fs::write(
        t.path(".klp-fake/finit_module.kmsg"),
        "usb 1-1: new device\n\
         livepatch: symbol 'nope' not found in symbol table\n\
         livepatch: failed to initialize patch 'lp' for module 'vmlinux' (-22)\n",
    )
    .unwrap();
    t.fail(".klp-fake/finit_module", "EINVAL");
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.err);
    has(
        &r.err,
        "the kernel said:\n  livepatch: symbol 'nope' not found in symbol table\n  \
         livepatch: failed to initialize patch 'lp'",
    );
    assert!(
        !r.err.contains("old line") && !r.err.contains("usb"),
        "{}",
        r.err
    );

    // ENOENT from the module loader is an unknown symbol, not an unknown file.
    t.fail(".klp-fake/finit_module", "ENOENT");
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.err);
    has(&r.err, "a symbol it needs is unknown");
    assert!(!r.err.contains("not found:"), "{}", r.err);
}

#[test]
fn load_on_timeout_revert_reverses_and_removes_the_patch() {
    let (_d, t) = tree();
    let ko = t.module_file("lp.ko", &["livepatch=Y", "name=lp"]);
    t.staged_patch("lp", true, true)
        .object("vmlinux", true, &["f,1"]);
    t.task(5, 6, "stuck", 0, &["[<0>] f+0x1/0x10"]);
    // The kernel: the reversed transition completes and the patch is freed.
    let dir = t.path("kernel/livepatch/lp");
    let enabled = dir.join("enabled");
    let h = when(
        move || std::fs::read_to_string(&enabled).is_ok_and(|s| s.trim() == "0"),
        move || std::fs::remove_dir_all(dir).unwrap(),
    );
    let r = klp(
        &t,
        &[
            "load",
            ko.to_str().unwrap(),
            "--timeout",
            "0.3",
            "--on-timeout",
            "revert",
        ],
    );
    assert!(h.join().unwrap(), "klp never reversed the transition");
    assert_eq!(r.code, 3, "{}", r.err);
    has(&r.err, "reverted (--on-timeout=revert)");
    has(&r.err, "module 'lp' removed");
    has(&r.err, "pid 5 tid 6 stuck");
    assert!(t.calls().contains("delete_module lp"), "{}", t.calls());
    assert!(!t.path("module/lp").exists());

    // The default leaves the patch loading.
    let (_d2, t2) = tree();
    let ko = t2.module_file("lp.ko", &["livepatch=Y", "name=lp"]);
    t2.staged_patch("lp", true, true);
    t2.task(5, 6, "stuck", 0, &[]);
    let r = klp(&t2, &["load", ko.to_str().unwrap(), "--timeout", "0.2"]);
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(!t2.calls().contains("delete_module"), "{}", t2.calls());
    assert!(t2.path("kernel/livepatch/lp").exists());
}

// ------------------------------------------------------------ install

/// The fake kernel runs release `release`.
fn running(t: &FakeTree, release: &str) {
    let p = t.proc().join("sys/kernel");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("osrelease"), format!("{release}\n")).unwrap();
}

#[test]
fn install_then_load_by_name_and_all_then_unload_all() {
    let (_d, t) = tree();
    running(&t, "6.12.118");
    let vm = "vermagic=6.12.118 SMP preempt mod_unload ";
    let a = t.module_file("a.ko", &["livepatch=Y", "name=lp_a", vm]);
    let b = t.module_file("b.ko", &["livepatch=Y", "name=lp_b", vm]);
    let other = t.module_file(
        "old.ko",
        &[
            "livepatch=Y",
            "name=lp_old",
            "vermagic=6.1.0 SMP mod_unload ",
        ],
    );
    for f in [&a, &b] {
        let r = klp(&t, &["install", f.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.err);
    }
    has(
        &klp(&t, &["install", b.to_str().unwrap()]).out,
        "lp_b: installed for 6.12.118",
    );
    let dir = t.root().join("var/lib/klp/6.12.118");
    assert!(dir.join("lp_a.ko").is_file() && dir.join("lp_b.ko").is_file());

    // A module for another kernel is refused, and nothing is written.
    let r = klp(&t, &["install", other.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    has(&r.err, "built for kernel '6.1.0', not '6.12.118'");
    assert!(!dir.join("lp_old.ko").exists());
    // -k installs it for its own release.
    let r = klp(&t, &["install", "-k", "6.1.0", other.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(t.root().join("var/lib/klp/6.1.0/lp_old.ko").is_file());

    // load NAME finds the installed module; load --all loads the rest and is idempotent.
    let r = klp(&t, &["load", "lp-a"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(t.calls().contains("finit_module lp_a"), "{}", t.calls());
    let r = klp(&t, &["load", "--all"]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.out, "lp_a: already loaded, applied");
    has(&r.out, "lp_b: applied");
    assert!(!t.calls().contains("lp_old"), "{}", t.calls());
    let r = klp(&t, &["load", "nope"]);
    assert_eq!(r.code, 4);
    has(&r.err, "no livepatch 'nope' installed for this kernel");

    // unload --all removes every patch.
    let r = klp(&t, &["unload", "--all"]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.out, "lp_a: unloaded");
    has(&r.out, "lp_b: unloaded");
    assert!(!t.path("kernel/livepatch/lp_a").exists() && !t.path("kernel/livepatch/lp_b").exists());

    // uninstall removes the file only.
    let r = klp(&t, &["uninstall", "lp_a"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!dir.join("lp_a.ko").exists() && dir.join("lp_b.ko").exists());
    let r = klp(&t, &["uninstall", "lp_a"]);
    assert_eq!(r.code, 4);
    // load --all with nothing installed for the kernel does nothing.
    running(&t, "6.13.0");
    let r = klp(&t, &["load", "--all"]);
    assert_eq!((r.code, r.out.as_str()), (0, ""), "{}", r.err);
}

#[test]
fn replaced_modules_are_listed_and_unloaded_by_unload_all() {
    let (_d, t) = tree();
    t.patch("lp_new", true, false).object("vmlinux", true, &[]);
    t.module("lp_new", 0, true);
    // lp_old was replaced by lp_new: its patch is freed, its module is still loaded.
    t.module("lp_old", 0, true);
    let r = klp(&t, &["list"]);
    has(&r.out, "lp_old  module loaded, patch replaced or disabled");
    assert_eq!(
        json(&klp(&t, &["list", "--json"]).out)["orphan_modules"][0],
        "lp_old"
    );
    let r = klp(&t, &["unload", "--all"]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.out, "lp_old: unloaded");
    assert!(t.calls().contains("delete_module lp_old"), "{}", t.calls());
    assert!(!t.path("module/lp_old").exists());
}

// ------------------------------------------------------------ info

#[test]
fn info_shows_modinfo_kernel_match_and_what_is_patched() {
    let (_d, t) = tree();
    running(&t, "6.8.0-klp");
    let ko = t.root().join("livepatch-sample.ko");
    std::fs::write(&ko, livepatch_elf(object::Architecture::X86_64)).unwrap();
    let r = klp(&t, &["info", ko.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    for line in [
        "name:       livepatch_sample\n",
        "livepatch:  yes\n",
        "license:    GPL\n",
        "vermagic:   6.8.0-klp SMP preempt mod_unload\n",
        "kernel:     6.8.0-klp (matches vermagic)\n",
        "depends:    (none)\n",
        "srcversion: 0123456789ABCDEF012345\n",
        "signature:  none\n",
        "objects:\n  vmlinux\n    cmdline_proc_show,1 -> livepatch_cmdline_proc_show\n    \
         meminfo_proc_show,1 -> livepatch_meminfo_proc_show\n  test_klp_mod\n    \
         mod_func,2 -> livepatch_mod_func\n  test_klp_other\n    (no klp_func entries found)\n",
        "klp relocations against: test_klp_mod\n",
    ] {
        has(&r.out, line);
    }
}

#[test]
fn info_json_with_a_signature_and_another_kernel() {
    let (_d, t) = tree();
    running(&t, "6.9.1");
    let ko = t.root().join("lp.ko");
    let mut b = livepatch_elf(object::Architecture::I386);
    b.extend(b"\x01\x02signature bytes~Module signature appended~\n");
    std::fs::write(&ko, b).unwrap();
    let r = klp(&t, &["info", ko.to_str().unwrap()]);
    has(&r.out, "signature:  appended\n");
    has(
        &r.out,
        "kernel:     6.9.1 (differs: the module is built for 6.8.0-klp; the kernel refuses it)",
    );
    let r = klp(&t, &["info", "--json", ko.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v = json(&r.out);
    assert_eq!(v["name"], "livepatch_sample");
    assert_eq!(v["livepatch"], true);
    assert_eq!(v["kernel_release"], "6.9.1");
    assert_eq!(v["vermagic_matches"], false);
    assert_eq!(v["signature_appended"], true);
    assert_eq!(v["depends"].as_array().unwrap().len(), 0);
    assert_eq!(v["objects"][1]["name"], "test_klp_mod");
    assert_eq!(v["objects"][1]["functions"][0]["name"], "mod_func");
    assert_eq!(v["objects"][1]["functions"][0]["sympos"], 2);
    assert_eq!(v["objects"][0]["functions"].as_array().unwrap().len(), 2);
    assert_eq!(v["objects_unknown"], serde_json::Value::Null);
    assert_eq!(v["klp_relocation_objects"][0], "test_klp_mod");
}

#[test]
fn info_says_what_it_cannot_determine() {
    let (_d, t) = tree();
    // No osrelease in the fake procfs; a livepatch=Y module without klp structures.
    let ko = t.module_file("bare.ko", &["livepatch=Y", "depends=a,b"]);
    let r = klp(&t, &["info", ko.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.out, "name:       (not in .modinfo)\n");
    has(&r.out, "depends:    a,b\n");
    has(&r.out, "kernel:     unknown (");
    has(
        &r.out,
        "sys/kernel/osrelease: No such file or directory (ENOENT))",
    );
    has(
        &r.out,
        "objects:    could not be determined (no struct klp_patch found",
    );
    let v = json(&klp(&t, &["info", "--json", ko.to_str().unwrap()]).out);
    assert_eq!(v["objects"], serde_json::Value::Null);
    assert_eq!(v["vermagic_matches"], serde_json::Value::Null);

    let plain = t.module_file("plain.ko", &["name=plain", "license=GPL"]);
    let r = klp(&t, &["info", plain.to_str().unwrap()]);
    has(&r.out, "livepatch:  no (no livepatch=Y)\n");
    has(&r.out, "objects:    none (not a livepatch module)\n");
}

#[test]
fn info_refuses_what_it_cannot_read() {
    let (_d, t) = tree();
    let zst = t.root().join("lp.ko.zst");
    std::fs::write(&zst, [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]).unwrap();
    let r = klp(&t, &["info", zst.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    has(
        &r.err,
        "lp.ko.zst: a zstd-compressed module: decompress it first",
    );
    let r = klp(
        &t,
        &["info", "--json", t.root().join("none.ko").to_str().unwrap()],
    );
    assert_eq!(r.code, 4);
    assert_eq!(json(&r.out)["error"]["kind"], "not_found");
}

// ------------------------------------------------------------ generate

#[test]
fn the_man_page_and_completions_name_every_verb() {
    let (_d, t) = tree();
    let man = klp(&t, &["generate", "man"]);
    assert_eq!(man.code, 0, "{}", man.err);
    has(&man.out, ".TH klp 1");
    has(&man.out, "Exit codes:");
    let bash = klp(&t, &["generate", "bash"]);
    assert_eq!(bash.code, 0, "{}", bash.err);
    has(&bash.out, "complete -F _klp");
    let zsh = klp(&t, &["generate", "zsh"]);
    has(&zsh.out, "#compdef klp");
    let fish = klp(&t, &["generate", "fish"]);
    has(&fish.out, "complete -c klp");
    for verb in verbs() {
        has(&man.out, &format!("klp\\-{verb}(1)"));
        has(&bash.out, &format!("cmd=\"klp__subcmd__{verb}\""));
        has(&zsh.out, &format!("'{verb}:"));
        has(&fish.out, &format!("-a \"{verb}\""));
    }
}

#[test]
fn man_pages_for_every_verb_go_to_a_directory() {
    let (d, t) = tree();
    let dir = d.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let r = klp(&t, &["generate", "man", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, "");
    for verb in verbs() {
        let page = std::fs::read_to_string(dir.join(format!("klp-{verb}.1"))).unwrap();
        has(&page, &format!(".TH klp-{verb} 1"));
    }
    has(
        &std::fs::read_to_string(dir.join("klp-load.1")).unwrap(),
        "\\-\\-no\\-wait",
    );
    assert!(dir.join("klp.1").exists());

    let r = klp(&t, &["generate", "man", "--out-dir", "/nonexistent/man1"]);
    assert_eq!(r.code, 4, "{}", r.err);
    has(
        &r.err,
        "writing the man pages to /nonexistent/man1: No such file or directory",
    );
}

// ------------------------------------------------------------ compressed modules

#[test]
fn load_passes_compressed_modules_to_the_kernel() {
    let (_d, t) = tree();
    let zst = t.root().join("test-klp-zst.ko.zst");
    std::fs::write(&zst, [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]).unwrap();
    t.staged_patch("test_klp_zst", true, false)
        .object("vmlinux", true, &["f,1"]);
    let r = klp(&t, &["load", zst.to_str().unwrap(), "a=1"]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(
        &r.err,
        "test-klp-zst.ko.zst is zstd-compressed: the kernel decompresses it",
    );
    has(&r.err, "loaded as 'test_klp_zst' (its file name)");
    has(
        &t.calls(),
        "finit_module MODULE_INIT_COMPRESSED_FILE test_klp_zst a=1\n",
    );
    has(&r.out, "test_klp_zst: applied");

    // A plain module is loaded without the flag.
    let ko = t.module_file("lp.ko", &["livepatch=Y", "name=lp"]);
    assert_eq!(klp(&t, &["load", ko.to_str().unwrap()]).code, 0);
    has(&t.calls(), "finit_module lp\n");
}

#[test]
fn load_explains_a_kernel_that_cannot_decompress() {
    let (_d, t) = tree();
    for (file, magic) in [
        ("lp.ko.xz", &[0xfd, b'7', b'z', b'X', b'Z', 0][..]),
        ("lp.ko.gz", &[0x1f, 0x8b, 8, 0]),
    ] {
        let path = t.root().join(file);
        std::fs::write(&path, magic).unwrap();
        t.fail(".klp-fake/finit_module", "EOPNOTSUPP");
        let r = klp(&t, &["load", path.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{}", r.err);
        has(
            &r.err,
            "(EOPNOTSUPP): this kernel cannot decompress modules (CONFIG_MODULE_DECOMPRESS); \
             decompress the file and load the .ko",
        );
        t.fail(".klp-fake/finit_module", "EINVAL");
        let r = klp(&t, &["load", path.to_str().unwrap()]);
        has(&r.err, "kernels before 5.17 cannot load compressed modules");
    }
    // A plain module's EINVAL says nothing of compression.
    let ko = t.module_file("plain-lp.ko", &["livepatch=Y"]);
    let r = klp(&t, &["load", ko.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(!r.err.contains("compressed"), "{}", r.err);
}

#[test]
fn json_keeps_the_documented_field_order() {
    let (_d, t) = tree();
    busy_scene(&t);
    let r = klp(&t, &["blockers", "test_klp_callbacks_demo", "--json"]);
    let at = |k: &str| {
        r.out
            .find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k}: {}", r.out))
    };
    assert!(at("pid") < at("tid") && at("tid") < at("comm"), "{}", r.out);
    assert!(r.out.contains("\"tid\": 77,"), "{}", r.out);
}

#[test]
fn list_shows_which_patch_runs_each_function() {
    let (_d, t) = tree();
    t.patch("lp1", true, false)
        .object("vmlinux", true, &["f,1", "g,1"]);
    t.patch("lp2", true, false)
        .object("vmlinux", true, &["f,1"]);
    t.set("kernel/livepatch/lp1/stack_order", "1");
    t.set("kernel/livepatch/lp2/stack_order", "2");
    let r = klp(&t, &["list"]);
    assert_eq!(r.code, 0, "{}", r.err);
    has(&r.out, "    f,1  (overridden by lp2)\n    g,1\n");
    assert!(!r.out.contains("f,1  (overridden by lp1)"), "{}", r.out);
    let v = json(&klp(&t, &["list", "--json"]).out);
    assert_eq!(
        v["overridden"],
        serde_json::json!([{"patch": "lp1", "object": "vmlinux", "function": "f", "sympos": 1, "by": "lp2"}])
    );
    // The order is stack_order's, not the names'.
    t.set("kernel/livepatch/lp1/stack_order", "3");
    has(&klp(&t, &["list"]).out, "lp2  enabled=1");
    assert_eq!(
        json(&klp(&t, &["list", "--json"]).out)["overridden"][0]["by"],
        "lp1"
    );
}
