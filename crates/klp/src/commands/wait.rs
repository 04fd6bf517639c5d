// SPDX-License-Identifier: GPL-2.0
//! A transition in progress: how far it got, `klp wait` for its end, and
//! `klp blockers`, the tasks that keep it from ending.

use super::output::{plural, print_json, report};
use super::{scan, Ctx, Io};
use crate::blocking::blocking_code;
use crate::error::{Kind, KlpError, Result};
use crate::model::{self, Env, Patch};
use crate::stack;
use crate::tasks::{self, Blocker, Scan};
use serde::Serialize;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Up to this many blocking tasks are named in a timeout message.
const NAMED_BLOCKERS: usize = 20;

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// patching | unpatching
    pub direction: &'static str,
    /// The patch_state tasks move to.
    pub target_state: i32,
    pub tasks_remaining: usize,
    pub tasks_total: usize,
    /// Tasks whose state could not be read (not root).
    pub tasks_unreadable: usize,
}

pub fn progress(p: &Patch, scan: &Scan) -> Option<Progress> {
    let target = p.target_state()?;
    Some(Progress {
        direction: p.state(),
        target_state: target,
        tasks_remaining: scan.remaining(target),
        tasks_total: scan.tasks.len() + scan.unreadable,
        tasks_unreadable: scan.unreadable,
    })
}

/// How a wait ended.
#[derive(Debug)]
pub enum Waited {
    /// `transition` reads 0.
    Done(Patch),
    /// The patch directory is gone: disabled and freed by the kernel.
    Gone,
}

struct ProgressLine {
    tty: bool,
    inline: bool,
    last: Option<(&'static str, usize)>,
}

impl ProgressLine {
    fn update(&mut self, io: &mut Io, p: &Patch, remaining: usize, unreadable: usize, t: Duration) {
        let mut line = format!(
            "klp: {} '{}': {} remaining",
            p.state(),
            p.name,
            plural(remaining, "task")
        );
        if unreadable > 0 {
            line.push_str(&format!(" ({unreadable} unreadable)"));
        }
        if self.tty {
            let _ = write!(io.err, "\r\x1b[K{line} ({:.1}s)", t.as_secs_f64());
            let _ = io.err.flush();
            self.inline = true;
        } else if self.last != Some((p.state(), remaining)) {
            let _ = writeln!(io.err, "{line} ({:.1}s)", t.as_secs_f64());
        }
        self.last = Some((p.state(), remaining));
    }

