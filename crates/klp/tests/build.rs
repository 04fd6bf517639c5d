// SPDX-License-Identifier: GPL-2.0
//! End to end: `klp build --dry-run` on a small source tree and a build
//! directory whose `.cmd` files, as kbuild writes them, compile with the host's `cc`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEMO_C: &str = r#"#include "demo.h"

int puts(const char *);
int limit = 10;

int __attribute__((noinline)) show(void)
{
	return puts(DEMO_GREETING);
}

int __attribute__((noinline)) clamp(int x)
{
	return x > limit ? limit : x;
}
"#;

struct Tree {
    _dir: tempfile::TempDir,
    src: PathBuf,
    build: PathBuf,
    patch: PathBuf,
}

/// `src/fs/demo.c` (with a local header), built in `build/` (O=) as kbuild would.
fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (src, build) = (root.join("src"), root.join("build"));
    fs::create_dir_all(src.join("fs")).unwrap();
    fs::create_dir_all(build.join("fs")).unwrap();
    fs::write(src.join("fs/demo.c"), DEMO_C).unwrap();
    fs::write(src.join("fs/demo.h"), "#define DEMO_GREETING \"hello\"\n").unwrap();
    fs::write(src.join("fs/other.c"), "int other;\n").unwrap();
    let s = src.display();
    fs::write(
        build.join("fs/.demo.o.cmd"),
        format!(
            "savedcmd_fs/demo.o := cc -Wp,-MMD,fs/.demo.o.d -O2 -DKBUILD_BASENAME='\"demo\"' \
             -I{s}/fs -Ifs -c -o fs/demo.o {s}/fs/demo.c\n\n\
             source_fs/demo.o := {s}/fs/demo.c\n\n\
             deps_fs/demo.o := \\\n  {s}/fs/demo.h \\\n"
        ),
    )
    .unwrap();
    // What kbuild leaves beside it: the object, and the compiler's version in .config.
    let built = Command::new("cc")
        .args(["-O2", "-c", "-o", "fs/demo.o"])
        .arg(src.join("fs/demo.c"))
        .current_dir(&build)
        .status()
        .unwrap();
    assert!(built.success());
    fs::write(
        build.join(".config"),
        format!("CONFIG_CC_VERSION_TEXT=\"{}\"\n", cc_version()),
    )
    .unwrap();
    Tree {
        patch: root.join("fix.diff"),
        _dir: dir,
        src,
        build,
    }
}

/// The first line of `cc --version`, as kbuild's CONFIG_CC_VERSION_TEXT.
fn cc_version() -> String {
    let o = Command::new("cc").arg("--version").output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string()
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn klp_build(t: &Tree, diff: &str, extra: &[&str]) -> Run {
    fs::write(&t.patch, diff).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_klp"))
        .arg("build")
        .arg("--src")
        .arg(&t.src)
        .arg("--build")
        .arg(&t.build)
        .args(extra)
        // Relative to klp's working directory, not to the copies that patch works in.
        .arg("fix.diff")
        .current_dir(t.patch.parent().unwrap())
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap(),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Every file under `dir`, with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                files.insert(p.clone(), fs::read(&p).unwrap());
            }
        }
    }
    files
}

