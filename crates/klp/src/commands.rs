// SPDX-License-Identifier: GPL-2.0
//! The verbs.

use crate::blocking::blocking_code;
use crate::compressed;
use crate::elf;
use crate::error::{describe_io, Kind, KlpError, Result};
use crate::kernel::Kernel;
use crate::model::{self, Env, ModuleInfo, Patch};
use crate::stack;
use crate::tasks::{self, Blocker, Scan};
use serde::Serialize;
use std::fs::{self, File};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub struct Ctx {
    pub env: Env,
    pub kernel: Box<dyn Kernel>,
    /// `--json`: machine-readable output on stdout.
    pub json: bool,
    /// How often a wait polls the patch's `transition` attribute.
    pub poll: Duration,
    /// How often a wait scans every task in procfs for its progress.
    pub scan_every: Duration,
    /// stderr is a terminal: the progress display rewrites one line.
    pub tty: bool,
}

pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub input: &'a mut dyn BufRead,
}

/// Up to this many blocking tasks are named in a timeout message.
const NAMED_BLOCKERS: usize = 20;

fn require_root(ctx: &Ctx, what: &str) -> Result<()> {
    if ctx.kernel.is_root() {
        Ok(())
    } else {
        Err(KlpError::permission(format!(
            "{what} requires root: run klp as root"
        )))
    }
}

/// Prints `v` as one JSON document, with the `schema_version` every document carries.
pub(crate) fn print_json<T: Serialize>(io: &mut Io, v: &T) -> Result<()> {
    let json_error = |e: serde_json::Error| KlpError::error(format!("JSON output: {e}"));
    let mut doc = serde_json::to_value(v).map_err(json_error)?;
    if let Some(fields) = doc.as_object_mut() {
        fields.insert(
            "schema_version".into(),
            crate::cli::JSON_SCHEMA_VERSION.into(),
        );
    }
    let s = serde_json::to_string_pretty(&doc).map_err(json_error)?;
    let _ = writeln!(io.out, "{s}");
    Ok(())
}

fn scan(env: &Env) -> Result<Scan> {
    tasks::scan(&env.proc).map_err(|e| KlpError::io(env.proc.display(), &e))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn b01(b: bool) -> u8 {
    b as u8
}

fn opt01(b: Option<bool>) -> String {
    b.map(|b| (b as u8).to_string())
        .unwrap_or_else(|| "-".into())
}

/// The result of a verb that changes something (`--json` output).
#[derive(Serialize)]
struct Outcome<'a> {
    action: &'a str,
    patch: &'a str,
    /// applied | disabled | patching | unpatching | removed | unloaded
    state: &'a str,
    message: String,
}

pub(crate) fn report(
    ctx: &Ctx,
    io: &mut Io,
    action: &str,
    patch: &str,
    state: &str,
    message: String,
) -> Result<()> {
    if ctx.json {
        print_json(
            io,
            &Outcome {
                action,
                patch,
                state,
                message,
            },
        )
    } else {
        let _ = writeln!(io.out, "{message}");
        Ok(())
    }
}

// ---------------------------------------------------------------- list

#[derive(Serialize)]
struct ListJson<'a> {
    patches: &'a [Patch],
    /// The patches whose sysfs directory could not be read.
    unreadable: Vec<UnreadableJson<'a>>,
    /// Loaded livepatch modules without a patch: replaced or disabled, not removed.
    orphan_modules: &'a [String],
}

#[derive(Serialize)]
struct UnreadableJson<'a> {
    name: &'a str,
    message: &'a str,
}

fn write_objects(io: &mut Io, p: &Patch, with_count: bool) {
    let w = p.objects.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for o in &p.objects {
        let loaded = if o.loaded { "loaded" } else { "not loaded" };
        let count = if with_count {
            format!("  {}", plural(o.functions.len(), "function"))
        } else {
            String::new()
        };
        let _ = writeln!(
            io.out,
            "  {:<w$}  {:<10}  patched={}{count}",
            o.name,
            loaded,
            opt01(o.patched)
        );
        for f in &o.functions {
            let _ = writeln!(io.out, "    {},{}", f.name, f.sympos);
        }
    }
}

