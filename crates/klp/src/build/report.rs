// SPDX-License-Identifier: GPL-2.0
//! What `klp build` says: the changed, new and removed functions of each file
//! (and the module it wrote), or why the change cannot be live patched.

use super::compare::Changes;
use super::kbuild::Recorded;
use crate::commands::{print_json, Ctx, Io};
use crate::error::Result;
use serde::Serialize;
use std::path::Path;

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The source file, relative to the source tree.
    pub file: String,
    /// Its object, relative to the build directory.
    pub object: String,
    pub changed_functions: Vec<String>,
    pub new_functions: Vec<String>,
    pub removed_functions: Vec<String>,
    /// Changed read-only static locals, copied with their function.
    pub static_consts: Vec<String>,
}

impl FileReport {
    pub fn new(rec: &Recorded, c: Changes) -> FileReport {
        FileReport {
            file: rec.file.clone(),
            object: rec.object.clone(),
            changed_functions: c.changed,
            new_functions: c.new,
            removed_functions: c.removed,
            static_consts: c.static_consts,
        }
    }
}

/// Why the changes of one file cannot be live patched; empty if they can.
pub fn refusals(file: &str, c: &Changes) -> Vec<String> {
    let init = c.changed_init.iter().map(|f| {
        format!(
            "{file}: {f} is __init (it ran at boot and was freed; a live patch cannot replace it)"
        )
    });
    let data = c.changed_data.iter().map(|d| {
        format!(
            "{file}: changed initialised data: {d} \
             (live patches cannot change data; use a shadow variable)"
        )
    });
    let prototypes = c.changed_prototypes.iter().map(|p| {
        format!(
            "{file}: the prototype of {} changed ({} -> {}); a live patch cannot change a \
             function's arguments or result",
            p.function, p.old, p.new
        )
    });
    init.chain(data).chain(prototypes).collect()
}

#[derive(Serialize)]
struct Report<'a> {
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    files: &'a [FileReport],
}

/// The report of a dry run.
pub fn print(ctx: &Ctx, io: &mut Io, files: &[FileReport]) -> Result<()> {
    print_report(ctx, io, files, None)
}

/// The report of a build that wrote the module `out`.
pub fn print_built(ctx: &Ctx, io: &mut Io, files: &[FileReport], out: &Path) -> Result<()> {
    print_report(ctx, io, files, Some(out))
}

fn print_report(ctx: &Ctx, io: &mut Io, files: &[FileReport], out: Option<&Path>) -> Result<()> {
    if ctx.json {
        return print_json(
            io,
            &Report {
                dry_run: out.is_none(),
                output: out.map(|o| o.display().to_string()),
                files,
            },
        );
    }
    let (mut changed, mut new, mut removed) = (0, 0, 0);
    for f in files {
        let _ = writeln!(io.out, "{} ({}):", f.file, f.object);
        for (what, names) in [
            ("changed", &f.changed_functions),
            ("new", &f.new_functions),
            ("removed", &f.removed_functions),
            ("copied", &f.static_consts),
        ] {
            for n in names {
                let _ = writeln!(io.out, "  {what:<8} {n}");
            }
        }
        if f.changed_functions.is_empty()
            && f.new_functions.is_empty()
            && f.removed_functions.is_empty()
        {
            let _ = writeln!(io.out, "  no function changes");
        }
        changed += f.changed_functions.len();
        new += f.new_functions.len();
        removed += f.removed_functions.len();
    }
    let _ = match out {
        None => writeln!(
            io.out,
            "dry run: {changed} changed, {new} new, {removed} removed functions; \
             no patch module generated"
        ),
        Some(o) => writeln!(
            io.out,
            "{}: {changed} changed, {new} new functions ({removed} removed, left in place)",
            o.display()
        ),
    };
    Ok(())
}