    fn finish(&mut self, io: &mut Io) {
        if self.inline {
            let _ = writeln!(io.err);
            self.inline = false;
        }
    }
}

fn blockers_of(env: &Env, p: &Patch, scan: &Scan) -> Vec<Blocker> {
    let Some(target) = p.target_state() else {
        return Vec::new();
    };
    // The other patches tell which code blocks when patching over them.
    let patches = model::list_patches(env).unwrap_or_else(|_| vec![p.clone()]);
    let code = blocking_code(p, &stack::oldest_first(env, &patches));
    scan.blocking(target)
        .map(|t| tasks::describe(&env.proc, t, &code))
        .collect()
}

fn blocker_summary(b: &Blocker) -> String {
    let mut s = format!("pid {} tid {} {}", b.pid, b.tid, b.comm);
    match b.culprit() {
        Some(f) => {
            let frame = f.raw.split_once("] ").map(|x| x.1).unwrap_or(&f.raw);
            s.push_str(&format!(
                ": in {frame} ({})",
                f.reason.as_deref().unwrap_or("patched code")
            ));
        }
        None if b.stack_error.is_some() => s.push_str(" (stack unreadable: run as root)"),
        None => s.push_str(&format!(
            " (patch_state {}, no frame in patched code)",
            b.patch_state
        )),
    }
    s
}

fn timeout_error(env: &Env, p: &Patch, scan: &Scan, waited: Duration) -> KlpError {
    let blockers = blockers_of(env, p, scan);
    let mut msg = format!(
        "timed out after {:.1}s: the {} transition of '{}' is still running",
        waited.as_secs_f64(),
        p.state(),
        p.name
    );
    if blockers.is_empty() {
        msg.push_str(
            "; no task in /proc blocks it (idle tasks, swapper/N, are not in /proc; \
             the transition may be about to complete)",
        );
    } else {
        msg.push_str(&format!(
            "; {} {} it:",
            plural(blockers.len(), "task"),
            if blockers.len() == 1 {
                "blocks"
            } else {
                "block"
            }
        ));
        for b in blockers.iter().take(NAMED_BLOCKERS) {
            msg.push_str(&format!("\n  {}", blocker_summary(b)));
        }
        if blockers.len() > NAMED_BLOCKERS {
            msg.push_str(&format!(
                "\n  ... and {} more",
                blockers.len() - NAMED_BLOCKERS
            ));
        }
    }
    if scan.unreadable > 0 {
        msg.push_str(&format!(
            "\n{} could not be read: run as root",
            plural(scan.unreadable, "task")
        ));
    }
    let reverse = if p.enabled { "disable" } else { "enable" };
    msg.push_str(&format!(
        "\nthe transition goes on in the kernel: `klp blockers {n}` shows the stacks, \
         `klp {reverse} {n}` reverses it, `klp force {n}` forces it (unsafe)",
        n = p.name
    ));
    KlpError {
        blockers: Some(blockers),
        ..KlpError::timeout(msg)
    }
}

/// Wait until the patch's transition ends (or the patch is freed). The
/// caller has checked that the patch exists: a missing directory means the
/// kernel freed it (a completed disable).
pub fn wait_transition(
    ctx: &Ctx,
    io: &mut Io,
    name: &str,
    timeout: Option<Duration>,
) -> Result<Waited> {
    let start = Instant::now();
    let mut line = ProgressLine {
        tty: ctx.tty,
        inline: false,
        last: None,
    };
    let mut last_scan: Option<Instant> = None;
    loop {
        // The cheap poll: one sysfs attribute.
        let transition = model::read_attr(&ctx.env.patch_dir(name).join("transition"));
        let elapsed = start.elapsed();
        let timed_out = timeout.is_some_and(|t| elapsed >= t);
        let scan_due = last_scan.is_none_or(|s| s.elapsed() >= ctx.scan_every);
        let still_running = matches!(transition.as_deref().map(model::parse_bool), Ok(Some(true)));
        if !still_running || timed_out || scan_due {
            let p = match model::read_patch(&ctx.env, name) {
                Ok(p) => p,
                Err(e) if e.kind == Kind::NotFound => {
                    line.finish(io);
                    return Ok(Waited::Gone);
                }
                Err(e) => {
                    line.finish(io);
                    return Err(e);
                }
            };
            let Some(target) = p.target_state() else {
                line.finish(io);
                return Ok(Waited::Done(p));
            };
            // The progress: every task of /proc, at most once per scan_every.
            let scan = scan(&ctx.env)?;
            last_scan = Some(Instant::now());
            line.update(io, &p, scan.remaining(target), scan.unreadable, elapsed);
            if timed_out {
                line.finish(io);
                return Err(timeout_error(&ctx.env, &p, &scan, elapsed));
            }
        }
        match timeout {
            Some(t) => sleep(ctx.poll.min(t.saturating_sub(elapsed))),
            None => sleep(ctx.poll),
        }
    }
}

pub fn wait(ctx: &Ctx, io: &mut Io, name: &str, timeout: Option<Duration>) -> Result<()> {
    let p = match model::read_patch(&ctx.env, name) {
        // A disable that ended before we looked: the kernel freed the patch,
        // its module is still loaded. No transition runs: nothing to wait for.
        Err(e) if e.kind == Kind::NotFound && model::read_module(&ctx.env, name).livepatch => {
            return finished(ctx, io, "wait", name, Waited::Gone);
        }
        r => r?,
    };
    if !p.transition {
        let msg = format!("{name}: no transition in progress ({})", p.state());
        return report(ctx, io, "wait", name, p.state(), msg);
    }
    match wait_transition(ctx, io, name, timeout)? {
        Waited::Done(p) => {
            let msg = format!("{name}: transition complete ({})", p.state());
            report(ctx, io, "wait", name, p.state(), msg)
        }
        Waited::Gone => {
            let msg = format!("{name}: transition complete, the patch was disabled and freed");
            report(ctx, io, "wait", name, "removed", msg)
        }
    }
}

pub(super) fn finished(ctx: &Ctx, io: &mut Io, action: &str, name: &str, w: Waited) -> Result<()> {
    match w {
        Waited::Done(p) => {
            let msg = format!("{name}: {}", p.state());
            report(ctx, io, action, name, p.state(), msg)
        }
        Waited::Gone => {
            let msg = format!(
                "{name}: disabled; the kernel freed the patch (its module stays loaded \
                 until `klp unload {name}`)"
            );
            report(ctx, io, action, name, "removed", msg)
        }
    }
}

#[derive(Serialize)]
struct BlockersJson<'a> {
    patch: &'a str,
    in_transition: bool,
    /// The patch in transition, when it is another one.
    #[serde(skip_serializing_if = "Option::is_none")]
    transition_patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<Progress>,
    blockers: Vec<Blocker>,
}

