// SPDX-License-Identifier: GPL-2.0
//! `klp load` and `klp unload`, one patch or all: the patch module in and out
//! of the kernel.

use super::output::report;
use super::switch::write_enabled_error;
use super::wait::{finished, wait_transition};
use super::{busy_with_other, require_root, Ctx, Io};
use crate::compressed;
use crate::elf;
use crate::error::{describe_io, Kind, KlpError, Result};
use crate::model;
use crate::stack;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

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
    use super::super::testing::*;
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

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
