// SPDX-License-Identifier: GPL-2.0
//! `klp build --dry-run --src SRCDIR --build BUILDDIR PATCH.diff`: which
//! functions a diff against the kernel source changes, the first stage of a
//! patch module generator (which does not exist yet). Each changed `.c` file is
//! compiled twice, original and patched, with the command kbuild recorded for it,
//! and the two objects are compared. See Documentation/livepatch/klp-build.rst.

mod compare;
mod compile;
mod diff;
mod dwarf;
mod kbuild;
mod report;

use crate::commands::{Ctx, Io};
use crate::error::{Kind, KlpError, Result};
use clap::Args;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct BuildArgs {
    /// Only report the functions that the diff changes (required: generating the
    /// patch module is not implemented yet)
    #[arg(long)]
    pub dry_run: bool,
    /// The kernel source tree that the diff applies to (read only)
    #[arg(long, value_name = "SRCDIR")]
    pub src: PathBuf,
    /// The kernel's build directory (O=), with kbuild's .cmd files (read only)
    #[arg(long, value_name = "BUILDDIR")]
    pub build: PathBuf,
    /// Run the recorded compile commands in this root (unshare + chroot, needs root):
    /// the one the kernel was built in, when its commands name the source tree by
    /// another path than SRCDIR (rust-klp's: ~/.cache/rust-klp/root)
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The unified diff against SRCDIR (-p1 paths: a/fs/..., b/fs/...)
    #[arg(value_name = "PATCH.diff")]
    pub patch: PathBuf,
}

pub fn build(ctx: &Ctx, io: &mut Io, args: &BuildArgs) -> Result<()> {
    if !args.dry_run {
        return Err(KlpError::new(
            Kind::Usage,
            "generating the patch module is not implemented yet; use --dry-run to see the \
             changed functions",
        ));
    }
    let text = fs::read_to_string(&args.patch)
        .map_err(|e| KlpError::io(format!("reading {}", args.patch.display()), &e))?;
    let files = diff::changed_files(&text)?;
    for f in &files {
        diff::check_supported(f)?;
    }
    let recorded = files
        .iter()
        .map(|f| kbuild::recorded(&args.build, f))
        .collect::<Result<Vec<_>>>()?;
    let tmp = tempfile::Builder::new()
        .prefix("klp-build.")
        .tempdir()
        .map_err(|e| KlpError::io("creating a temporary directory", &e))?;
    let (original, patched) = (tmp.path().join("a"), tmp.path().join("b"));
    for f in &files {
        copy_into(&args.src, f, &original)?;
        copy_into(&args.src, f, &patched)?;
    }
    diff::apply(&args.patch, &patched)?;
    let compiler = compile::Compiler::new(
        &args.src,
        &args.build,
        recorded[0].srctree(),
        args.root.as_deref(),
        tmp.path(),
    )?;
    let mut reports = Vec::new();
    let mut refused = Vec::new();
    for rec in &recorded {
        let _ = writeln!(io.err, "klp: compiling {} (original and patched)", rec.file);
        let old = compiler.compile(rec, &original, "original")?;
        let new = compiler.compile(rec, &patched, "patched")?;
        let read = |p: &Path| fs::read(p).map_err(|e| KlpError::io(p.display(), &e));
        let changes = compare::compare(&read(&old)?, &read(&new)?)
            .map_err(|e| KlpError::error(format!("comparing the objects of {}: {e}", rec.file)))?;
        refused.extend(report::refusals(&rec.file, &changes));
        reports.push(report::FileReport::new(rec, changes));
    }
    if !refused.is_empty() {
        return Err(KlpError::error(refused.join("\n")));
    }
    report::print(ctx, io, &reports)
}

/// Copies `src/file` to `dir/file`.
fn copy_into(src: &Path, file: &str, dir: &Path) -> Result<()> {
    let to = dir.join(file);
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| KlpError::io(parent.display(), &e))?;
    }
    let from = src.join(file);
    fs::copy(&from, &to)
        .map(drop)
        .map_err(|e| KlpError::io(format!("copying {}", from.display()), &e))
}
