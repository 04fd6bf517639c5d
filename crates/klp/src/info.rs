// SPDX-License-Identifier: GPL-2.0
//! `klp info FILE.ko`: what a module file is, whether it fits the running
//! kernel and what it patches, read from the file without loading it.

use crate::commands::{print_json, Ctx, Io};
use crate::elf::{self, PatchedObject};
use crate::error::{KlpError, Result};
use serde::Serialize;
use std::fs;
use std::io::Write;
use std::path::Path;

/// What module signing (scripts/sign-file) appends to a module file.
const SIGNATURE_MAGIC: &[u8] = b"~Module signature appended~\n";

#[derive(Serialize)]
struct Info<'a> {
    file: String,
    name: Option<&'a str>,
    livepatch: bool,
    license: Option<&'a str>,
    vermagic: Option<&'a str>,
    depends: Vec<&'a str>,
    srcversion: Option<&'a str>,
    /// The running kernel's release (uname -r), if it could be read.
    kernel_release: Option<String>,
    /// The release equals vermagic's first word; null if either is unknown.
    vermagic_matches: Option<bool>,
    signature_appended: bool,
    /// What the module patches; null when it could not be determined.
    objects: Option<Vec<PatchedObject>>,
    /// Why `objects` could not be determined.
    objects_unknown: Option<String>,
    /// The objects that `.klp.rela.<object>.*` sections relocate against.
    klp_relocation_objects: Vec<String>,
    #[serde(skip)]
    kernel_error: Option<String>,
}

pub fn info(ctx: &Ctx, io: &mut Io, file: &Path) -> Result<()> {
    let f = file.display();
    let bytes = fs::read(file).map_err(|e| KlpError::io(format!("reading {f}"), &e))?;
    let bad = |e: elf::ElfError| KlpError::error(format!("{f}: {e}"));
    let elf_file = elf::parse(&bytes).map_err(bad)?;
    let mi = elf::modinfo(&elf_file).map_err(bad)?;
    let livepatch = mi.is_livepatch();
    let (objects, objects_unknown) = if !livepatch {
        (Some(Vec::new()), None)
    } else {
        match elf::patched_objects(&elf_file) {
            Ok(o) if !o.is_empty() => (Some(o), None),
            Ok(_) => (
                None,
                Some(
                    "no struct klp_patch found through the relocations of its data; \
                 a patch built at run time cannot be read from the file"
                        .into(),
                ),
            ),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    let (kernel_release, kernel_error) = match ctx.env.kernel_release() {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.message)),
    };
    let vermagic = mi.get("vermagic");
    let built_for = vermagic.and_then(|v| v.split_whitespace().next());
    let info = Info {
        file: f.to_string(),
        name: mi.get("name"),
        livepatch,
        license: mi.get("license"),
        vermagic,
        depends: mi
            .get("depends")
            .map(|d| d.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        srcversion: mi.get("srcversion"),
        vermagic_matches: kernel_release
            .as_deref()
            .zip(built_for)
            .map(|(k, b)| k == b),
        kernel_release,
        signature_appended: bytes.ends_with(SIGNATURE_MAGIC),
        objects,
        objects_unknown,
        klp_relocation_objects: elf::klp_rela_objects(&elf_file),
        kernel_error,
    };
    if ctx.json {
        return print_json(io, &info);
    }
    write_text(io.out, &info, built_for);
    Ok(())
}

fn write_text(out: &mut dyn Write, i: &Info, built_for: Option<&str>) {
    const MISSING: &str = "(not in .modinfo)";
    let or_missing = |v: Option<&str>| v.unwrap_or(MISSING).to_string();
    let kernel = match (&i.kernel_release, i.vermagic_matches) {
        (Some(k), Some(true)) => format!("{k} (matches vermagic)"),
        (Some(k), Some(false)) => format!(
            "{k} (differs: the module is built for {}; the kernel refuses it)",
            built_for.unwrap_or_default()
        ),
        (Some(k), None) => format!("{k} (no vermagic to compare)"),
        (None, _) => format!(
            "unknown ({})",
            i.kernel_error.as_deref().unwrap_or_default()
        ),
    };
    let depends = if i.depends.is_empty() {
        "(none)".to_string()
    } else {
        i.depends.join(",")
    };
    let lines = [
        ("file", i.file.clone()),
        ("name", or_missing(i.name)),
        (
            "livepatch",
            if i.livepatch {
                "yes"
            } else {
                "no (no livepatch=Y)"
            }
            .into(),
        ),
        ("license", or_missing(i.license)),
        ("vermagic", or_missing(i.vermagic.map(str::trim_end))),
        ("kernel", kernel),
        ("depends", depends),
        ("srcversion", or_missing(i.srcversion)),
        (
            "signature",
            if i.signature_appended {
                "appended"
            } else {
                "none"
            }
            .into(),
        ),
    ];
    for (k, v) in lines {
        let _ = writeln!(out, "{:<12}{v}", format!("{k}:"));
    }
    match (&i.objects, &i.objects_unknown) {
        (Some(objs), _) if objs.is_empty() => {
            let _ = writeln!(out, "objects:    none (not a livepatch module)");
        }
        (Some(objs), _) => {
            let _ = writeln!(out, "objects:");
            for o in objs {
                let _ = writeln!(out, "  {}", o.name);
                if o.functions.is_empty() {
                    let _ = writeln!(out, "    (no klp_func entries found)");
                }
                for f in &o.functions {
                    let new = f.new_func.as_deref().map(|n| format!(" -> {n}"));
                    let _ = writeln!(
                        out,
                        "    {},{}{}",
                        f.name,
                        f.sympos,
                        new.unwrap_or_default()
                    );
                }
            }
        }
        (None, why) => {
            let _ = writeln!(
                out,
                "objects:    could not be determined ({})",
                why.as_deref().unwrap_or_default()
            );
        }
    }
    if !i.klp_relocation_objects.is_empty() {
        let _ = writeln!(
            out,
            "klp relocations against: {}",
            i.klp_relocation_objects.join(", ")
        );
    }
}