/// Lists the patches that can be read; one that cannot (a malformed directory) is named with
/// its error, in the listing and on stderr, and does not hide the others.
pub fn list(ctx: &Ctx, io: &mut Io) -> Result<()> {
    let (patches, unreadable) = model::read_patches(&ctx.env)?;
    let orphans = model::orphan_modules(&ctx.env);
    for (name, e) in &unreadable {
        let _ = writeln!(
            io.err,
            "klp: warning: cannot read patch '{name}': {}",
            e.message
        );
    }
    if ctx.json {
        let unreadable = unreadable
            .iter()
            .map(|(name, e)| UnreadableJson {
                name,
                message: &e.message,
            })
            .collect();
        return print_json(
            io,
            &ListJson {
                patches: &patches,
                unreadable,
                orphan_modules: &orphans,
            },
        );
    }
    if patches.is_empty() && unreadable.is_empty() && orphans.is_empty() {
        let _ = writeln!(io.out, "no livepatches loaded");
    }
    for p in &patches {
        let _ = writeln!(
            io.out,
            "{}  enabled={} transition={} replace={}",
            p.name,
            b01(p.enabled),
            b01(p.transition),
            opt01(p.replace)
        );
        write_objects(io, p, false);
    }
    for (name, e) in &unreadable {
        let _ = writeln!(io.out, "{name}  unreadable: {}", e.message);
    }
    for name in &orphans {
        let _ = writeln!(
            io.out,
            "{name}  module loaded, patch replaced or disabled (`klp unload {name}`)"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- status

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

#[derive(Serialize)]
struct StatusJson<'a> {
    #[serde(flatten)]
    patch: &'a Patch,
    /// applied | disabled | patching | unpatching
    state: &'static str,
    /// During a transition: its direction and the tasks remaining.
    progress: Option<Progress>,
    module: ModuleInfo,
}

#[derive(Serialize)]
struct StatusAllJson<'a> {
    patches: Vec<StatusJson<'a>>,
}

fn status_of<'a>(ctx: &Ctx, p: &'a Patch) -> Result<StatusJson<'a>> {
    let progress = match p.transition {
        true => progress(p, &scan(&ctx.env)?),
        false => None,
    };
    Ok(StatusJson {
        patch: p,
        state: p.state(),
        progress,
        module: model::read_module(&ctx.env, &p.name),
    })
}

fn write_status(io: &mut Io, s: &StatusJson) {
    let p = s.patch;
    let _ = writeln!(io.out, "patch:       {}", p.name);
    let state = match s.state {
        "applied" => "applied (enabled, no transition)",
        "disabled" => "disabled (no transition)",
        "patching" => "patching (in transition)",
        _ => "unpatching (in transition)",
    };
    let _ = writeln!(io.out, "state:       {state}");
    let _ = writeln!(io.out, "enabled:     {}", b01(p.enabled));
    match &s.progress {
        Some(g) => {
            let mut line = format!(
                "transition:  1, {}: {} of {} remaining (target patch_state {})",
                g.direction,
                g.tasks_remaining,
                plural(g.tasks_total, "task"),
                g.target_state
            );
            if g.tasks_unreadable > 0 {
                line.push_str(&format!(
                    "; {} unreadable, run as root",
                    plural(g.tasks_unreadable, "task")
                ));
            }
            let _ = writeln!(io.out, "{line}");
        }
        None => {
            let _ = writeln!(io.out, "transition:  0");
        }
    }
    let _ = writeln!(io.out, "replace:     {}", opt01(p.replace));
    let m = &s.module;
    let module = if m.loaded {
        match m.refcnt {
            Some(r) => format!("loaded, refcnt {r}"),
            None => "loaded".into(),
        }
    } else {
        "not in /sys/module".into()
    };
    let _ = writeln!(io.out, "module:      {module}");
    let loaded = p.objects.iter().filter(|o| o.loaded).count();
    let _ = writeln!(
        io.out,
        "objects:     {} ({} loaded), {}",
        p.objects.len(),
        loaded,
        plural(p.function_count(), "function")
    );
    write_objects(io, p, true);
    if s.progress.is_some() {
        let _ = writeln!(
            io.out,
            "hint:        `klp blockers {}` names the tasks that block the transition",
            p.name
        );
    }
}

