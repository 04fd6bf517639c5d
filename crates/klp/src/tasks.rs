// SPDX-License-Identifier: GPL-2.0
//! Tasks and their livepatch state, from procfs.
//!
//! `/proc/<pid>/task/<tid>/patch_state` is -1 (KLP_TRANSITION_IDLE), 0
//! (unpatched) or 1 (patched). During a transition a task blocks it while its
//! state differs from the target. A task at -1 during a transition has not
//! been initialised yet, or the transition is completing: it blocks nothing.
//! Idle tasks (swapper/N) are not in /proc.

use crate::blocking::{mark_frames, Blocking};
use serde::Serialize;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub const KLP_TRANSITION_IDLE: i32 = -1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TaskRef {
    pub pid: i32,
    pub tid: i32,
    pub patch_state: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub tasks: Vec<TaskRef>,
    /// Tasks whose patch_state could not be read (EACCES: not root).
    pub unreadable: usize,
}

impl Scan {
    /// Tasks not yet in `target` (the ones that block the transition).
    pub fn blocking(&self, target: i32) -> impl Iterator<Item = &TaskRef> {
        self.tasks
            .iter()
            .filter(move |t| t.patch_state != target && t.patch_state != KLP_TRANSITION_IDLE)
    }

    pub fn remaining(&self, target: i32) -> usize {
        self.blocking(target).count()
    }
}

fn numeric_entries(dir: &Path) -> io::Result<Vec<i32>> {
    let mut v: Vec<i32> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect();
    v.sort_unstable();
    Ok(v)
}

pub fn task_dir(proc: &Path, pid: i32, tid: i32) -> PathBuf {
    proc.join(pid.to_string())
        .join("task")
        .join(tid.to_string())
}

/// Read every task's patch_state. Tasks that exit meanwhile are skipped.
pub fn scan(proc: &Path) -> io::Result<Scan> {
    let mut s = Scan::default();
    for pid in numeric_entries(proc)? {
        let tids = match numeric_entries(&proc.join(pid.to_string()).join("task")) {
            Ok(t) => t,
            Err(_) => continue, // exited
        };
        for tid in tids {
            match fs::read_to_string(task_dir(proc, pid, tid).join("patch_state")) {
                Ok(v) => match v.trim().parse() {
                    Ok(patch_state) => s.tasks.push(TaskRef {
                        pid,
                        tid,
                        patch_state,
                    }),
                    Err(_) => s.unreadable += 1,
                },
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(_) => s.unreadable += 1,
            }
        }
    }
    Ok(s)
}

/// One line of `/proc/<pid>/task/<tid>/stack`:
/// `[<0>] func_name+0x1c/0x30 [module]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    pub raw: String,
    pub function: Option<String>,
    pub offset: Option<u64>,
    pub size: Option<u64>,
    /// None for vmlinux.
    pub module: Option<String>,
    /// The frame is in code the patch changes.
    pub patched: bool,
    /// Why it is marked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