pub fn blockers(ctx: &Ctx, io: &mut Io, name: &str) -> Result<()> {
    let p = model::read_patch(&ctx.env, name)?;
    if !p.transition {
        let other = model::transition_patch(&ctx.env);
        if ctx.json {
            return print_json(
                io,
                &BlockersJson {
                    patch: name,
                    in_transition: false,
                    transition_patch: other,
                    progress: None,
                    blockers: Vec::new(),
                },
            );
        }
        let _ = write!(
            io.out,
            "{name}: not in transition ({}), no task blocks it",
            p.state()
        );
        match other {
            Some(o) => {
                let _ = writeln!(io.out, "; the transition in progress is '{o}'");
            }
            None => {
                let _ = writeln!(io.out);
            }
        }
        return Ok(());
    }
    let scan = scan(&ctx.env)?;
    let blockers = blockers_of(&ctx.env, &p, &scan);
    let progress = progress(&p, &scan);
    if ctx.json {
        return print_json(
            io,
            &BlockersJson {
                patch: name,
                in_transition: true,
                transition_patch: None,
                progress,
                blockers,
            },
        );
    }
    let g = progress.unwrap_or(Progress {
        direction: p.state(),
        target_state: 0,
        tasks_remaining: 0,
        tasks_total: 0,
        tasks_unreadable: 0,
    });
    let _ = writeln!(
        io.out,
        "{name}: {} transition, target patch_state {}: {} of {} remaining",
        g.direction,
        g.target_state,
        g.tasks_remaining,
        plural(g.tasks_total, "task")
    );
    if g.tasks_unreadable > 0 {
        let _ = writeln!(
            io.out,
            "warning: the patch_state of {} could not be read: run as root",
            plural(g.tasks_unreadable, "task")
        );
    }
    if blockers.is_empty() {
        let _ = writeln!(
            io.out,
            "no task in /proc blocks it: idle tasks (swapper/N) are not in /proc; \
             the transition may be about to complete"
        );
    }
    for b in &blockers {
        let _ = writeln!(io.out);
        let mark = if b.in_patched_code {
            "  <- in patched code"
        } else {
            ""
        };
        let _ = writeln!(
            io.out,
            "pid {} tid {} comm {} patch_state {}{mark}",
            b.pid, b.tid, b.comm, b.patch_state
        );
        if let Some(e) = &b.stack_error {
            let _ = writeln!(io.out, "    ({e})");
        }
        for f in &b.stack {
            let frame = f.raw.split_once("] ").map(|x| x.1).unwrap_or(&f.raw);
            match &f.reason {
                Some(r) => {
                    let _ = writeln!(io.out, "  * {frame}    <- {r}");
                }
                None => {
                    let _ = writeln!(io.out, "    {frame}");
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn wait_shows_progress_as_tasks_switch() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/transition", "1");
        t.task(1, 1, "init", 1, &[]);
        t.task(7, 7, "a", 0, &[]);
        t.task(8, 8, "b", 0, &[]);
        let c = ctx(&t, sim(&t));
        let root: PathBuf = t.root().to_path_buf();
        let h = std::thread::spawn(move || {
            let t = FakeTree::at(&root);
            sleep(Duration::from_millis(300));
            t.set_task_state(7, 7, 1);
            sleep(Duration::from_millis(400));
            t.set_task_state(8, 8, 1);
            t.set("kernel/livepatch/lp/transition", "0");
        });
        let mut o = Out::new();
        o.run("", |io| wait(&c, io, "lp", Some(Duration::from_secs(5))))
            .unwrap();
        h.join().unwrap();
        let err = o.err();
        let two = err.find("2 tasks remaining").expect(&err);
        let one = err.find("1 task remaining").expect(&err);
        assert!(two < one, "{err}");
        assert_eq!(o.out().trim(), "lp: transition complete (applied)");
    }

    #[test]
    fn tty_progress_rewrites_one_line() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/transition", "1");
        t.task(7, 7, "a", 0, &[]);
        let mut c = ctx(&t, sim(&t));
        c.tty = true;
        let mut o = Out::new();
        let e = o
            .run("", |io| {
                wait(&c, io, "lp", Some(Duration::from_millis(100)))
            })
            .unwrap_err();
        assert_eq!(e.kind, Kind::Timeout);
        let err = o.err();
        assert!(err.matches("\r\x1b[K").count() >= 2, "{err:?}");
        assert!(err.ends_with('\n'), "{err:?}");
    }

    #[test]
    fn timeout_names_the_blocking_task_and_its_frame() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/enabled", "0");
        t.set("kernel/livepatch/lp/transition", "1");
        // Unpatching: tasks move to 0; one sits in the new code.
        t.task(1, 1, "init", 0, &[]);
        t.task(
            9,
            10,
            "worker",
            1,
            &["[<0>] livepatch_cmdline_proc_show+0x1/0x2 [lp]"],
        );
        let c = ctx(&t, sim(&t));
        let e = Out::new()
            .run("", |io| wait(&c, io, "lp", Some(Duration::from_millis(50))))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Timeout);
        assert!(
            e.message.contains("unpatching transition of 'lp'"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("pid 9 tid 10 worker: in livepatch_cmdline_proc_show+0x1/0x2 [lp] (in the patch module lp (its new code, which unpatching replaces))"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("`klp enable lp` reverses it"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("init"), "{}", e.message);
    }

    #[test]
    fn wait_after_a_disable_that_already_ended_succeeds() {
        // The patch directory is gone, the livepatch module is loaded: the
        // unpatching transition ended before klp wait looked.
        let t = FakeTree::temp();
        t.module("lp", 0, true);
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        o.run("", |io| wait(&c, io, "lp", Some(Duration::from_secs(1))))
            .unwrap();
        assert!(
            o.out()
                .starts_with("lp: disabled; the kernel freed the patch"),
            "{}",
            o.out()
        );
        // A name that is neither a patch nor a livepatch module stays unknown.
        let e = Out::new()
            .run("", |io| wait(&c, io, "nope", Some(Duration::from_secs(1))))
            .unwrap_err();
        assert_eq!(e.kind, Kind::NotFound);
    }
}
