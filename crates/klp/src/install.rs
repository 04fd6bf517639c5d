// SPDX-License-Identifier: GPL-2.0
//! Installed patches: `klp install`, `klp uninstall`, and the modules that `klp load NAME` and
//! `klp load --all` find, kept per kernel release in `/var/lib/klp/<release>/<name>.ko`.
//!
//! A module is installed for one kernel release only: its vermagic must start with that
//! release, so that a boot-time `klp load --all` never offers a kernel a patch built for
//! another (the kernel would refuse it with ENOEXEC anyway, after the fact).

use crate::commands::{report, Ctx, Io};
use crate::elf;
use crate::error::{KlpError, Result};
use crate::model;
use std::fs;
use std::path::Path;

/// The release to install for: `-k RELEASE`, else the running kernel's.
fn target_release(ctx: &Ctx, release: Option<&str>) -> Result<String> {
    match release {
        Some(r) => Ok(r.to_string()),
        None => ctx.env.kernel_release(),
    }
}

/// `klp install [-k RELEASE] FILE`: copies a livepatch module into the directory of the
/// release its vermagic names.
pub fn install(ctx: &Ctx, io: &mut Io, file: &Path, release: Option<&str>) -> Result<()> {
    let f = file.display();
    let bytes = fs::read(file).map_err(|e| KlpError::io(format!("reading {f}"), &e))?;
    let info = elf::read_modinfo(&bytes).map_err(|e| KlpError::error(format!("{f}: {e}")))?;
    if info.get("livepatch") != Some("Y") {
        return Err(KlpError::error(format!(
            "{f}: not a livepatch module (its .modinfo has no livepatch=Y)"
        )));
    }
    let name = info
        .get("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| KlpError::error(format!("{f}: its .modinfo has no name")))?
        .to_string();
    let release = target_release(ctx, release)?;
    let vermagic = info.get("vermagic").unwrap_or("");
    if vermagic.split_whitespace().next() != Some(release.as_str()) {
        return Err(KlpError::error(format!(
            "{f} was built for kernel '{}', not '{release}' (vermagic '{vermagic}'): \
             build it against {release}, or name its release with -k",
            vermagic.split_whitespace().next().unwrap_or("?")
        )));
    }
    if !ctx.kernel.is_root() {
        return Err(KlpError::permission("installing a livepatch requires root"));
    }
    let dir = model::release_dir(&ctx.env, &release)?;
    fs::create_dir_all(&dir).map_err(|e| KlpError::io(dir.display(), &e))?;
    let dest = dir.join(format!("{name}.ko"));
    // Copy beside, then rename: a boot that reads the directory meanwhile sees the old
    // module or the new one, never half of one.
    let tmp = dir.join(format!(".{name}.ko.tmp"));
    fs::write(&tmp, &bytes)
        .and_then(|()| fs::rename(&tmp, &dest))
        .map_err(|e| KlpError::io(dest.display(), &e))?;
    let msg = format!("{name}: installed for {release} ({})", dest.display());
    report(ctx, io, "install", &name, "installed", msg)
}

/// `klp uninstall [-k RELEASE] NAME`: removes an installed patch module (a loaded patch
/// stays loaded).
pub fn uninstall(ctx: &Ctx, io: &mut Io, name: &str, release: Option<&str>) -> Result<()> {
    let name = model::patch_name(name)?;
    let release = target_release(ctx, release)?;
    let file = model::release_dir(&ctx.env, &release)?.join(format!("{name}.ko"));
    if !file.is_file() {
        return Err(KlpError::not_found(format!(
            "no livepatch '{name}' installed for {release} ({} does not exist)",
            file.display()
        )));
    }
    if !ctx.kernel.is_root() {
        return Err(KlpError::permission(
            "uninstalling a livepatch requires root",
        ));
    }
    fs::remove_file(&file).map_err(|e| KlpError::io(file.display(), &e))?;
    let msg = format!("{name}: uninstalled for {release}");
    report(ctx, io, "uninstall", &name, "uninstalled", msg)
}