const CHANGE_SHOW: &str = "\
--- a/fs/demo.c
+++ b/fs/demo.c
@@ -6,6 +6,6 @@ int limit = 10;
 int __attribute__((noinline)) show(void)
 {
-\treturn puts(DEMO_GREETING);
+\treturn puts(DEMO_GREETING \", patched\");
 }
 
 int __attribute__((noinline)) clamp(int x)
";

#[test]
fn a_changed_function_is_reported_and_nothing_is_written_to_the_trees() {
    let t = tree();
    let (src, build) = (snapshot(&t.src), snapshot(&t.build));
    let r = klp_build(&t, CHANGE_SHOW, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        r.out,
        "fs/demo.c (fs/demo.o):\n  changed  show\n\
         dry run: 1 changed, 0 new, 0 removed functions; \
         no patch module generated\n"
    );
    assert!(r.err.contains("compiling fs/demo.c"), "{}", r.err);
    assert_eq!(snapshot(&t.src), src, "the source tree was written to");
    assert_eq!(
        snapshot(&t.build),
        build,
        "the build directory was written to"
    );
}

#[test]
fn json_lists_the_changes_of_each_file() {
    let t = tree();
    let diff = format!(
        "{CHANGE_SHOW}@@ -12,3 +12,8 @@ int __attribute__((noinline)) clamp(int x)\n \
         {{\n \treturn x > limit ? limit : x;\n }}\n+\n\
         +int __attribute__((noinline)) added(int y)\n+{{\n+\treturn y * 3;\n+}}\n"
    );
    let r = klp_build(&t, &diff, &["--dry-run", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["dry_run"], true);
    let f = &v["files"][0];
    assert_eq!(f["file"], "fs/demo.c");
    assert_eq!(f["object"], "fs/demo.o");
    assert_eq!(f["changed_functions"], serde_json::json!(["show"]));
    assert_eq!(f["new_functions"], serde_json::json!(["added"]));
    assert_eq!(f["removed_functions"], serde_json::json!([]));
}

#[test]
fn a_comment_changes_no_function() {
    let t = tree();
    let diff = "--- a/fs/demo.c\n+++ b/fs/demo.c\n@@ -1,3 +1,5 @@\n #include \"demo.h\"\n+/* A comment\n+   that moves every line. */\n \n int puts(const char *);\n";
    let r = klp_build(&t, diff, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out
            .starts_with("fs/demo.c (fs/demo.o):\n  no function changes\n"),
        "{}",
        r.out
    );
}

#[test]
fn changed_data_is_refused() {
    let t = tree();
    let diff = "--- a/fs/demo.c\n+++ b/fs/demo.c\n@@ -1,7 +1,7 @@\n #include \"demo.h\"\n \n \
                int puts(const char *);\n-int limit = 10;\n+int limit = 20;\n \n \
                int __attribute__((noinline)) show(void)\n {\n";
    let r = klp_build(&t, diff, &["--dry-run", "--json"]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(
        r.err.contains(
            "fs/demo.c: changed initialised data: limit (live patches cannot change data; \
             use a shadow variable)"
        ),
        "{}",
        r.err
    );
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["error"]["kind"], "error");
}

#[test]
fn a_changed_prototype_is_refused() {
    let t = tree();
    let diff = "\
--- a/fs/demo.c
+++ b/fs/demo.c
@@ -9,6 +9,6 @@ int __attribute__((noinline)) show(void)
 }
 
-int __attribute__((noinline)) clamp(int x)
+int __attribute__((noinline)) clamp(int x, int y)
 {
 \treturn x > limit ? limit : x;
 }
";
    let r = klp_build(&t, diff, &["--dry-run"]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(
        r.err.contains(
            "fs/demo.c: the prototype of clamp changed (int clamp(int) -> int clamp(int, int)); \
             a live patch cannot change a function's arguments or result"
        ),
        "{}",
        r.err
    );
    assert_eq!(r.out, "");
}

#[test]
fn what_cannot_be_compared_is_refused_with_what_to_do() {
    let t = tree();
    let header = "--- a/fs/demo.h\n+++ b/fs/demo.h\n@@ -1 +1 @@\n-#define DEMO_GREETING \"hello\"\n+#define DEMO_GREETING \"hi\"\n";
    let r = klp_build(&t, header, &["--dry-run"]);
    assert_eq!(r.code, 1);
    assert!(
        r.err
            .contains("changes to headers are not supported yet: fs/demo.h"),
        "{}",
        r.err
    );
    let unbuilt = "--- a/fs/other.c\n+++ b/fs/other.c\n@@ -1 +1 @@\n-int other;\n+int other = 1;\n";
    let r = klp_build(&t, unbuilt, &["--dry-run"]);
    assert_eq!(r.code, 1);
    assert!(
        r.err
            .contains("fs/other.c is not built in this configuration"),
        "{}",
        r.err
    );
    let stale = CHANGE_SHOW.replace("-\treturn puts(DEMO_GREETING);", "-\treturn puts(\"x\");");
    let r = klp_build(&t, &stale, &["--dry-run"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("the diff does not apply"), "{}", r.err);
}

#[test]
fn another_compiler_or_source_than_the_kernels_is_refused() {
    let t = tree();
    fs::write(
        t.build.join(".config"),
        "CONFIG_CC_VERSION_TEXT=\"clang version 1.0\"\n",
    )
    .unwrap();
    let r = klp_build(&t, CHANGE_SHOW, &["--dry-run"]);
    assert_eq!(r.code, 1);
    let want = format!(
        "the kernel was built with 'clang version 1.0', but cc here is '{}'",
        cc_version()
    );
    assert!(r.err.contains(&want), "{}", r.err);

    let t = tree();
    // A function the kernel's object does not have: another source.
    let other = format!("{DEMO_C}\nint __attribute__((noinline)) added(void) {{ return 1; }}\n");
    fs::write(t.src.join("fs/demo.c"), other).unwrap();
    let r = klp_build(&t, CHANGE_SHOW, &["--dry-run"]);
    assert_eq!(r.code, 1);
    assert!(
        r.err.contains(
            "fs/demo.c does not compile to what {}/fs/demo.o has (functions only in one \
             of them: added)"
                .replace("{}", &t.build.display().to_string())
                .as_str()
        ),
        "{}",
        r.err
    );
}

#[test]
fn without_dry_run_an_output_is_needed() {
    let t = tree();
    let r = klp_build(&t, CHANGE_SHOW, &[]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.err,
        "klp: error: say where to write the patch module (-o OUT.ko), or --dry-run to only \
         see the changed functions\n"
    );
    assert_eq!(r.out, "");
    let r = klp_build(&t, CHANGE_SHOW, &["-o", "9lives.ko"]);
    assert_eq!(r.code, 2);
    assert!(
        r.err.contains("the patch module must be NAME.ko"),
        "{}",
        r.err
    );
    // A build directory without the kernel's symbol files cannot link a module.
    let r = klp_build(&t, CHANGE_SHOW, &["-o", "fix.ko"]);
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(r.err.contains("Module.symvers"), "{}", r.err);
    assert!(!t.patch.with_file_name("fix.ko").exists());
}