pub fn status(ctx: &Ctx, io: &mut Io, name: Option<&str>) -> Result<()> {
    match name {
        Some(name) => {
            let p = model::read_patch(&ctx.env, name)?;
            let s = status_of(ctx, &p)?;
            if ctx.json {
                return print_json(io, &s);
            }
            write_status(io, &s);
        }
        None => {
            let patches = model::list_patches(&ctx.env)?;
            let all = patches
                .iter()
                .map(|p| status_of(ctx, p))
                .collect::<Result<Vec<_>>>()?;
            if ctx.json {
                return print_json(io, &StatusAllJson { patches: all });
            }
            if all.is_empty() {
                let _ = writeln!(io.out, "no livepatches loaded");
            }
            for (i, s) in all.iter().enumerate() {
                if i > 0 {
                    let _ = writeln!(io.out);
                }
                write_status(io, s);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- wait

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
    let p = model::read_patch(&ctx.env, name)?;
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

// ---------------------------------------------------------------- blockers

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

// ---------------------------------------------------------------- enable / disable

fn write_enabled_error(name: &str, enable: bool, path: &Path, e: &io::Error) -> KlpError {
    let verb = if enable { "enable" } else { "disable" };
    match e.raw_os_error() {
        Some(libc::EINVAL) if enable => KlpError::error(format!(
            "the kernel refused to enable '{name}': {} \
             (in Linux 6.12 a disabled patch cannot be re-enabled: \
             `klp unload {name}` and load the module again)",
            describe_io(e)
        )),
        Some(libc::EINVAL) => KlpError::error(format!(
            "the kernel refused to disable '{name}': {} (it is already disabled)",
            describe_io(e)
        )),
        Some(libc::EBUSY) => KlpError::busy(format!(
            "the kernel refused to {verb} '{name}': {} \
             (another livepatch transition is running: see `klp status`)",
            describe_io(e)
        )),
        _ => KlpError::io(format!("writing {} to {}", enable as u8, path.display()), e),
    }
}

fn busy_with_other(env: &Env, name: &str) -> Result<()> {
    match model::transition_patch(env) {
        Some(other) if other != name => Err(KlpError::busy(format!(
            "the transition of '{other}' is still running; only one livepatch transition \
             runs at a time (`klp wait {other}`, `klp blockers {other}`)"
        ))),
        _ => Ok(()),
    }
}

fn finished(ctx: &Ctx, io: &mut Io, action: &str, name: &str, w: Waited) -> Result<()> {
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

pub fn set_enabled(
    ctx: &Ctx,
    io: &mut Io,
    name: &str,
    enable: bool,
    wait: bool,
    timeout: Option<Duration>,
) -> Result<()> {
    let action = if enable { "enable" } else { "disable" };
    let name = &model::patch_name(name)?;
    ctx.env.check_support()?;
    require_root(
        ctx,
        if enable {
            "enabling a livepatch"
        } else {
            "disabling a livepatch"
        },
    )?;
    let p = model::read_patch(&ctx.env, name)?;
    if p.enabled != enable {
        busy_with_other(&ctx.env, name)?;
        if p.transition {
            let _ = writeln!(
                io.err,
                "klp: reversing the {} transition of '{name}'",
                p.state()
            );
        }
        let path = ctx.env.patch_dir(name).join("enabled");
        ctx.kernel
            .write_attr(&path, if enable { "1" } else { "0" })
            .map_err(|e| write_enabled_error(name, enable, &path, &e))?;
    } else if !p.transition {
        let msg = format!("{name}: already {action}d ({})", p.state());
        return report(ctx, io, action, name, p.state(), msg);
    }
    if !wait {
        let p = model::read_patch(&ctx.env, name);
        let state = p.as_ref().map(|p| p.state()).unwrap_or("removed");
        let msg = format!("{name}: {state} (not waiting: `klp wait {name}`)");
        return report(ctx, io, action, name, state, msg);
    }
    let w = wait_transition(ctx, io, name, timeout)?;
    finished(ctx, io, action, name, w)
}

// ---------------------------------------------------------------- force

pub fn force(
    ctx: &Ctx,
    io: &mut Io,
    name: &str,
    yes: bool,
    wait: bool,
    timeout: Option<Duration>,
) -> Result<()> {
    let name = &model::patch_name(name)?;
    ctx.env.check_support()?;
    require_root(ctx, "forcing a transition")?;
    let p = model::read_patch(&ctx.env, name)?;
    let Some(target) = p.target_state() else {
        return Err(KlpError::error(format!(
            "'{name}' is not in transition ({}): there is nothing to force",
            p.state()
        )));
    };
    let scan = scan(&ctx.env)?;
    let remaining = scan.remaining(target);
    let _ = writeln!(
        io.err,
        "WARNING: forcing the {dir} transition of '{name}' skips the livepatch consistency model.\n\
         - {n} not yet switched ({blocked}) will be marked {state} without a stack check:\n\
         \x20 tasks may run old and new code mixed, which the patch may not be safe for.\n\
         - The module of '{name}' can never be removed afterwards (until reboot).\n\
         Force only with a clearance from the patch's author or distributor.",
        dir = p.state(),
        n = plural(remaining, "task"),
        blocked = if remaining == 1 { "it blocks the transition" } else { "they block the transition" },
        state = if target == 1 { "patched" } else { "unpatched" },
    );
    if !yes {
        let _ = write!(
            io.err,
            "Force the transition of '{name}'? Type 'yes' to confirm: "
        );
        let _ = io.err.flush();
        let mut answer = String::new();
        let _ = io.input.read_line(&mut answer);
        let answer = answer.trim().to_ascii_lowercase();
        if answer != "yes" && answer != "y" {
            let _ = writeln!(io.err);
            return Err(KlpError::error(
                "not forced: no confirmation (answer 'yes', or pass --yes)",
            ));
        }
    }
    let path = ctx.env.patch_dir(name).join("force");
    ctx.kernel
        .write_attr(&path, "1")
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EINVAL) => KlpError::error(format!(
                "the kernel refused to force '{name}': {} (it is no longer in transition)",
                describe_io(&e)
            )),
            _ => KlpError::io(format!("writing 1 to {}", path.display()), &e),
        })?;
    let _ = writeln!(io.err, "klp: forced the transition of '{name}'");
    if !wait {
        let msg = format!("{name}: transition forced");
        return report(ctx, io, "force", name, p.state(), msg);
    }
    let w = wait_transition(ctx, io, name, timeout)?;
    finished(ctx, io, "force", name, w)
}

// ---------------------------------------------------------------- load

/// The most lines of the kernel log that a refused load quotes.
const KERNEL_LINES: usize = 10;

fn load_error(name: &str, file: &Path, e: &io::Error) -> KlpError {
    let d = describe_io(e);
    let f = file.display();
    match e.raw_os_error() {
        Some(libc::EEXIST) => KlpError::error(format!("module '{name}' is already loaded: {d}")),
        Some(libc::EBUSY) => KlpError::busy(format!(
            "the kernel refused to enable '{name}': {d} (another livepatch transition is running)"
        )),
        Some(libc::EPERM) | Some(libc::EACCES) => KlpError::permission(format!(
            "loading {f} not permitted: {d} (needs CAP_SYS_MODULE; module loading may be \
             disabled by kernel.modules_disabled or lockdown)"
        )),
        Some(libc::ENOEXEC) => KlpError::error(format!(
            "the kernel rejected {f}: {d} (built for another kernel, or livepatch support is \
             off; see dmesg)"
        )),
        // The module loader's ENOENT: a symbol the module needs is unknown.
        Some(libc::ENOENT) => KlpError::error(format!(
            "the kernel refused {f}: {d} (a symbol it needs is unknown: a livepatch for \
             another kernel build, or a missing dependency)"
        )),
        Some(libc::EKEYREJECTED) | Some(libc::EBADMSG) | Some(libc::ENOKEY) => {
            KlpError::error(format!("the kernel rejected the signature of {f}: {d}"))
        }
        _ => KlpError::new(
            KlpError::io("", e).kind,
            format!("loading {f} failed: {d} (see dmesg)"),
        ),
    }
}

/// `name=` from .modinfo, else the file name without `.ko`, `-` as `_`.
fn module_name(info: &elf::ModInfo, file: &Path) -> String {
    if let Some(n) = info.get("name").filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    let stem = file
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .trim_end_matches(".ko");
    stem.replace('-', "_")
}

/// How `load` waits: for the transition or not, how long, and what a timeout leaves.
#[derive(Debug, Clone, Copy)]
pub struct LoadHow {
    pub wait: bool,
    pub timeout: Option<Duration>,
    /// `--on-timeout=revert`.
    pub revert: bool,
}

/// The module file that `klp load ARG` means: ARG if it is a file or looks like a path,
/// else the module of the patch ARG installed for the running kernel.
fn module_file_of(ctx: &Ctx, arg: &Path) -> Result<PathBuf> {
    let s = arg.to_string_lossy();
    if arg.exists() || s.contains('/') || s.contains(".ko") {
        return Ok(arg.to_path_buf());
    }
    model::installed_module(&ctx.env, &s)?.ok_or_else(|| {
        KlpError::not_found(format!(
            "no file '{s}' and no livepatch '{s}' installed for this kernel \
             (`klp install FILE` installs one)"
        ))
    })
}

/// `klp load --all`: every patch installed for the running kernel, by name; already loaded
/// ones are left as they are. Goes on after a failure, and fails with the first.
pub fn load_all(ctx: &Ctx, io: &mut Io, how: LoadHow) -> Result<()> {
    let mut first_error = None;
    for file in model::installed_modules(&ctx.env)? {
        if let Err(e) = load(ctx, io, &file, &[], how) {
            let _ = writeln!(io.err, "klp: error: {}", e.message);
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// `klp unload --all`: every livepatch, the newest first, then the modules of replaced
/// patches. Goes on after a failure, and fails with the first.
pub fn unload_all(ctx: &Ctx, io: &mut Io, timeout: Option<Duration>) -> Result<()> {
    let patches = model::list_patches(&ctx.env)?;
    let mut first_error = None;
    let newest_first = stack::oldest_first(&ctx.env, &patches).into_iter().rev();
    let names: Vec<String> = newest_first.map(|p| p.name.clone()).collect();
    // Then the modules of replaced (or disabled) patches, which are no longer in sysfs.
    let orphans = model::orphan_modules(&ctx.env);
    for name in names.iter().chain(&orphans) {
        if let Err(e) = unload(ctx, io, name, timeout) {
            let _ = writeln!(io.err, "klp: error: {}", e.message);
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

pub fn load(ctx: &Ctx, io: &mut Io, file: &Path, params: &[String], how: LoadHow) -> Result<()> {
    let LoadHow {
        wait,
        timeout,
        revert,
    } = how;
    let file = &module_file_of(ctx, file)?;
    let f = file.display();
    let bytes = fs::read(file).map_err(|e| KlpError::io(format!("reading {f}"), &e))?;
    let name = if let Some(name) = compressed::name_to_load(io.err, file, &bytes)? {
        name
    } else {
        let info = elf::read_modinfo(&bytes).map_err(|e| KlpError::error(format!("{f}: {e}")))?;
        if !info.is_livepatch() {
            return Err(KlpError::error(format!(
                "{f}: not a livepatch module (its .modinfo has no livepatch=Y); \
                 load ordinary modules with insmod or modprobe"
            )));
        }
        module_name(&info, file)
    };
    model::check_name(&name)?;
    ctx.env.check_support()?;
    require_root(ctx, "loading a module")?;
    if ctx.env.patch_dir(&name).exists() {
        // Idempotent for automation: a patch that is loaded and enabled is what was asked.
        let p = model::read_patch(&ctx.env, &name)?;
        if !p.enabled {
            return Err(KlpError::error(format!(
                "livepatch '{name}' is loaded but disabled ({}): Linux cannot re-enable it; \
                 `klp unload {name}` and load it again",
                p.state()
            )));
        }
        if !p.transition || !wait {
            let msg = format!("{name}: already loaded, {}", p.state());
            return report(ctx, io, "load", &name, p.state(), msg);
        }
        let w = wait_transition(ctx, io, &name, timeout)?;
        return finished(ctx, io, "load", &name, w);
    }
    busy_with_other(&ctx.env, &name)?;
    let fh = File::open(file).map_err(|e| KlpError::io(format!("opening {f}"), &e))?;
    let log = ctx.kernel.log_cursor();
    ctx.kernel
        .finit_module(&fh, &name, &params.join(" "))
        .map_err(|e| {
            let mut err = load_error(&name, file, &e);
            // What the kernel said about the refusal: the livepatch core's lines, the module's.
            let said: Vec<String> = log
                .map(|l| l.messages(200))
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.contains("livepatch") || m.contains(name.as_str()))
                .collect();
            if !said.is_empty() {
                err.message.push_str("\nthe kernel said:");
                for m in said.iter().rev().take(KERNEL_LINES).rev() {
                    err.message.push_str(&format!("\n  {m}"));
                }
            }
            err
        })?;
    if !ctx.env.patch_dir(&name).exists() {
        return Err(KlpError::error(format!(
            "module '{name}' loaded, but {} did not appear",
            ctx.env.patch_dir(&name).display()
        )));
    }
    let _ = writeln!(io.err, "klp: loaded '{name}' from {f}");
    if !wait {
        let p = model::read_patch(&ctx.env, &name)?;
        let msg = format!("{name}: {} (not waiting: `klp wait {name}`)", p.state());
        return report(ctx, io, "load", &name, p.state(), msg);
    }
    match wait_transition(ctx, io, &name, timeout) {
        Ok(w) => finished(ctx, io, "load", &name, w),
        Err(mut e) if e.kind == Kind::Timeout && revert => {
            // kpatch's policy: a patch that cannot be applied in time is taken back out.
            let _ = writeln!(io.err, "klp: reverting '{name}' (--on-timeout=revert)");
            let first = e.message.lines().next().unwrap_or_default().to_string();
            e.message = match remove(ctx, io, &name, timeout) {
                Ok(()) => format!(
                    "{first}; reverted (--on-timeout=revert): the transition was reversed and \
                     module '{name}' removed{}",
                    e.message.strip_prefix(first.as_str()).unwrap_or_default()
                ),
                Err(r) => format!("{}\nreverting failed: {}", e.message, r.message),
            };
            Err(e)
        }
        Err(mut e) => {
            e.message = format!("module '{name}' loaded, but {}", e.message);
            Err(e)
        }
    }
}

// ---------------------------------------------------------------- unload

pub fn unload(ctx: &Ctx, io: &mut Io, name: &str, timeout: Option<Duration>) -> Result<()> {
    let name = &model::patch_name(name)?;
    remove(ctx, io, name, timeout)?;
    let msg = format!("{name}: unloaded");
    report(ctx, io, "unload", name, "unloaded", msg)
}

/// Disables the patch `name` if it is enabled (reversing its patching transition if it runs),
/// waits for its transition, and removes its module.
fn remove(ctx: &Ctx, io: &mut Io, name: &str, timeout: Option<Duration>) -> Result<()> {
    ctx.env.check_support()?;
    require_root(ctx, "unloading a module")?;
    let start = Instant::now();
    let mut disabled = false;
    if ctx.env.patch_dir(name).is_dir() {
        let p = model::read_patch(&ctx.env, name)?;
        if p.enabled {
            busy_with_other(&ctx.env, name)?;
            let path = ctx.env.patch_dir(name).join("enabled");
            ctx.kernel
                .write_attr(&path, "0")
                .map_err(|e| write_enabled_error(name, false, &path, &e))?;
            let _ = writeln!(io.err, "klp: disabling '{name}'");
            disabled = true;
        }
        if p.enabled || p.transition {
            disabled = true;
            wait_transition(ctx, io, name, timeout).map_err(|mut e| {
                e.message = format!("'{name}' not unloaded: {}", e.message);
                e
            })?;
        }
    } else {
        let m = model::read_module(&ctx.env, name);
        if !m.loaded {
            return Err(model::unknown_patch(&ctx.env, name));
        }
        if !m.livepatch {
            return Err(KlpError::error(format!(
                "module '{name}' is not a livepatch module: unload it with rmmod"
            )));
        }
    }
    loop {
        match ctx.kernel.delete_module(name) {
            Ok(()) => break,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EBUSY)) => {
                // The kernel drops the patch's module reference asynchronously
                // after the transition; a forced patch keeps it forever.
                if let Some(t) = timeout {
                    if start.elapsed() >= t {
                        let refcnt = model::read_module(&ctx.env, name)
                            .refcnt
                            .map(|r| r.to_string())
                            .unwrap_or_else(|| "?".into());
                        return Err(KlpError::timeout(format!(
                            "timed out after {:.1}s: module '{name}' is still in use (refcnt \
                             {refcnt}): {}; the module of a patch whose transition was forced \
                             can never be removed",
                            start.elapsed().as_secs_f64(),
                            describe_io(&e)
                        )));
                    }
                }
                sleep(ctx.poll);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && disabled => break,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Err(KlpError::not_found(format!(
                    "module '{name}' is not loaded: {}",
                    describe_io(&e)
                )))
            }
            Err(e) => return Err(KlpError::io(format!("delete_module({name})"), &e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::FakeKernel;
    use crate::testkit::FakeTree;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// The fake kernel plus a simulated transition: writing `enabled` starts
    /// one, which ends `delay` later (a disabled patch is then freed, as
    /// the kernel does).
    struct SimKernel {
        fake: FakeKernel,
        delay: Duration,
        root: bool,
        fail_writes: Option<i32>,
    }

    impl Kernel for SimKernel {
        fn write_attr(&self, path: &Path, value: &str) -> io::Result<()> {
            if let Some(errno) = self.fail_writes {
                return Err(io::Error::from_raw_os_error(errno));
            }
            self.fake.write_attr(path, value)?;
            if path.file_name().and_then(|n| n.to_str()) == Some("enabled") {
                let dir = path.parent().unwrap().to_path_buf();
                fs::write(dir.join("transition"), "1\n")?;
                let delay = self.delay;
                let enable = value == "1";
                std::thread::spawn(move || {
                    sleep(delay);
                    if enable {
                        let _ = crate::testkit::write_atomic(&dir.join("transition"), "0\n");
                    } else {
                        let _ = fs::remove_dir_all(&dir);
                    }
                });
            }
            Ok(())
        }
        fn finit_module(&self, f: &File, name: &str, params: &str) -> io::Result<()> {
            self.fake.finit_module(f, name, params)
        }
        fn delete_module(&self, name: &str) -> io::Result<()> {
            self.fake.delete_module(name)
        }
        fn is_root(&self) -> bool {
            self.root
        }
    }

    fn ctx(t: &FakeTree, k: SimKernel) -> Ctx {
        Ctx {
            env: t.env(),
            kernel: Box::new(k),
            json: false,
            poll: Duration::from_millis(20),
            scan_every: Duration::from_millis(20),
            tty: false,
        }
    }

    fn sim(t: &FakeTree) -> SimKernel {
        SimKernel {
            fake: FakeKernel { sysfs: t.sysfs() },
            delay: Duration::from_millis(150),
            root: true,
            fail_writes: None,
        }
    }

    struct Out {
        out: Vec<u8>,
        err: Vec<u8>,
    }

    impl Out {
        fn new() -> Out {
            Out {
                out: Vec::new(),
                err: Vec::new(),
            }
        }
        fn run<T>(&mut self, stdin: &str, f: impl FnOnce(&mut Io) -> T) -> T {
            let mut input = stdin.as_bytes();
            let mut io = Io {
                out: &mut self.out,
                err: &mut self.err,
                input: &mut input,
            };
            f(&mut io)
        }
        fn out(&self) -> String {
            String::from_utf8_lossy(&self.out).into_owned()
        }
        fn err(&self) -> String {
            String::from_utf8_lossy(&self.err).into_owned()
        }
    }

    fn demo(t: &FakeTree) {
        t.patch("lp", true, false)
            .object("vmlinux", true, &["cmdline_proc_show,1"]);
        t.module("lp", 0, true);
    }

    #[test]
    fn disable_waits_until_the_kernel_frees_the_patch() {
        let t = FakeTree::temp();
        demo(&t);
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        let start = Instant::now();
        o.run("", |io| {
            set_enabled(&c, io, "lp", false, true, Some(Duration::from_secs(5)))
        })
        .unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(150),
            "did not wait"
        );
        assert!(
            o.out().contains("lp: disabled; the kernel freed the patch"),
            "{}",
            o.out()
        );
        assert!(o.err().contains("klp: unpatching 'lp'"), "{}", o.err());
    }

    #[test]
    fn enable_reverses_an_unpatching_transition_and_waits() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/enabled", "0");
        t.set("kernel/livepatch/lp/transition", "1");
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        o.run("", |io| {
            set_enabled(&c, io, "lp", true, true, Some(Duration::from_secs(5)))
        })
        .unwrap();
        assert!(
            o.err().contains("reversing the unpatching transition"),
            "{}",
            o.err()
        );
        assert_eq!(o.out().trim(), "lp: applied");
        assert_eq!(t.get("kernel/livepatch/lp/enabled"), "1");
    }

    #[test]
    fn kernel_errors_on_enabled_are_explained() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/enabled", "0");
        let mut k = sim(&t);
        k.fail_writes = Some(libc::EINVAL);
        let c = ctx(&t, k);
        let e = Out::new()
            .run("", |io| set_enabled(&c, io, "lp", true, true, None))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Error);
        assert!(e.message.contains("EINVAL"), "{}", e.message);
        assert!(e.message.contains("cannot be re-enabled"), "{}", e.message);

        let mut k = sim(&t);
        k.fail_writes = Some(libc::EBUSY);
        let c = ctx(&t, k);
        let e = Out::new()
            .run("", |io| set_enabled(&c, io, "lp", true, true, None))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Busy);
        assert!(
            e.message.contains("another livepatch transition"),
            "{}",
            e.message
        );
    }

    #[test]
    fn writes_need_root_but_reads_do_not() {
        let t = FakeTree::temp();
        demo(&t);
        let mut k = sim(&t);
        k.root = false;
        let c = ctx(&t, k);
        for f in [
            &|io: &mut Io| set_enabled(&c, io, "lp", false, true, None) as Result<()>,
            &|io: &mut Io| unload(&c, io, "lp", None),
            &|io: &mut Io| force(&c, io, "lp", true, false, None),
        ] as [&dyn Fn(&mut Io) -> Result<()>; 3]
        {
            let e = Out::new().run("", f).unwrap_err();
            assert_eq!(e.kind, Kind::Permission, "{}", e.message);
        }
        assert_eq!(t.get("kernel/livepatch/lp/enabled"), "1");
        let mut o = Out::new();
        o.run("", |io| list(&c, io)).unwrap();
        assert!(o.out().starts_with("lp  enabled=1"), "{}", o.out());
    }

    #[test]
    fn another_transition_makes_writes_busy_without_writing() {
        let t = FakeTree::temp();
        demo(&t);
        t.patch("other", true, true);
        let c = ctx(&t, sim(&t));
        let e = Out::new()
            .run("", |io| set_enabled(&c, io, "lp", false, true, None))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Busy);
        assert!(e.message.contains("'other'"), "{}", e.message);
        assert_eq!(t.get("kernel/livepatch/lp/enabled"), "1");
        assert!(t.calls().is_empty(), "{}", t.calls());
    }

    #[test]
    fn unload_disables_waits_and_deletes_the_module() {
        let t = FakeTree::temp();
        demo(&t);
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        o.run("", |io| unload(&c, io, "lp", Some(Duration::from_secs(5))))
            .unwrap();
        assert_eq!(o.out().trim(), "lp: unloaded");
        assert!(!t.path("module/lp").exists());
        let calls = t.calls();
        let lines: Vec<_> = calls.lines().collect();
        assert_eq!(lines.len(), 2, "{calls}");
        assert!(
            lines[0].starts_with("write ") && lines[0].ends_with("/lp/enabled 0"),
            "{calls}"
        );
        assert_eq!(lines[1], "delete_module lp");
    }

    #[test]
    fn unload_takes_a_module_file_or_dashed_name_for_the_patch() {
        for arg in ["lp.ko", "lp.ko.zst"] {
            let t = FakeTree::temp();
            demo(&t);
            let c = ctx(&t, sim(&t));
            let mut o = Out::new();
            o.run("", |io| unload(&c, io, arg, Some(Duration::from_secs(5))))
                .unwrap();
            assert_eq!(o.out().trim(), "lp: unloaded", "{arg}");
            assert!(
                t.calls().ends_with("delete_module lp\n"),
                "{arg}: {}",
                t.calls()
            );
        }
        assert_eq!(
            model::patch_name("livepatch-sample.ko").unwrap(),
            "livepatch_sample"
        );
        assert_eq!(model::patch_name("x-y").unwrap(), "x_y");
        assert!(model::patch_name("a/b.ko").is_err());
    }

    #[test]
    fn unload_retries_while_the_module_is_in_use() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("module/lp/refcnt", "1");
        let c = ctx(&t, sim(&t));
        let refcnt = t.path("module/lp/refcnt");
        let done = Arc::new(AtomicBool::new(false));
        let d2 = done.clone();
        let h = std::thread::spawn(move || {
            sleep(Duration::from_millis(400));
            crate::testkit::write_atomic(&refcnt, "0\n").unwrap();
            d2.store(true, Ordering::SeqCst);
        });
        Out::new()
            .run("", |io| unload(&c, io, "lp", Some(Duration::from_secs(5))))
            .unwrap();
        assert!(
            done.load(Ordering::SeqCst),
            "unloaded before the refcount dropped"
        );
        h.join().unwrap();
        assert!(
            t.calls().matches("delete_module lp").count() >= 2,
            "{}",
            t.calls()
        );
    }

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
    fn force_asks_and_only_writes_on_yes() {
        let t = FakeTree::temp();
        demo(&t);
        t.set("kernel/livepatch/lp/transition", "1");
        t.task(7, 7, "a", 0, &[]);
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        let e = o
            .run("no\n", |io| force(&c, io, "lp", false, false, None))
            .unwrap_err();
        assert_eq!(e.kind, Kind::Error);
        assert!(o.err().contains("consistency model"), "{}", o.err());
        assert!(o.err().contains("can never be removed"), "{}", o.err());
        assert!(o.err().contains("1 task not yet switched"), "{}", o.err());
        assert_eq!(t.get("kernel/livepatch/lp/force"), "");
        let e = Out::new()
            .run("", |io| force(&c, io, "lp", false, false, None))
            .unwrap_err();
        assert!(e.message.contains("--yes"), "{}", e.message);
        assert_eq!(t.get("kernel/livepatch/lp/force"), "");
        let mut o = Out::new();
        o.run("yes\n", |io| force(&c, io, "lp", false, false, None))
            .unwrap();
        assert_eq!(t.get("kernel/livepatch/lp/force"), "1");
        assert!(o.out().contains("lp: transition forced"), "{}", o.out());
    }

    #[test]
    fn force_refuses_when_not_in_transition() {
        let t = FakeTree::temp();
        demo(&t);
        let c = ctx(&t, sim(&t));
        let e = Out::new()
            .run("yes\n", |io| force(&c, io, "lp", true, false, None))
            .unwrap_err();
        assert!(e.message.contains("not in transition"), "{}", e.message);
        assert!(t.calls().is_empty());
    }

    #[test]
    fn load_rejects_modules_without_livepatch_y() {
        let t = FakeTree::temp();
        let f = t.module_file("plain.ko", &["name=plain", "license=GPL"]);
        let c = ctx(&t, sim(&t));
        let e = Out::new()
            .run("", |io| {
                load(
                    &c,
                    io,
                    &f,
                    &[],
                    LoadHow {
                        wait: true,
                        timeout: None,
                        revert: false,
                    },
                )
            })
            .unwrap_err();
        assert_eq!(e.kind, Kind::Error);
        assert!(
            e.message.contains("not a livepatch module"),
            "{}",
            e.message
        );
        assert!(t.calls().is_empty(), "{}", t.calls());
    }

    #[test]
    fn load_names_the_module_from_modinfo_or_the_file() {
        let t = FakeTree::temp();
        let mi = elf::ModInfo {
            entries: vec![("livepatch".into(), "Y".into())],
        };
        assert_eq!(
            module_name(&mi, Path::new("/x/livepatch-sample.ko")),
            "livepatch_sample"
        );
        let f = t.module_file("file-name.ko", &["livepatch=Y", "name=real_name"]);
        let c = ctx(&t, sim(&t));
        let mut o = Out::new();
        o.run("", |io| {
            load(
                &c,
                io,
                &f,
                &["a=1".into(), "b=2".into()],
                LoadHow {
                    wait: true,
                    timeout: None,
                    revert: false,
                },
            )
        })
        .unwrap();
        assert!(
            t.calls().contains("finit_module real_name a=1 b=2"),
            "{}",
            t.calls()
        );
        assert_eq!(o.out().trim(), "real_name: applied");
    }
}
