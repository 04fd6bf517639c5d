// SPDX-License-Identifier: GPL-2.0
//! `klp build --src SRCDIR --build BUILDDIR -o OUT.ko PATCH.diff`: a livepatch
//! module from a diff against the kernel source (`--dry-run`: only which
//! functions it changes). Each changed `.c` file is compiled twice, original and
//! patched, with the command kbuild recorded for it, and the two objects are
//! compared; the changed and new functions are extracted into an object of their
//! own, linked by kbuild with the generated `klp_patch` into the module, whose
//! relocations to what it cannot link against become klp relocations. See
//! Documentation/livepatch/klp-build.rst.

mod compare;
mod compile;
mod diff;
mod dwarf;
mod extract;
mod insn;
mod kbuild;
mod module;
mod report;
mod symbols;

use crate::commands::{Ctx, Io};
use crate::error::{Kind, KlpError, Result};
use clap::Args;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct BuildArgs {
    /// Only report the functions that the diff changes; generate no module
    #[arg(long, conflicts_with = "output")]
    pub dry_run: bool,
    /// Write the patch module here (its name, the file's without .ko, is the
    /// patch's name in /sys/kernel/livepatch)
    #[arg(short = 'o', long, value_name = "OUT.ko")]
    pub output: Option<PathBuf>,
    /// Make the patch an atomic replace of the patches enabled before it
    #[arg(long, requires = "output")]
    pub replace: bool,
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
    let module_name = match (&args.output, args.dry_run) {
        (Some(out), _) => Some(module_name(out)?),
        (None, true) => None,
        (None, false) => {
            return Err(KlpError::new(
                Kind::Usage,
                "say where to write the patch module (-o OUT.ko), or --dry-run to only see \
                 the changed functions",
            ))
        }
    };
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
    compiler.check_compiler(&args.build, &recorded[0].argv[0])?;
    let mut reports = Vec::new();
    let mut refused = Vec::new();
    let mut objects = Vec::new();
    for rec in &recorded {
        let _ = writeln!(io.err, "klp: compiling {} (original and patched)", rec.file);
        let old = compiler.compile(rec, &original, "original")?;
        let new = compiler.compile(rec, &patched, "patched")?;
        let (old, new) = (read(&old)?, read(&new)?);
        check_source(&args.build, rec, &old)?;
        let changes = compare::compare(&old, &new)
            .map_err(|e| KlpError::error(format!("comparing the objects of {}: {e}", rec.file)))?;
        refused.extend(report::refusals(&rec.file, &changes));
        reports.push(report::FileReport::new(rec, changes));
        objects.push((old, new));
    }
    if !refused.is_empty() {
        return Err(KlpError::error(refused.join("\n")));
    }
    let (Some(name), Some(out)) = (module_name, &args.output) else {
        return report::print(ctx, io, &reports);
    };
    let started = std::time::Instant::now();
    let vmlinux = symbols::Symbols::vmlinux(&args.build)?;
    // The module targets' symbols, by module name.
    let mut modules = HashMap::new();
    for rec in &recorded {
        if let Some(m) = &rec.module {
            if !modules.contains_key(m) {
                let ko = kbuild::module_ko(&args.build, rec, m)?;
                modules.insert(m.clone(), symbols::Symbols::module(&ko, m)?);
            }
        }
    }
    let moddir = tmp.path().join("module");
    fs::create_dir(&moddir).map_err(|e| KlpError::io(moddir.display(), &e))?;
    let mut targets: Vec<module::Target> = Vec::new();
    let mut shipped = Vec::new();
    // Each callback, and the file that defines it.
    let mut callbacks: Vec<(&str, &str)> = Vec::new();
    for (i, ((report, (old, new)), rec)) in reports.iter().zip(&objects).zip(&recorded).enumerate()
    {
        if report.changed_functions.is_empty() && report.new_functions.is_empty() {
            continue;
        }
        if let Some(f) = report
            .changed_functions
            .iter()
            .chain(&report.new_functions)
            .find(|f| f.contains('#'))
        {
            return Err(KlpError::error(format!(
                "{}: two functions named {} in one file: not supported yet",
                report.file,
                f.split('#').next().unwrap_or(f)
            )));
        }
        let file = &report.file;
        // The object the file is built into, and the patch's klp_object for it.
        let object = rec.module.as_ref().map_or(&vmlinux, |m| &modules[m]);
        let t = match targets.iter().position(|t| t.module == rec.module) {
            Some(t) => t,
            None => {
                targets.push(module::Target {
                    module: rec.module.clone(),
                    ..module::Target::default()
                });
                targets.len() - 1
            }
        };
        for f in &report.new_functions {
            let Some(kind) = extract::callback_of(f) else {
                continue;
            };
            if let Some((_, other)) = callbacks.iter().find(|c| c.0 == kind) {
                return Err(KlpError::error(format!(
                    "{f} is defined in {other} and in {file}: one callback of each kind"
                )));
            }
            check_callback(new, f, kind, file)?;
            callbacks.push((kind, file));
            targets[t].callbacks.push(kind);
        }
        // What the patched object defines is linked there, the rest in vmlinux.
        let link = |sym: &str, local: bool| {
            let home = if object.defines(sym, file, local) {
                object
            } else {
                &vmlinux
            };
            home.link(sym, file, local)
                .map_err(|e| format!("a reference to {sym}: {e}"))
        };
        let bytes = extract::extract(
            old,
            new,
            &report.changed_functions,
            &report.new_functions,
            &report.static_consts,
            &link,
        )
        .map_err(|e| KlpError::error(format!("{file}: extracting the functions: {e}")))?;
        let stem = format!("klp-{i}-{}", shipped_stem(file));
        write(&moddir.join(format!("{stem}.o_shipped")), &bytes)?;
        shipped.push(stem);
        for f in &report.changed_functions {
            let local = is_local(new, f);
            let old_sympos = object
                .sympos(f, file, local)
                .map_err(|e| KlpError::error(format!("{file}: the patched function {f}: {e}")))?;
            if old_sympos != 0 {
                let _ = writeln!(
                    io.err,
                    "klp: {f} is the {} symbol {old_sympos} of that name (old_sympos)",
                    object.object()
                );
            }
            targets[t].funcs.push(module::Func {
                old_name: f.clone(),
                old_sympos,
                new_name: format!("{}{f}", extract::NEW_PREFIX),
            });
        }
    }
    let nfuncs: usize = targets.iter().map(|t| t.funcs.len()).sum();
    if nfuncs == 0 {
        return Err(KlpError::error(
            "the diff changes no function: there is nothing to patch",
        ));
    }
    let from = args.patch.file_name().unwrap_or_default().to_string_lossy();
    write(
        &moddir.join(format!("{name}-meta.c")),
        module::metadata(&name, &from, &targets, args.replace).as_bytes(),
    )?;
    write(
        &moddir.join("Kbuild"),
        module::kbuild(&name, &shipped).as_bytes(),
    )?;
    let _ = writeln!(io.err, "klp: building the patch module {name}");
    let mut make = vec![
        "make".to_string(),
        "-C".to_string(),
        compiler.build_dir().display().to_string(),
        format!("M={}", compiler.seen_path(&moddir).display()),
        // The .klp.sym.* symbols are undefined until they are made klp
        // relocations, after the link: modpost only warns of them.
        "KBUILD_MODPOST_WARN=1".to_string(),
    ];
    if recorded[0].argv[0].contains("clang") {
        make.push("LLVM=1".to_string());
        // clang's address-significance table (SHT_LLVM_ADDRSIG), which nothing
        // of a module uses, is a section type that the ELF builder cannot read.
        make.push("KCFLAGS=-fno-addrsig".to_string());
    }
    make.push("modules".to_string());
    let said = compiler.run(&make, &format!("building the patch module {name}"))?;
    check_modpost(&said)?;
    let ko = read(&moddir.join(format!("{name}.ko")))?;
    let (ko, n) = module::klp_relocations(&ko)
        .map_err(|e| KlpError::error(format!("making the klp relocations of {name}.ko: {e}")))?;
    write(out, &ko)?;
    let _ = writeln!(
        io.err,
        "klp: wrote {} ({} functions, {n} klp relocations; {:.1} s after the compiles)",
        out.display(),
        nfuncs,
        started.elapsed().as_secs_f64()
    );
    report::print_built(ctx, io, &reports, out)
}

