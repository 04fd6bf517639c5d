// SPDX-License-Identifier: GPL-2.0
//! The unified diff that `klp build` takes: which files it changes, whether
//! `klp build` supports changing them, and applying it to a copy (GNU patch).

use crate::error::{KlpError, Result};
use std::path::Path;
use std::process::Command;

/// What follows every refusal of the diff itself.
const DIFF_HINT: &str = "klp build takes a unified diff with -p1 paths (a/fs/..., b/fs/...), \
as `git diff` or `diff -u` between two trees makes";

/// The files a diff changes, relative to the source tree (`-p1` stripped), in the
/// order of the diff, each once.
pub fn changed_files(diff: &str) -> Result<Vec<String>> {
    let lines: Vec<&str> = diff.lines().collect();
    let mut files: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("rename from ") || line.starts_with("copy from ") {
            return Err(refused(i, "renaming or copying files is not supported"));
        }
        if line.starts_with("GIT binary patch") || line.starts_with("Binary files ") {
            return Err(refused(i, "binary changes are not supported"));
        }
        let (Some(old), Some(new)) = (
            line.strip_prefix("--- "),
            lines.get(i + 1).and_then(|l| l.strip_prefix("+++ ")),
        ) else {
            i += 1;
            continue;
        };
        let file = file_pair(i, header_path(old), header_path(new))?;
        i += 2;
        if !lines.get(i).is_some_and(|l| l.starts_with("@@ ")) {
            return Err(refused(i, &format!("no hunk follows the header of {file}")));
        }
        while let Some(header) = lines.get(i).and_then(|l| l.strip_prefix("@@ ")) {
            let (mut old_left, mut new_left) = hunk_counts(header)
                .ok_or_else(|| refused(i, &format!("malformed hunk header '@@ {header}'")))?;
            i += 1;
            while old_left + new_left > 0 {
                let Some(body) = lines.get(i) else {
                    return Err(refused(i, &format!("the last hunk of {file} is cut short")));
                };
                match body.as_bytes().first() {
                    Some(b' ') | None => {
                        old_left = old_left.checked_sub(1).ok_or_else(|| overlong(i, &file))?;
                        new_left = new_left.checked_sub(1).ok_or_else(|| overlong(i, &file))?;
                    }
                    Some(b'-') => {
                        old_left = old_left.checked_sub(1).ok_or_else(|| overlong(i, &file))?
                    }
                    Some(b'+') => {
                        new_left = new_left.checked_sub(1).ok_or_else(|| overlong(i, &file))?
                    }
                    Some(b'\\') => {}
                    _ => {
                        return Err(refused(
                            i,
                            &format!("a hunk of {file} ends before its line counts say"),
                        ))
                    }
                }
                i += 1;
            }
            // "\ No newline at end of file" after the last line of a hunk.
            while lines.get(i).is_some_and(|l| l.starts_with('\\')) {
                i += 1;
            }
        }
        if !files.contains(&file) {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(KlpError::error(format!(
            "the diff changes no file; {DIFF_HINT}"
        )));
    }
    Ok(files)
}

/// The path of a `---`/`+++` line, without the timestamp that `diff -u` appends.
fn header_path(rest: &str) -> &str {
    rest.split('\t').next().unwrap_or(rest).trim_end()
}

fn file_pair(line: usize, old: &str, new: &str) -> Result<String> {
    if new == "/dev/null" {
        return Err(KlpError::error(format!(
            "deleting files is not supported: {}",
            strip_p1(line, old)?
        )));
    }
    let new = strip_p1(line, new)?;
    if old == "/dev/null" {
        return Err(KlpError::error(format!(
            "new files are not supported yet: {new}"
        )));
    }
    let old = strip_p1(line, old)?;
    if old != new {
        return Err(refused(
            line,
            &format!("renaming files is not supported: {old} -> {new}"),
        ));
    }
    Ok(new)
}

/// `patch -p1`: drop the first path component (`a/`, `b/`, `linux-6.12/`).
fn strip_p1(line: usize, path: &str) -> Result<String> {
    match path.split_once('/') {
        Some((_, rest)) if !rest.is_empty() && !rest.split('/').any(|c| c == "..") => {
            Ok(rest.trim_start_matches('/').to_string())
        }
        _ => Err(refused(
            line,
            &format!("'{path}' has no leading directory to strip (-p1)"),
        )),
    }
}

/// `-A,B +C,D @@ ...`: the number of old and new lines (B and D, 1 if absent).
fn hunk_counts(header: &str) -> Option<(usize, usize)> {
    let mut words = header.split_whitespace();
    let count = |w: Option<&str>, sign: char| -> Option<usize> {
        let range = w?.strip_prefix(sign)?;
        match range.split_once(',') {
            Some((start, n)) => {
                start.parse::<usize>().ok()?;
                n.parse().ok()
            }
            None => range.parse::<usize>().ok().map(|_| 1),
        }
    };
    let old = count(words.next(), '-')?;
    let new = count(words.next(), '+')?;
    (words.next() == Some("@@")).then_some((old, new))
}

fn refused(line: usize, what: &str) -> KlpError {
    KlpError::error(format!("the diff, line {}: {what}; {DIFF_HINT}", line + 1))
}

fn overlong(line: usize, file: &str) -> KlpError {
    refused(
        line,
        &format!("a hunk of {file} has more lines than its header says"),
    )
}