pub fn parse_frame(line: &str) -> Frame {
    let raw = line.trim_end().to_string();
    let mut rest = raw.trim_start();
    if rest.starts_with("[<") {
        if let Some(i) = rest.find("] ") {
            rest = rest[i + 2..].trim_start();
        }
    }
    let (sym, module) = match rest.split_once(' ') {
        Some((sym, m)) => {
            let m = m.trim();
            let module = m
                .strip_prefix('[')
                .and_then(|m| m.strip_suffix(']'))
                .map(|m| m.to_string());
            (sym, module)
        }
        None => (rest, None),
    };
    let (function, offset, size) = match sym.rsplit_once('+') {
        Some((name, off)) if !name.is_empty() => {
            let (o, s) = match off.split_once('/') {
                Some((o, s)) => (hex(o), hex(s)),
                None => (hex(off), None),
            };
            (Some(name.to_string()), o, s)
        }
        _ if sym.is_empty() || sym.starts_with("0x") => (None, None, None),
        _ => (Some(sym.to_string()), None, None),
    };
    Frame {
        raw,
        function,
        offset,
        size,
        module,
        patched: false,
        reason: None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    pub pid: i32,
    pub tid: i32,
    pub comm: String,
    pub patch_state: i32,
    pub stack: Vec<Frame>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_error: Option<String>,
    /// Some frame is in code the patch changes.
    pub in_patched_code: bool,
}

impl Blocker {
    /// The first marked frame, the likely reason the task cannot switch.
    pub fn culprit(&self) -> Option<&Frame> {
        self.stack.iter().find(|f| f.patched)
    }
}

/// Comm and stack of a task that blocks a transition, its frames in
/// `blocking` code marked.
pub fn describe(proc: &Path, t: &TaskRef, blocking: &[Blocking]) -> Blocker {
    let dir = task_dir(proc, t.pid, t.tid);
    let comm = fs::read_to_string(dir.join("comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_else(|_| "?".into());
    let (mut stack, stack_error) = match fs::read_to_string(dir.join("stack")) {
        Ok(s) => (
            s.lines()
                .filter(|l| !l.trim().is_empty())
                .map(parse_frame)
                .collect(),
            None,
        ),
        Err(e) => (
            Vec::new(),
            Some(format!(
                "cannot read {}: {}",
                dir.join("stack").display(),
                crate::error::describe_io(&e)
            )),
        ),
    };
    mark_frames(&mut stack, blocking);
    let in_patched_code = stack.iter().any(|f| f.patched);
    Blocker {
        pid: t.pid,
        tid: t.tid,
        comm,
        patch_state: t.patch_state,
        stack,
        stack_error,
        in_patched_code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking::blocking_code;
    use crate::model::read_patch;
    use crate::testkit::FakeTree;

    #[test]
    fn parses_kernel_stack_lines() {
        let f = parse_frame("[<0>] busymod_work_func+0x2e/0x60 [test_klp_callbacks_busy]\n");
        assert_eq!(f.function.as_deref(), Some("busymod_work_func"));
        assert_eq!(f.offset, Some(0x2e));
        assert_eq!(f.size, Some(0x60));
        assert_eq!(f.module.as_deref(), Some("test_klp_callbacks_busy"));
        let f = parse_frame("[<0>] msleep+0x2b/0x40");
        assert_eq!(f.function.as_deref(), Some("msleep"));
        assert_eq!(f.module, None);
        let f = parse_frame("[<ffffffff8100>] 0xffffffffc0001234");
        assert_eq!(f.function, None);
        let f = parse_frame("[<0>] foo.isra.0+0x1/0x2");
        assert_eq!(f.function.as_deref(), Some("foo.isra.0"));
    }

    #[test]
    fn scan_counts_only_tasks_off_target() {
        let t = FakeTree::temp();
        t.task(1, 1, "init", 1, &[]);
        t.task(10, 10, "a", 0, &[]);
        t.task(10, 11, "a-thread", 0, &[]);
        t.task(20, 20, "b", -1, &[]);
        let s = scan(&t.proc()).unwrap();
        assert_eq!(s.tasks.len(), 4);
        assert_eq!(s.remaining(1), 2);
        assert_eq!(s.remaining(0), 1);
        let b: Vec<_> = s.blocking(1).map(|t| t.tid).collect();
        assert_eq!(b, [10, 11]);
    }

    #[test]
    fn unreadable_stack_is_reported_not_fatal() {
        let t = FakeTree::temp();
        t.patch("lp", true, true);
        t.task(5, 5, "x", 0, &[]);
        std::fs::remove_file(task_dir(&t.proc(), 5, 5).join("stack")).unwrap();
        let p = read_patch(&t.env(), "lp").unwrap();
        let s = scan(&t.proc()).unwrap();
        let b = describe(&t.proc(), &s.tasks[0], &blocking_code(&p, &[&p]));
        assert!(b.stack.is_empty());
        assert!(b.stack_error.unwrap().contains("cannot read"));
        assert!(!b.in_patched_code);
    }
}