fn read(p: &Path) -> Result<Vec<u8>> {
    fs::read(p).map_err(|e| KlpError::io(p.display(), &e))
}

fn write(p: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(p, bytes).map_err(|e| KlpError::io(format!("writing {}", p.display()), &e))
}

/// The module's name, from `OUT.ko`: a C identifier once `-` is `_`, as kbuild's.
fn module_name(out: &Path) -> Result<String> {
    let file = out.file_name().unwrap_or_default().to_string_lossy();
    let name = file.strip_suffix(".ko").unwrap_or("").replace('-', "_");
    let ident = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| !c.is_ascii_digit());
    if !ident || name.len() > 55 {
        return Err(KlpError::new(
            Kind::Usage,
            format!(
                "{}: the patch module must be NAME.ko, NAME made of letters, digits, _ and -, \
                 at most 55 characters, not starting with a digit (it names the module and \
                 the patch)",
                out.display()
            ),
        ));
    }
    Ok(name)
}

/// `fs_proc_cmdline` for `fs/proc/cmdline.c`.
fn shipped_stem(file: &str) -> String {
    file.strip_suffix(".c")
        .unwrap_or(file)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A callback must have the prototype that its `klp_callbacks` field has.
fn check_callback(object: &[u8], name: &str, kind: &str, file: &str) -> Result<()> {
    let want = extract::CALLBACKS
        .iter()
        .find(|c| c.0 == kind)
        .map_or("", |c| c.1);
    let protos = dwarf::prototypes(object)
        .map_err(|e| KlpError::error(format!("{file}: the patched object: {e}")))?;
    match protos.get(name) {
        Some(p) if p == want => {}
        Some(p) => {
            return Err(KlpError::error(format!(
                "{file}: the callback {name} is {p}; it must be {want}"
            )))
        }
        None => {
            return Err(KlpError::error(format!(
                "{file}: the callback {name} has no debug info to check its prototype ({want})"
            )))
        }
    }
    Ok(())
}

/// Whether the function `name` of the object is local (static).
fn is_local(object: &[u8], name: &str) -> bool {
    use object::{Object, ObjectSymbol};
    object::File::parse(object).is_ok_and(|f| {
        f.symbols()
            .any(|s| s.name() == Ok(name) && s.is_definition() && s.is_local())
    })
}

/// Refuses the module if modpost found an undefined symbol other than a
/// `.klp.sym.*` one (it only warns: KBUILD_MODPOST_WARN).
fn check_modpost(said: &str) -> Result<()> {
    let bad: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("modpost:") && l.contains("undefined!"))
        .filter(|l| !l.contains("\".klp.sym."))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(KlpError::error(format!(
        "the patch module uses symbols that neither vmlinux exports nor a klp relocation \
         names:\n{}",
        bad.join("\n")
    )))
}

/// Refuses a source tree that is not the one the kernel was built from: the
/// original file, compiled, must define the functions that kbuild's object of
/// it defines.
fn check_source(build: &Path, rec: &kbuild::Recorded, compiled: &[u8]) -> Result<()> {
    let kernel = read(&build.join(&rec.object))?;
    let differ = compare::function_differences(&kernel, compiled)
        .map_err(|e| KlpError::error(format!("comparing {} with the build: {e}", rec.file)))?;
    if differ.is_empty() {
        return Ok(());
    }
    Err(KlpError::error(format!(
        "{} does not compile to what {} has (functions only in one of them: {}): the \
         source tree is not the one this kernel was built from, or the build is older \
         than it; build the kernel from this source tree first",
        rec.file,
        build.join(&rec.object).display(),
        differ.join(", ")
    )))
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
