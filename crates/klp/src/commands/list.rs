// SPDX-License-Identifier: GPL-2.0
//! `klp list` and `klp status`: the patches, their objects and functions, the
//! unreadable patches and the orphan modules.

use super::output::{b01, opt01, plural, print_json};
use super::wait::{progress, Progress};
use super::{scan, Ctx, Io};
use crate::error::Result;
use crate::model::{self, Function, ModuleInfo, Patch};
use crate::stack;
use serde::Serialize;

#[derive(Serialize)]
struct ListJson<'a> {
    patches: &'a [Patch],
    /// The patches whose sysfs directory could not be read.
    unreadable: Vec<UnreadableJson<'a>>,
    /// Loaded livepatch modules without a patch: replaced or disabled, not removed.
    orphan_modules: &'a [String],
    /// The functions of a patch that a newer patch also patches, and whose version runs.
    overridden: Vec<OverriddenJson<'a>>,
}

#[derive(Serialize)]
struct OverriddenJson<'a> {
    patch: &'a str,
    object: &'a str,
    function: &'a str,
    sympos: u64,
    by: &'a str,
}

#[derive(Serialize)]
struct UnreadableJson<'a> {
    name: &'a str,
    message: &'a str,
}

/// The objects and functions of `p`; a function that a newer patch of `stack` (the patches,
/// oldest first) also patches is marked with the patch whose version runs.
fn write_objects(io: &mut Io, p: &Patch, with_count: bool, stack: &[&Patch]) {
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
            let by = overrider(stack, p, &o.name, f);
            let mark = by.map_or(String::new(), |l| format!("  (overridden by {})", l.name));
            let _ = writeln!(io.out, "    {},{}{mark}", f.name, f.sympos);
        }
    }
}

/// The patch whose version of `p`'s function `f` (of `object`) runs, if it is not `p`'s.
fn overrider<'a>(stack: &[&'a Patch], p: &Patch, object: &str, f: &Function) -> Option<&'a Patch> {
    stack::live(stack, object, f).filter(|l| l.name != p.name)
}

/// Every function of `stack` that a newer patch overrides.
fn overridden<'a>(stack: &[&'a Patch]) -> Vec<OverriddenJson<'a>> {
    let mut v = Vec::new();
    for p in stack {
        for o in &p.objects {
            for f in &o.functions {
                if let Some(by) = overrider(stack, p, &o.name, f) {
                    v.push(OverriddenJson {
                        patch: &p.name,
                        object: &o.name,
                        function: &f.name,
                        sympos: f.sympos,
                        by: &by.name,
                    });
                }
            }
        }
    }
    v
}

/// Lists the patches that can be read; one that cannot (a malformed directory) is named with
/// its error, in the listing and on stderr, and does not hide the others.
pub fn list(ctx: &Ctx, io: &mut Io) -> Result<()> {
    let (patches, unreadable) = model::read_patches(&ctx.env)?;
    let orphans = model::orphan_modules(&ctx.env);
    let stack = stack::oldest_first(&ctx.env, &patches);
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
                overridden: overridden(&stack),
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
        write_objects(io, p, false, &stack);
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
    write_objects(io, p, true, &[]);
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