/// Refuses what the patch module generator cannot handle: anything but a `.c` file.
pub fn check_supported(file: &str) -> Result<()> {
    let refuse = |what: String| Err(KlpError::error(what));
    match Path::new(file).extension().and_then(|e| e.to_str()) {
        Some("c") => Ok(()),
        Some("h") => refuse(format!(
            "changes to headers are not supported yet: {file} \
             (every file that includes it would have to be compared)"
        )),
        Some("S") => refuse(format!(
            "changes to assembly files are not supported: {file} \
             (only C functions are compared and replaced)"
        )),
        _ => refuse(format!("only changes to .c files are supported: {file}")),
    }
}

/// Applies the diff file to the copies under `dir` (GNU patch, `-p1`, no fuzz: a
/// hunk whose context differs is refused, an offset is accepted). The diff goes
/// to patch's stdin, so a relative path to it need not be relative to `dir`.
pub fn apply(diff: &Path, dir: &Path) -> Result<()> {
    let input = std::fs::File::open(diff)
        .map_err(|e| KlpError::io(format!("reading {}", diff.display()), &e))?;
    let out = Command::new("patch")
        .args([
            "-p1",
            "--batch",
            "--forward",
            "--fuzz=0",
            "--no-backup-if-mismatch",
        ])
        .arg("--reject-file=-")
        .arg("-d")
        .arg(dir)
        .stdin(input)
        .output()
        .map_err(|e| KlpError::io("running patch (GNU patch must be installed)", &e))?;
    if out.status.success() {
        return Ok(());
    }
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = said.trim();
    Err(KlpError::error(format!(
        "the diff does not apply to the source tree:\n{said}\n\
         make it against this Linux 6.12 source tree ({DIFF_HINT})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_FILES: &str = "\
diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c
index 1111111..2222222 100644
--- a/fs/proc/cmdline.c
+++ b/fs/proc/cmdline.c
@@ -1,2 +1,2 @@ static int f(void)
 a
--- removed line that looks like a header
+++ added line that looks like a header
@@ -10 +10,2 @@
 x
+y
--- linux.orig/kernel/fork.c\t2024-01-01 00:00:00
+++ linux/kernel/fork.c\t2024-01-01 00:00:00
@@ -5,2 +5,2 @@
-old
+new
 same
\\ No newline at end of file
";

    #[test]
    fn files_are_listed_with_p1_stripped_and_hunk_bodies_skipped() {
        assert_eq!(
            changed_files(TWO_FILES).unwrap(),
            vec!["fs/proc/cmdline.c", "kernel/fork.c"]
        );
    }

    #[test]
    fn new_deleted_renamed_and_malformed_diffs_are_refused() {
        let e = changed_files("--- /dev/null\n+++ b/fs/x.c\n@@ -0,0 +1 @@\n+a\n").unwrap_err();
        assert_eq!(e.message, "new files are not supported yet: fs/x.c");
        let e = changed_files("--- a/fs/x.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n").unwrap_err();
        assert_eq!(e.message, "deleting files is not supported: fs/x.c");
        let e = changed_files("--- a/fs/x.c\n+++ b/fs/y.c\n@@ -1 +1 @@\n-a\n+b\n").unwrap_err();
        assert!(e
            .message
            .contains("renaming files is not supported: fs/x.c -> fs/y.c"));
        let e = changed_files("--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1,2 +1,2 @@\n-a\n").unwrap_err();
        assert!(e.message.contains("cut short"), "{}", e.message);
        let e = changed_files("--- x.c\n+++ x.c\n@@ -1 +1 @@\n-a\n+b\n").unwrap_err();
        assert!(e.message.contains("no leading directory"), "{}", e.message);
        let e = changed_files("just some text\n").unwrap_err();
        assert!(
            e.message.starts_with("the diff changes no file"),
            "{}",
            e.message
        );
    }

    #[test]
    fn only_c_files_are_supported() {
        assert!(check_supported("fs/proc/cmdline.c").is_ok());
        let e = check_supported("include/linux/sched.h").unwrap_err();
        assert!(e
            .message
            .starts_with("changes to headers are not supported yet: include/linux/sched.h"));
        let e = check_supported("arch/x86/entry/entry_64.S").unwrap_err();
        assert!(e
            .message
            .starts_with("changes to assembly files are not supported"));
        let e = check_supported("fs/proc/Makefile").unwrap_err();
        assert_eq!(
            e.message,
            "only changes to .c files are supported: fs/proc/Makefile"
        );
    }

    #[test]
    fn a_diff_that_does_not_apply_is_refused_and_one_that_does_is_applied() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("fs")).unwrap();
        std::fs::write(d.path().join("fs/x.c"), "one\ntwo\nthree\n").unwrap();
        let diff = d.path().join("p.diff");
        std::fs::write(
            &diff,
            "--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1,3 +1,3 @@\n one\n-TWO\n+2\n three\n",
        )
        .unwrap();
        let e = apply(&diff, d.path()).unwrap_err();
        assert!(
            e.message.starts_with("the diff does not apply"),
            "{}",
            e.message
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("fs/x.c")).unwrap(),
            "one\ntwo\nthree\n"
        );
        std::fs::write(
            &diff,
            "--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n",
        )
        .unwrap();
        apply(&diff, d.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("fs/x.c")).unwrap(),
            "one\n2\nthree\n"
        );
    }
}
